package dev.streamlab.kstreams;

import java.util.List;
import java.util.function.Function;

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
        aggregate(items, LineItem::customerId, CUSTOMER_ORDERS, CustomerOrders.NONE, CustomerOrders::plus,
                CustomerOrders.class);
        aggregate(items, LineItem::productId, PRODUCT_SALES, ProductSales.NONE, ProductSales::plus,
                ProductSales.class);
        return builder.build();
    }

    /**
     * The line items grouped by {@code by} (a repartition topic), added up by {@code plus} into
     * the queryable key-value store {@code store} (RocksDB, with a changelog topic), whose
     * updates go to {@code ks-store-<store>}.
     */
    private static <V> void aggregate(KStream<byte[], LineItem> items, Function<LineItem, String> by, String store,
                                      V none, Adder<V> plus, Class<V> type) {
        items.groupBy((key, item) -> by.apply(item), Grouped.with("by-" + store, Serdes.String(),
                        Json.serde(LineItem.class)))
                .aggregate(() -> none, (key, item, total) -> plus.add(total, key, item), Named.as(store + "-totals"),
                        Materialized.<String, V, KeyValueStore<Bytes, byte[]>>as(store)
                                .withKeySerde(Serdes.String()).withValueSerde(Json.serde(type)))
                .toStream()
                .to("ks-store-" + store, Produced.with(Serdes.String(), Json.serde(type)));
    }

    /** How a total takes one more line item of its key. */
    @FunctionalInterface
    interface Adder<V> {
        V add(V total, String key, LineItem item);
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
