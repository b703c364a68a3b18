package dev.streamlab.kstreams;

import static dev.streamlab.kstreams.Driver.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

class Lesson16StoresTest {

    private static String order(String id, String customer, long tsMs, String items) {
        return "{\"schema_version\":1,\"order_id\":\"" + id + "\",\"customer_id\":\"" + customer
                + "\",\"currency\":\"EUR\",\"ts_ms\":" + tsMs + ",\"items\":[" + items + "]}";
    }

    private static String item(String product, int quantity, long price) {
        return "{\"product_id\":\"" + product + "\",\"category\":\"home\",\"quantity\":" + quantity
                + ",\"unit_price_cents\":" + price + "}";
    }

    @Test
    void eachStoreHoldsItsKeysAggregatesAndAnOrderCountsOnce() {
        try (Driver d = new Driver(Lesson16Stores.build())) {
            d.send("orders", "o-1", order("o-1", "c-1", T0, item("p-1", 2, 100) + "," + item("p-2", 1, 50)), T0);
            d.send("orders", "o-2", order("o-2", "c-1", T0 + 9_000, item("p-1", 1, 100)), T0 + 9_000);
            d.send("orders", "o-3", "{\"order_id\":\"o-3\"}", T0 + 10_000);  // invalid: counted nowhere

            KeyValueStore<String, Lesson16Stores.CustomerOrders> customers =
                    d.driver.getKeyValueStore(Lesson16Stores.CUSTOMER_ORDERS);
            assertEquals(new Lesson16Stores.CustomerOrders("c-1", 2, 4, 350, T0 + 9_000), customers.get("c-1"));
            KeyValueStore<String, Lesson16Stores.ProductSales> products =
                    d.driver.getKeyValueStore(Lesson16Stores.PRODUCT_SALES);
            assertEquals(new Lesson16Stores.ProductSales("p-1", 2, 3, 300, T0 + 9_000), products.get("p-1"));
            assertNull(products.get("p-9"));
            List<String> updates = d.read("ks-store-customer-orders").stream().map(r -> r.value()).toList();
            assertEquals("{\"customer_id\":\"c-1\",\"orders\":2,\"items\":4,\"revenue_cents\":350,\"last_order_ms\":"
                    + (T0 + 9_000) + "}", updates.get(updates.size() - 1));
        }
    }

    @Test
    void aBadQueryGetsA4xxWithAMessageBeforeAnyStoreIsAsked() throws Exception {
        try (StoreServer server = new StoreServer(null, new HostInfo("127.0.0.1", 0), Lesson16Stores.STORES)) {
            assertEquals(405, server.respond("POST", "/stores/customer-orders/c-1", null).status());
            assertEquals(404, server.respond("GET", "/stores/nothing/c-1", null).status());
            assertEquals(404, server.respond("GET", "/elsewhere", null).status());
            assertEquals(400, server.respond("GET", "/stores/customer-orders/", null).status());
            assertEquals(400, server.respond("GET", "/stores/customer-orders/%ZZ", null).status());
            assertEquals(400, server.respond("GET", "/stores/customer-orders/" + "x".repeat(300), null).status());
            String message = new String(server.respond("GET", "/stores/nothing/c-1", null).body());
            assertEquals("{\"error\":\"no store 'nothing': choose one of [customer-orders, product-sales]\"}", message);
        }
    }
}
