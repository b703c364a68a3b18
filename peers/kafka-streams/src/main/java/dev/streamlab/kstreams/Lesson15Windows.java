package dev.streamlab.kstreams;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Lesson 15's tumbling revenue windows in Kafka Streams, with a grace period and a late branch.
 *
 * <pre>
 *   orders ─ judge ─ valid ─┬─ late (window closed in stream time) ─────────────► ks-late
 *                           └─ flatMap (per category) ─ groupByKey ─ windowedBy ─ aggregate ─► ks-revenue-1m
 * </pre>
 *
 * <p><b>Where lateness is judged.</b> Kafka Streams keeps stream time per task. A task of the
 * first sub-topology reads one partition of {@code orders}, so there stream time is the
 * partition's, as the PyFlink job and the oracle define it, and the late branch is decided by
 * the data alone. The window aggregation reads the repartition topic, where the source
 * partitions interleave as the tasks happened to write: its stream time runs ahead of a
 * partition that lags, by as much as the partitions' event times differ in a backlog (months,
 * when data sets of different months are replayed). A grace of two minutes there would drop,
 * silently (counted in the {@code dropped-records} metric), records the late branch let through,
 * and which ones would depend on timing. So the aggregation's grace
 * ({@link #AGGREGATION_GRACE}) is longer than any such lead: it drops nothing, and the window
 * store keeps each window that long.
 *
 * <p><b>What it emits.</b> A windowed aggregation emits each window's every update, a KTable's
 * changelog; the last record of a window is its result. (Emitting on window close would tie the
 * output to that aggregation's stream time, which the data alone do not fix.)
 */
public final class Lesson15Windows {

    public static final String JOB = "ks-lesson15-windows";
    public static final Duration WINDOW = Duration.ofMinutes(1);
    /** How long after a window's end an order may still come, in its partition's stream time. */
    public static final Duration GRACE = Duration.ofMinutes(2);
    /** Longer than the aggregation's stream time can lead any partition's: it drops nothing. */
    public static final Duration AGGREGATION_GRACE = Duration.ofDays(365);

    private Lesson15Windows() {
    }

    public static Topology build() {
        StreamsBuilder builder = new StreamsBuilder();
        // --8<-- [start:late_branch]
        Judge.stream(builder, "orders")
                .filter((key, order) -> order.valid(), Named.as("valid-orders"))
                .split(Named.as("orders-"))
                .branch((key, order) -> closed(windowStart(order.tsMs()) + WINDOW.toMillis(), order.streamTimeMs()),
                        Branched.withConsumer(late -> late
                                .map((key, order) -> KeyValue.pair(order.text("order_id"), Late.of(order)))
                                .to("ks-late", Produced.with(Serdes.String(), Json.serde(Late.class))), "late"))
                .defaultBranch(Branched.withConsumer(Lesson15Windows::revenue, "on-time"));
        // --8<-- [end:late_branch]
        return builder.build();
    }

    // --8<-- [start:tumbling_window]
    private static void revenue(KStream<byte[], Event> onTime) {
        onTime.flatMap((key, order) -> perCategory(order), Named.as("per-category"))
                .groupByKey(Grouped.with("by-category", Serdes.String(), Json.serde(Revenue.class)))
                .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, AGGREGATION_GRACE))
                .aggregate(() -> Revenue.NONE, (category, order, total) -> total.plus(order),
                        Named.as("revenue-per-minute"),
                        Materialized.<String, Revenue, WindowStore<Bytes, byte[]>>as("revenue-1m")
                                .withKeySerde(Serdes.String()).withValueSerde(Json.serde(Revenue.class)))
                .toStream()
                .map((window, total) -> KeyValue.pair(window.key(), new RevenueWindow(window.key(),
                        window.window().start(), window.window().end(), total.orders(), total.items(),
                        total.revenueCents())))
                .to("ks-revenue-1m", Produced.with(Serdes.String(), Json.serde(RevenueWindow.class)));
    }
    // --8<-- [end:tumbling_window]

    /** An order's part in each category it bought from: one order, its items and revenue there. */
    static List<KeyValue<String, Revenue>> perCategory(Event order) {
        Map<String, Revenue> parts = new LinkedHashMap<>();
        for (LineItem item : Events.lineItems(order.doc())) {
            parts.merge(item.category(), new Revenue(1, item.quantity(), item.lineTotalCents()),
                    (a, b) -> new Revenue(1, a.items() + b.items(), a.revenueCents() + b.revenueCents()));
        }
        return parts.entrySet().stream().map(e -> KeyValue.pair(e.getKey(), e.getValue())).toList();
    }

    static long windowStart(long tsMs) {
        return tsMs - tsMs % WINDOW.toMillis();
    }

    /** A window ending at {@code windowEnd} has closed at {@code streamTimeMs}: its grace is over. */
    static boolean closed(long windowEnd, long streamTimeMs) {
        return windowEnd - 1 <= streamTimeMs - GRACE.toMillis();
    }

    /** Orders, items and revenue: what a window adds up. */
    public record Revenue(long orders, long items, long revenueCents) {
        static final Revenue NONE = new Revenue(0, 0, 0);

        Revenue plus(Revenue other) {
            return new Revenue(orders + other.orders, items + other.items, revenueCents + other.revenueCents);
        }
    }

    /** A category's window, the columns of {@code l15-revenue-1m}. */
    public record RevenueWindow(String category, long windowStartMs, long windowEndMs, long orders, long items,
                                long revenueCents) {
    }

    /** An order that came after its window closed, with the window it missed, as in {@code l15-late}. */
    public record Late(String origin, String id, long tsMs, long missedWindowStartMs, long missedWindowEndMs,
                       String sourceTopic, int sourcePartition, long sourceOffset) {
        static Late of(Event order) {
            long start = windowStart(order.tsMs());
            return new Late("orders", order.text("order_id"), order.tsMs(), start, start + WINDOW.toMillis(),
                    order.topic(), order.partition(), order.offset());
        }
    }
}
