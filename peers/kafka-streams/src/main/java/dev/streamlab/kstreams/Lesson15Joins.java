package dev.streamlab.kstreams;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Lesson 15's joins in Kafka Streams: the interval join of orders and payments (paid and
 * unpaid), a {@code KTable} join with the customers and a {@code GlobalKTable} join with the
 * products.
 *
 * <pre>
 *   orders ──┬─ judge (partition time) ─┬─ late ───────────────────────────────────► ks-joins-late
 *   payments ┘                          └─ on time ─ orders ⟕ payments (JoinWindows 15 min) ─┬─► ks-paid-orders
 *                                                                                             └─► ks-unpaid-orders
 *   on-time orders ─ repartition by customer ─ ⟕ customers (versioned KTable, as of the order) ► ks-orders-enriched
 *   on-time line items ─ ⟕ products (GlobalKTable, as loaded) ─────────────────────────────► ks-items-enriched
 * </pre>
 *
 * <p><b>Stream time.</b> A join's task reads a partition of each topic, so its stream time is the
 * larger of both. Judged by it, an order would be late because payments ran ahead; the judge
 * keeps each partition's own stream time instead ({@link Judge#partitionTimed}), as the PyFlink
 * job's per-partition watermarks and the oracle do, so the same records are late.
 *
 * <p><b>Keys.</b> Kafka Streams joins two streams by their record keys, over co-partitioned
 * topics; {@code orders} and {@code payments} are both keyed by the order id with the same
 * number of partitions, so the interval join reads them as they are. Keying by the JSON's
 * {@code order_id} instead would go through repartition topics, where the three partitions
 * interleave as their tasks happen to write and the join's stream time could pass an order
 * before its payment came. So a record whose key is not its order id joins by its key (the
 * oracle's {@code record_keys} parameter).
 *
 * <p><b>The customers table</b> is the {@code customers} topic as it is (keyed by customer id, one
 * partition), its valid records as versions: the orders go through a repartition topic to meet
 * it, the table does not. Repartitioned too, the versions would reach the join at their own
 * task's pace, and a backlog's orders could come before the versions of their time: in a dev
 * run, 298 of 2,066 orders took an older version. Read from the topic, they come in event-time
 * order beside the orders (a task takes the earliest record of its partitions first).
 *
 * <p><b>Time in the joins.</b> An unpaid order is emitted once the join's stream time passes its
 * 15 minutes plus the join's grace ({@link #JOIN_GRACE}); every on-time record comes within it,
 * so none is dropped and no order is emitted unpaid before its payment. The heartbeats go
 * through the joins (and out of them again) so that the last orders of a data set close, as the
 * PyFlink job's watermark closes them. The customer join buffers each order for
 * {@link #TABLE_GRACE} of stream time before it looks the customer up as of the order's time,
 * so a version that came a little after the order is still found.
 *
 * <p>Kafka Streams 4.1.1 counts the grace buffer's orders in memory from zero when it restores
 * the buffer, so after a restart with orders buffered the count runs behind, and when it reads
 * zero the buffer's next scan starts after the orders still in it: they are never joined (the
 * stream-table page's warning). Runs without a restart are exact.
 *
 * <p><b>The global table</b> is read whole before the first order is joined, then as it
 * changes, by a thread of its own: an order takes each product as loaded when it is processed,
 * not as it was at the order's time. It is the topic itself, keyed by the record key, each
 * key's last record deciding (one that breaks the rules is no product). The oracle checks
 * against that (its {@code products="loaded"} parameter), which is what the peer sees on data
 * that was in the topic before it started.
 */
public final class Lesson15Joins {

    public static final String JOB = "ks-lesson15-joins";
    /** An order or payment this far behind its partition's stream time is too late to join. */
    public static final Duration LATE_AFTER = Duration.ofMinutes(2);
    public static final Duration PAYMENT_WITHIN = Duration.ofMinutes(15);
    /** Longer than an on-time record can lag the join's stream time: its own two minutes and
     * the other topic's lead, which the task's choosing of the earliest record keeps to seconds. */
    public static final Duration JOIN_GRACE = Duration.ofMinutes(10);
    /** How long an order waits, in stream time, for the customer versions of its time. */
    public static final Duration TABLE_GRACE = Duration.ofMinutes(2);
    /** How far back the customers' versions reach: further than data sets of other months. */
    public static final Duration HISTORY = Duration.ofDays(365);

    private Lesson15Joins() {
    }

    public static Topology build() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Judge.partitionTimeStore());
        KStream<byte[], Event> orders = onTime(builder, "orders", "order_id");
        KStream<byte[], Event> payments = onTime(builder, "payments", "payment_id");
        paidAndUnpaid(orders, payments);
        withCustomers(builder, orders);
        withProducts(builder, orders);
        return builder.build();
    }

    /** The valid records of {@code stream} (and its heartbeats) that are on time; late ones to ks-joins-late. */
    private static KStream<byte[], Event> onTime(StreamsBuilder builder, String stream, String idField) {
        var branches = Judge.partitionTimed(builder, stream)
                .filter((key, event) -> event.valid() || event.heartbeat(), Named.as("valid-" + stream))
                .split(Named.as(stream + "-"))
                .branch((key, event) -> event.valid() && late(event.tsMs(), event.streamTimeMs()),
                        Branched.withConsumer(late -> late
                                .map((key, event) -> KeyValue.pair(event.text(idField), Late.of(stream, idField, event)),
                                        Named.as("late-" + stream))
                                .to("ks-joins-late", Produced.with(Serdes.String(), Json.serde(Late.class))), "late"))
                .defaultBranch(Branched.as("on-time"));
        return branches.get(stream + "-on-time");
    }

    static boolean late(long tsMs, long streamTimeMs) {
        return tsMs <= streamTimeMs - LATE_AFTER.toMillis();
    }

    // The join's window stores on the heap (changelogged all the same): 25 minutes of orders and
    // payments per partition. In RocksDB a window store is a RocksDB instance per segment of
    // 12.5 minutes, opened and dropped as event time moves: in a backlog spanning hours, most of
    // the drain was spent opening and deleting them (thread dumps of a 100,000-event drain).
    // --8<-- [start:interval_join]
    private static void paidAndUnpaid(KStream<byte[], Event> orders, KStream<byte[], Event> payments) {
        orders.mapValues(Order::of, Named.as("order-rows"))
                .leftJoin(payments.mapValues(Payment::of, Named.as("payment-rows")), Match::new,
                        JoinWindows.ofTimeDifferenceAndGrace(PAYMENT_WITHIN, JOIN_GRACE).before(Duration.ZERO),
                        StreamJoined.with(Serdes.ByteArray(), Json.serde(Order.class), Json.serde(Payment.class))
                                .withStoreName("orders-payments")
                                .withDslStoreSuppliers(new BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers()))
                .filterNot((key, match) -> match.order().heartbeat(), Named.as("no-heartbeats"))
                .split(Named.as("matches-"))
                .branch((key, match) -> match.payment() != null, Branched.withConsumer(paid -> paid
                        .map((key, match) -> KeyValue.pair(match.order().orderId(), PaidOrder.of(match)))
                        .to("ks-paid-orders", Produced.with(Serdes.String(), Json.serde(PaidOrder.class))), "paid"))
                .defaultBranch(Branched.withConsumer(unpaid -> unpaid
                        .map((key, match) -> KeyValue.pair(match.order().orderId(), UnpaidOrder.of(match.order())))
                        .to("ks-unpaid-orders", Produced.with(Serdes.String(), Json.serde(UnpaidOrder.class))), "unpaid"));
    }
    // --8<-- [end:interval_join]

    // --8<-- [start:ktable_join]
    private static void withCustomers(StreamsBuilder builder, KStream<byte[], Event> orders) {
        KTable<byte[], Customer> customers = Judge.stream(builder, "customers")
                .filter((key, customer) -> customer.valid(), Named.as("valid-customers"))
                .mapValues(customer -> Customer.of(customer.doc()), Named.as("customer-rows"))
                .toTable(Named.as("customers-table"), Materialized.<byte[], Customer>as(
                                Stores.persistentVersionedKeyValueStore("customers", HISTORY))
                        .withKeySerde(Serdes.ByteArray()).withValueSerde(Json.serde(Customer.class)));
        orders.map((key, order) -> KeyValue.pair(customerKey(order), Order.of(order)), Named.as("by-customer"))
                .repartition(Repartitioned.<byte[], Order>as("orders-by-customer")
                        .withKeySerde(Serdes.ByteArray()).withValueSerde(Json.serde(Order.class))
                        .withStreamPartitioner(Lesson15Joins::heartbeatsEverywhere))
                .leftJoin(customers, EnrichedOrder::of,
                        Joined.with(Serdes.ByteArray(), Json.serde(Order.class), Json.serde(Customer.class),
                                "customer-of", TABLE_GRACE))
                .filterNot((customerId, enriched) -> enriched == null, Named.as("no-heartbeat-orders"))
                .map((customerId, enriched) -> KeyValue.pair(enriched.orderId(), enriched))
                .to("ks-orders-enriched", Produced.with(Serdes.String(), Json.serde(EnrichedOrder.class)));
    }
    // --8<-- [end:ktable_join]

    /** An order's customer as the customers topic keys it (UTF-8); a heartbeat's is empty. */
    static byte[] customerKey(Event order) {
        return order.heartbeat() ? new byte[0] : order.text("customer_id").getBytes(StandardCharsets.UTF_8);
    }

    /** Customers decide an order's partition; a heartbeat goes to every partition, to move each one's time. */
    static Optional<Set<Integer>> heartbeatsEverywhere(String topic, byte[] customerId, Order order, int partitions) {
        return order.heartbeat() ? Optional.of(IntStream.range(0, partitions).boxed().collect(Collectors.toSet()))
                : Optional.empty();
    }

    // --8<-- [start:global_ktable_join]
    private static void withProducts(StreamsBuilder builder, KStream<byte[], Event> orders) {
        GlobalKTable<String, Product> products = builder.globalTable("products",
                Consumed.with(Serdes.String(), Product.READ),
                Materialized.<String, Product, KeyValueStore<Bytes, byte[]>>as("products"));
        orders.filter((key, order) -> order.valid(), Named.as("orders-not-heartbeats"))
                .flatMapValues(order -> Events.lineItems(order.doc()), Named.as("line-items"))
                .leftJoin(products, (key, item) -> item.productId(), EnrichedItem::of, Named.as("product-of"))
                .map((key, item) -> KeyValue.pair(item.orderId(), item))
                .to("ks-items-enriched", Produced.with(Serdes.String(), Json.serde(EnrichedItem.class)));
    }
    // --8<-- [end:global_ktable_join]

    /** An order as the joins keep it (a heartbeat too, which only moves their time). */
    public record Order(String orderId, String customerId, long tsMs, boolean heartbeat) {
        static Order of(Event order) {
            return order.heartbeat() ? new Order(null, "", order.streamTimeMs(), true)
                    : new Order(order.text("order_id"), order.text("customer_id"), order.tsMs(), false);
        }
    }

    /** A payment as the join keeps it (a heartbeat's fields are null). */
    public record Payment(String paymentId, String cardId, String country, Long amountCents, long tsMs) {
        static Payment of(Event payment) {
            return payment.heartbeat() ? new Payment(null, null, null, null, payment.streamTimeMs())
                    : new Payment(payment.text("payment_id"), payment.text("card_id"), payment.text("country"),
                            Long.parseLong(payment.text("amount_cents")), payment.tsMs());
        }
    }

    /** What the interval join emits: an order and its payment, or no payment (null). */
    record Match(Order order, Payment payment) {
    }

    /** The columns of {@code l15-paid-orders}. */
    public record PaidOrder(String orderId, String customerId, long orderTsMs, String paymentId, String cardId,
                            String paymentCountry, Long amountCents, long paidAfterMs) {
        static PaidOrder of(Match match) {
            Order o = match.order();
            Payment p = match.payment();
            return new PaidOrder(o.orderId(), o.customerId(), o.tsMs(), p.paymentId(), p.cardId(), p.country(),
                    p.amountCents(), p.tsMs() - o.tsMs());
        }
    }

    /** The columns of {@code l15-unpaid-orders}. */
    public record UnpaidOrder(String orderId, String customerId, long orderTsMs, long deadlineMs) {
        static UnpaidOrder of(Order order) {
            return new UnpaidOrder(order.orderId(), order.customerId(), order.tsMs(),
                    order.tsMs() + PAYMENT_WITHIN.toMillis());
        }
    }

    /** A customer version: the customer as of {@code tsMs}. */
    public record Customer(String customerId, String name, String tier, String country, String region, long tsMs) {
        static Customer of(JsonNode doc) {
            return new Customer(Events.text(doc, "customer_id"), Events.text(doc, "name"), Events.text(doc, "tier"),
                    Events.text(doc, "country"), Events.text(doc, "region"), Long.parseLong(Events.text(doc, "ts_ms")));
        }
    }

    /** The columns of {@code l15-orders-enriched}; null for a heartbeat, which is no order. */
    public record EnrichedOrder(String orderId, String customerId, long tsMs, String customerName, String tier,
                                String country, String region, Long customerVersionMs) {
        static EnrichedOrder of(Order order, Customer c) {
            if (order.heartbeat()) {
                return null;
            }
            return c == null ? new EnrichedOrder(order.orderId(), order.customerId(), order.tsMs(), null, null, null,
                    null, null)
                    : new EnrichedOrder(order.orderId(), order.customerId(), order.tsMs(), c.name(), c.tier(),
                            c.country(), c.region(), c.tsMs());
        }
    }

    /**
     * A product as the global table holds it: each key's last record, read by {@link #READ}; a
     * record that breaks the rules is no product ({@link #known()} false). The store keeps the
     * record as it came ({@code value}): a global table reads its store with the topic's serde,
     * and restores it at start by copying the topic, records that break the rules included, so
     * the serde must read anything, and never throw.
     */
    public record Product(String productId, String name, Long priceCents, Long tsMs, byte[] value) {
        static final Serde<Product> READ = Serdes.serdeFrom((topic, product) -> product.value(), Product::read);

        boolean known() {
            return productId != null;
        }

        /** Its {@code ts_ms} is trusted unless over an hour ahead of now: a deserializer sees no append time. */
        static Product read(String topic, byte[] value) {
            JsonNode doc = Events.parse(value);
            long eventTime = Events.eventTime(doc);
            boolean trusted = eventTime >= 0 && eventTime <= System.currentTimeMillis() + Events.MAX_AHEAD_MS;
            if (value == null || Events.reason("products", doc, trusted) != null) {
                return new Product(null, null, null, null, value);
            }
            return new Product(Events.text(doc, "product_id"), Events.text(doc, "name"),
                    Long.parseLong(Events.text(doc, "price_cents")), Long.parseLong(Events.text(doc, "ts_ms")), value);
        }
    }

    /** The columns of {@code l15-items-enriched}. */
    public record EnrichedItem(String orderId, int lineNo, String productId, String category, int quantity,
                               long unitPriceCents, long lineTotalCents, long tsMs, String productName,
                               Long listPriceCents, Long productVersionMs) {
        static EnrichedItem of(LineItem i, Product p) {
            Product known = p != null && p.known() ? p : new Product(null, null, null, null, null);
            return new EnrichedItem(i.orderId(), i.lineNo(), i.productId(), i.category(), i.quantity(),
                    i.unitPriceCents(), i.lineTotalCents(), i.tsMs(), known.name(), known.priceCents(), known.tsMs());
        }
    }

    /** An order or payment too late to join, with where it came from, as in {@code l15-joins-late}. */
    public record Late(String origin, String id, long tsMs, String sourceTopic, int sourcePartition,
                       long sourceOffset) {
        static Late of(String stream, String idField, Event event) {
            return new Late(stream, event.text(idField), event.tsMs(), event.topic(), event.partition(),
                    event.offset());
        }
    }
}
