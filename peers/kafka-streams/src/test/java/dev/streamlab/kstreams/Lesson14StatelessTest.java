package dev.streamlab.kstreams;

import static dev.streamlab.kstreams.Driver.T0;
import static dev.streamlab.kstreams.Driver.header;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class Lesson14StatelessTest {

    private static String click(String id, String url, String agent) {
        return "{\"schema_version\":1,\"event_id\":\"" + id + "\",\"user_id\":\"c-1\",\"url\":\"" + url
                + "\",\"device\":\"mobile\",\"user_agent\":\"" + agent + "\",\"ts_ms\":" + T0 + "}";
    }

    @Test
    void humansAreNormalisedBotsFilteredAndTheInvalidDeadLettered() {
        try (Driver d = new Driver(Lesson14Stateless.build())) {
            d.send("clicks", "c-1", click("e1", "/Product/P-7?ref=mail#top", "Firefox"), T0);
            d.send("clicks", "c-1", click("e2", "/cart", "Googlebot/2.1"), T0);
            d.send("clicks", "c-1", click("e3", "cart", "Firefox"), T0);
            d.send("clicks", "c-1", "{not json", T0);
            // a ts_ms written as a string with a leading zero is the same trusted time
            d.send("clicks", "c-2", click("e4", "/", "Firefox").replace("\"ts_ms\":" + T0, "\"ts_ms\":\"0" + T0 + "\""), T0);
            d.heartbeat("clicks", T0 + 60_000);

            assertEquals(List.of("{\"event_id\":\"e1\",\"user_id\":\"c-1\",\"page_type\":\"product\","
                    + "\"path\":\"/product/p-7\",\"product_id\":\"p-7\",\"device\":\"mobile\",\"ts_ms\":" + T0 + "}",
                    "{\"event_id\":\"e4\",\"user_id\":\"c-1\",\"page_type\":\"home\",\"path\":\"/\","
                    + "\"product_id\":null,\"device\":\"mobile\",\"ts_ms\":" + T0 + "}"),
                    d.read("ks-clicks").stream().map(r -> r.value()).toList());
            var dead = d.readBytes(DeadLetter.TOPIC);
            assertEquals(List.of("url does not start with /", "not a JSON object"),
                    dead.stream().map(r -> header(r, "dlq.reason")).toList());
            assertEquals("{not json", new String(dead.get(1).value(), UTF_8));
            assertEquals(List.of("clicks", "0", "3", Lesson14Stateless.JOB),
                    List.of(header(dead.get(1), "dlq.source.topic"), header(dead.get(1), "dlq.source.partition"),
                            header(dead.get(1), "dlq.source.offset"), header(dead.get(1), "dlq.job")));
        }
    }

    @Test
    void anOrderFlatMapsIntoItsLinesAndEachLineTakesItsCategorysBranch() {
        String order = "{\"schema_version\":1,\"order_id\":\"o-1\",\"customer_id\":\"c-1\",\"ts_ms\":" + T0
                + ",\"items\":[{\"product_id\":\"p-1\",\"category\":\"home\",\"quantity\":2,\"unit_price_cents\":150},"
                + "{\"product_id\":\"p-2\",\"category\":\"books\",\"quantity\":1,\"unit_price_cents\":999},"
                + "{\"product_id\":\"p-3\",\"category\":\"sports\",\"quantity\":3,\"unit_price_cents\":10}]}";
        try (Driver d = new Driver(Lesson14Stateless.build())) {
            d.send("orders", "o-1", order, T0);
            d.send("payments", "o-1", "{\"schema_version\":1}", T0);

            assertEquals(List.of("{\"order_id\":\"o-1\",\"line_no\":1,\"customer_id\":\"c-1\",\"product_id\":\"p-1\","
                    + "\"category\":\"home\",\"quantity\":2,\"unit_price_cents\":150,\"line_total_cents\":300,"
                    + "\"ts_ms\":" + T0 + "}"), d.read("ks-items-home").stream().map(r -> r.value()).toList());
            var other = d.read("ks-items-other");
            assertEquals(List.of("o-1", "o-1"), other.stream().map(r -> r.key()).toList());
            assertEquals(List.of(2, 3), other.stream().map(r -> r.value().contains("\"line_no\":2") ? 2 : 3).toList());
            assertEquals(List.of(), d.read("ks-items-electronics"));
            assertEquals(List.of("missing payment_id"),
                    d.readBytes(DeadLetter.TOPIC).stream().map(r -> header(r, "dlq.reason")).toList());
        }
    }
}
