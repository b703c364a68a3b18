package dev.streamlab.kstreams;

import static dev.streamlab.kstreams.Driver.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

class Lesson15JoinsTest {

    private static final long MINUTE = 60_000;

    private static String order(String id, String customer, long tsMs, String product) {
        return "{\"schema_version\":1,\"order_id\":\"" + id + "\",\"customer_id\":\"" + customer
                + "\",\"currency\":\"EUR\",\"ts_ms\":" + tsMs + ",\"items\":[{\"product_id\":\"" + product
                + "\",\"category\":\"home\",\"quantity\":2,\"unit_price_cents\":150}]}";
    }

    private static String payment(String id, String orderId, long tsMs) {
        return "{\"schema_version\":1,\"payment_id\":\"" + id + "\",\"order_id\":\"" + orderId
                + "\",\"card_id\":\"card-1\",\"country\":\"DE\",\"amount_cents\":300,\"ts_ms\":" + tsMs + "}";
    }

    private static String customer(String id, String tier, long tsMs) {
        return "{\"schema_version\":1,\"customer_id\":\"" + id + "\",\"name\":\"Ada\",\"tier\":\"" + tier
                + "\",\"country\":\"DE\",\"region\":\"central\",\"ts_ms\":" + tsMs + "}";
    }

    private static String product(String id, long price, long tsMs) {
        return "{\"schema_version\":1,\"product_id\":\"" + id + "\",\"name\":\"Lamp\",\"category\":\"home\","
                + "\"price_cents\":" + price + ",\"ts_ms\":" + tsMs + "}";
    }

    private static List<String> values(Driver d, String topic) {
        return d.read(topic).stream().map(TestRecord::value).toList();
    }

    /** The heartbeats that close a data set, on every input. */
    private static void close(Driver d, long tsMs) {
        for (String topic : List.of("orders", "payments", "customers")) {
            d.heartbeat(topic, tsMs);
        }
    }

    @Test
    void aPaymentWithinFifteenMinutesPaysItsOrderAndTheOthersAreUnpaidOnceTheHeartbeatsCloseThem() {
        try (Driver d = new Driver(Lesson15Joins.build())) {
            d.send("orders", "o-1", order("o-1", "c-1", T0, "p-1"), T0);
            d.send("orders", "o-2", order("o-2", "c-1", T0 + 1_000, "p-1"), T0 + 1_000);
            d.send("payments", "o-1", payment("pay-1", "o-1", T0 + 15 * MINUTE), T0 + 15 * MINUTE);
            // one millisecond past the 15 minutes: too late to pay o-2
            d.send("payments", "o-2", payment("pay-2", "o-2", T0 + 1_000 + 15 * MINUTE + 1), T0 + 16 * MINUTE);
            assertEquals(List.of(), values(d, "ks-unpaid-orders"), "no order is unpaid before the join's grace");
            close(d, T0 + 60 * MINUTE);

            assertEquals(List.of("{\"order_id\":\"o-1\",\"customer_id\":\"c-1\",\"order_ts_ms\":" + T0
                    + ",\"payment_id\":\"pay-1\",\"card_id\":\"card-1\",\"payment_country\":\"DE\","
                    + "\"amount_cents\":300,\"paid_after_ms\":900000}"), values(d, "ks-paid-orders"));
            assertEquals(List.of("{\"order_id\":\"o-2\",\"customer_id\":\"c-1\",\"order_ts_ms\":" + (T0 + 1_000)
                    + ",\"deadline_ms\":" + (T0 + 1_000 + 15 * MINUTE) + "}"), values(d, "ks-unpaid-orders"));
        }
    }

    @Test
    void lateIsJudgedByTheRecordsOwnPartitionNotByTheOtherTopicThatRanAhead() {
        try (Driver d = new Driver(Lesson15Joins.build())) {
            d.send("payments", "o-9", payment("pay-9", "o-9", T0 + 30 * MINUTE), T0 + 30 * MINUTE);
            d.send("orders", "o-1", order("o-1", "c-1", T0 + 10 * MINUTE, "p-1"), T0 + 10 * MINUTE);
            d.send("orders", "o-2", order("o-2", "c-1", T0 + 8 * MINUTE, "p-1"), T0 + 10 * MINUTE);
            d.send("orders", "o-3", order("o-3", "c-1", T0 + 8 * MINUTE + 1, "p-1"), T0 + 10 * MINUTE);
            close(d, T0 + 90 * MINUTE);

            assertEquals(List.of("{\"origin\":\"orders\",\"id\":\"o-2\",\"ts_ms\":" + (T0 + 8 * MINUTE)
                    + ",\"source_topic\":\"orders\",\"source_partition\":0,\"source_offset\":1}"),
                    values(d, "ks-joins-late"));
            assertEquals(List.of("o-1", "o-3"),
                    d.read("ks-unpaid-orders").stream().map(TestRecord::key).sorted().toList());
        }
    }

    @Test
    void anOrderTakesTheCustomerAsOfItsTimeEvenWhenThatVersionCameAfterIt() {
        try (Driver d = new Driver(Lesson15Joins.build())) {
            d.send("customers", "c-1", customer("c-1", "bronze", T0), T0);
            d.send("customers", "c-1", customer("c-1", "gold", T0 + 5 * MINUTE), T0 + 5 * MINUTE);
            d.send("orders", "o-1", order("o-1", "c-1", T0 + 4 * MINUTE, "p-1"), T0 + 5 * MINUTE);
            d.send("orders", "o-2", order("o-2", "c-1", T0 + 6 * MINUTE, "p-1"), T0 + 6 * MINUTE);
            d.send("orders", "o-3", order("o-3", "c-2", T0 + 6 * MINUTE, "p-1"), T0 + 6 * MINUTE);
            // c-1 turned silver at 5:30, a record that came after o-2 (6:00) but within its grace
            d.send("customers", "c-1", customer("c-1", "silver", T0 + 5 * MINUTE + 30_000), T0 + 6 * MINUTE);
            close(d, T0 + 60 * MINUTE);

            assertEquals(List.of(
                    "{\"order_id\":\"o-1\",\"customer_id\":\"c-1\",\"ts_ms\":" + (T0 + 4 * MINUTE)
                            + ",\"customer_name\":\"Ada\",\"tier\":\"bronze\",\"country\":\"DE\",\"region\":\"central\","
                            + "\"customer_version_ms\":" + T0 + "}",
                    "{\"order_id\":\"o-2\",\"customer_id\":\"c-1\",\"ts_ms\":" + (T0 + 6 * MINUTE)
                            + ",\"customer_name\":\"Ada\",\"tier\":\"silver\",\"country\":\"DE\",\"region\":\"central\","
                            + "\"customer_version_ms\":" + (T0 + 5 * MINUTE + 30_000) + "}",
                    "{\"order_id\":\"o-3\",\"customer_id\":\"c-2\",\"ts_ms\":" + (T0 + 6 * MINUTE)
                            + ",\"customer_name\":null,\"tier\":null,\"country\":null,\"region\":null,"
                            + "\"customer_version_ms\":null}"),
                    values(d, "ks-orders-enriched"));
        }
    }

    @Test
    void aLineItemTakesItsProductAsTheGlobalTableHoldsItAndABadProductRecordLeavesNone() {
        try (Driver d = new Driver(Lesson15Joins.build())) {
            d.send("products", "p-1", product("p-1", 150, T0), T0);
            d.send("orders", "o-1", order("o-1", "c-1", T0 + MINUTE, "p-1"), T0 + MINUTE);
            d.send("products", "p-1", product("p-1", 180, T0 + 2 * MINUTE), T0 + 2 * MINUTE);
            d.send("orders", "o-2", order("o-2", "c-1", T0 + MINUTE, "p-1"), T0 + 2 * MINUTE);
            d.send("products", "p-1", "{\"product_id\":\"p-1\",\"price_cents\":\"free\"}", T0 + 3 * MINUTE);
            d.heartbeat("products", T0 + 60 * MINUTE);
            d.send("orders", "o-3", order("o-3", "c-1", T0 + 4 * MINUTE, "p-1"), T0 + 4 * MINUTE);
            d.send("orders", "o-4", order("o-4", "c-1", T0 + 4 * MINUTE, "p-2"), T0 + 4 * MINUTE);

            // o-2 was placed at 1:00, before the reprice at 2:00, and still takes 180: as loaded
            assertEquals(List.of("o-1 150 " + T0, "o-2 180 " + (T0 + 2 * MINUTE), "o-3 null null", "o-4 null null"),
                    values(d, "ks-items-enriched").stream().map(v -> v.replaceAll(
                            ".*\"order_id\":\"([^\"]+)\".*\"list_price_cents\":(\\w+),\"product_version_ms\":(\\w+).*",
                            "$1 $2 $3")).toList());
        }
    }
}
