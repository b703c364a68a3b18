package dev.streamlab.kstreams;

import java.util.List;
import java.util.Locale;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Lesson 14 in Kafka Streams: filter, map, flatMap and branch, with a dead letter — the
 * PyFlink job {@code flink_jobs/lesson14_stateless} written with the DSL it translates.
 *
 * <pre>
 *   clicks ─ judge ─┬─ invalid ──────────────────────────────────► ks-dead-letter
 *                   └─ filter (no bots) ─ map (normalise) ────────► ks-clicks
 *   orders ─ judge ─┬─ invalid ──────────────────────────────────► ks-dead-letter
 *                   └─ flatMapValues (line items) ─ split ───────► ks-items-&lt;branch&gt;
 *   payments, customers, products ─ judge ─ invalid ─────────────► ks-dead-letter
 * </pre>
 */
public final class Lesson14Stateless {

    public static final String JOB = "ks-lesson14-stateless";
    public static final List<String> INPUTS = List.of("clicks", "orders", "payments", "customers", "products");
    /** Named branches by category; every other category goes to "other". */
    public static final List<String> NAMED_BRANCHES = List.of("electronics", "fashion", "home");

    private Lesson14Stateless() {
    }

    public static Topology build() {
        StreamsBuilder builder = new StreamsBuilder();
        for (String stream : INPUTS) {
            KStream<byte[], Event> judged = Judge.stream(builder, stream);
            DeadLetter.to(judged.filterNot((key, event) -> event.valid(), Named.as("invalid-" + stream)), JOB, stream);
            KStream<byte[], Event> valid = judged.filter((key, event) -> event.valid(), Named.as("valid-" + stream));
            if (stream.equals("clicks")) {
                clicks(valid);
            } else if (stream.equals("orders")) {
                items(valid);
            }
        }
        return builder.build();
    }

    // --8<-- [start:clicks]
    private static void clicks(KStream<byte[], Event> valid) {
        valid.filterNot((key, click) -> isBot(click.text("user_agent")), Named.as("no-bots"))
                .map((key, click) -> KeyValue.pair(click.text("user_id"), Click.of(click)), Named.as("normalise"))
                .to("ks-clicks", Produced.with(Serdes.String(), Json.serde(Click.class)));
    }
    // --8<-- [end:clicks]

    // --8<-- [start:items]
    private static void items(KStream<byte[], Event> valid) {
        var split = valid.flatMap((key, order) -> Events.lineItems(order.doc()).stream()
                        .map(item -> KeyValue.pair(item.orderId(), item)).toList(), Named.as("line-items"))
                .split(Named.as("items-"));
        for (String branch : NAMED_BRANCHES) {
            split = split.branch((orderId, item) -> item.category().equals(branch),
                    Branched.withConsumer(items -> items.to("ks-items-" + branch, itemsOut()), branch));
        }
        split.defaultBranch(Branched.withConsumer(items -> items.to("ks-items-other", itemsOut()), "other"));
    }
    // --8<-- [end:items]

    private static Produced<String, LineItem> itemsOut() {
        return Produced.with(Serdes.String(), Json.serde(LineItem.class));
    }

    static boolean isBot(String userAgent) {
        String agent = userAgent.toLowerCase(Locale.ROOT);
        return agent.contains("bot") || agent.contains("spider") || agent.contains("crawler");
    }

    /** A human click, normalised: its path without query or fragment, its page type and product. */
    public record Click(String eventId, String userId, String pageType, String path, String productId,
                        String device, long tsMs) {

        static Click of(Event click) {
            String url = click.text("url");
            int end = url.length();
            for (char stop : new char[] {'?', '#'}) {
                int at = url.indexOf(stop);
                end = at >= 0 ? Math.min(end, at) : end;
            }
            String path = url.substring(0, end).toLowerCase(Locale.ROOT);
            String type = pageType(path);
            return new Click(click.text("event_id"), click.text("user_id"), type, path,
                    type.equals("product") ? path.substring("/product/".length()) : null,
                    click.text("device"), click.tsMs());
        }

        private static String pageType(String path) {
            if (path.equals("/")) {
                return "home";
            } else if (path.startsWith("/product/")) {
                return "product";
            } else if (path.startsWith("/category/")) {
                return "category";
            } else if (path.equals("/cart")) {
                return "cart";
            } else if (path.equals("/search")) {
                return "search";
            }
            return "other";
        }
    }
}
