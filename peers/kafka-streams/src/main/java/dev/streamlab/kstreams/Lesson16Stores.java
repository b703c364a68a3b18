package dev.streamlab.kstreams;

import java.util.List;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Lesson 16's state stores in Kafka Streams: per-customer and per-product aggregates, each in a
 * key-value store (RocksDB, with a changelog topic) that {@link StoreServer} answers queries
 * from over HTTP, the stores of every instance together.
 *
 * <pre>
 *   orders ─ judge ─ valid ─ line items ─┬─ groupBy customer ─ aggregate ─► store customer-orders ─► ks-store-customer-orders
 *                                        └─ groupBy product ── aggregate ─► store product-sales ──► ks-store-product-sales
 * </pre>
 *
 * <p>The PyFlink job writes its aggregates into compacted topics, because Flink's state cannot
 * be queried from outside; here the store is queried where it lives, and the topics are its
 * updates, for the oracle.
 */
public final class Lesson16Stores {

    public static final String JOB = "ks-lesson16-stores";
    public static final String CUSTOMER_ORDERS = "customer-orders";
    public static final String PRODUCT_SALES = "product-sales";
    /** The stores {@link StoreServer} answers for. */
    public static final List<String> STORES = List.of(CUSTOMER_ORDERS, PRODUCT_SALES);

    private Lesson16Stores() {
    }

    // --8<-- [start:stores]
    public static Topology build() {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<byte[], LineItem> items = Judge.stream(builder, "orders")
                .filter((key, order) -> order.valid(), Named.as("valid-orders"))
                .flatMapValues(order -> Events.lineItems(order.doc()), Named.as("line-items"));
        items.groupBy((orderId, item) -> item.customerId(), Grouped.with("by-customer", Serdes.String(),
                        Json.serde(LineItem.class)))
                .aggregate(() -> CustomerOrders.NONE, (customerId, item, total) -> total.plus(customerId, item),
                        Named.as("customer-totals"), store(CUSTOMER_ORDERS, CustomerOrders.class))
                .toStream()
                .to("ks-store-customer-orders", Produced.with(Serdes.String(), Json.serde(CustomerOrders.class)));
        items.groupBy((orderId, item) -> item.productId(), Grouped.with("by-product", Serdes.String(),
                        Json.serde(LineItem.class)))
                .aggregate(() -> ProductSales.NONE, (productId, item, total) -> total.plus(productId, item),
                        Named.as("product-totals"), store(PRODUCT_SALES, ProductSales.class))
                .toStream()
                .to("ks-store-product-sales", Produced.with(Serdes.String(), Json.serde(ProductSales.class)));
        return builder.build();
    }

    /** A queryable key-value store (RocksDB, with a changelog topic) named {@code name}. */
    private static <V> Materialized<String, V, KeyValueStore<Bytes, byte[]>> store(String name, Class<V> type) {
        return Materialized.<String, V, KeyValueStore<Bytes, byte[]>>as(name)
                .withKeySerde(Serdes.String()).withValueSerde(Json.serde(type));
    }
    // --8<-- [end:stores]

    /** A customer's orders (an order counts at its first line item), items, revenue and last order. */
    public record CustomerOrders(String customerId, long orders, long items, long revenueCents, long lastOrderMs) {
        static final CustomerOrders NONE = new CustomerOrders(null, 0, 0, 0, Long.MIN_VALUE);

        CustomerOrders plus(String customerId, LineItem item) {
            return new CustomerOrders(customerId, orders + (item.lineNo() == 1 ? 1 : 0), items + item.quantity(),
                    revenueCents + item.lineTotalCents(), Math.max(lastOrderMs, item.tsMs()));
        }
    }

    /** A product's order lines, units, revenue and last order. */
    public record ProductSales(String productId, long lines, long units, long revenueCents, long lastOrderMs) {
        static final ProductSales NONE = new ProductSales(null, 0, 0, 0, Long.MIN_VALUE);

        ProductSales plus(String productId, LineItem item) {
            return new ProductSales(productId, lines + 1, units + item.quantity(), revenueCents + item.lineTotalCents(),
                    Math.max(lastOrderMs, item.tsMs()));
        }
    }
}
