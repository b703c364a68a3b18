package dev.streamlab.kstreams;

import static dev.streamlab.kstreams.Driver.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class Lesson15WindowsTest {

    private static final long MINUTE = 60_000;

    private static String order(String id, long tsMs, String category, int quantity, long price) {
        return "{\"schema_version\":1,\"order_id\":\"" + id + "\",\"customer_id\":\"c-1\",\"ts_ms\":" + tsMs
                + ",\"items\":[{\"product_id\":\"p-1\",\"category\":\"" + category + "\",\"quantity\":" + quantity
                + ",\"unit_price_cents\":" + price + "}]}";
    }

    /** The last update of each window: a windowed KTable's result. */
    private static Map<String, String> windows(Driver d) {
        Map<String, String> last = new LinkedHashMap<>();
        for (var record : d.read("ks-revenue-1m")) {
            String start = record.value().replaceAll(".*\"window_start_ms\":(\\d+).*", "$1");
            last.put(record.key() + "@" + (Long.parseLong(start) - T0) / MINUTE, record.value());
        }
        return last;
    }

    @Test
    void ordersAddUpPerCategoryAndMinuteAndALateOrderTakesTheLateBranch() {
        try (Driver d = new Driver(Lesson15Windows.build())) {
            d.send("orders", "o-1", order("o-1", T0 + 1_000, "home", 2, 100), T0 + 1_000);
            d.send("orders", "o-2", order("o-2", T0 + 59_000, "home", 1, 50), T0 + 59_000);
            d.send("orders", "o-3", order("o-3", T0 + 3 * MINUTE, "home", 1, 7), T0 + 3 * MINUTE);
            // the first minute closed at 1:00 + 2:00 grace - 1 ms: 3:00 is past it
            d.send("orders", "o-4", order("o-4", T0 + 30_000, "home", 5, 5), T0 + 3 * MINUTE);
            // an event time ahead of its append time by over an hour moves no stream time (and is invalid)
            d.send("orders", "o-5", order("o-5", T0 + 5 * 60 * MINUTE, "home", 1, 1), T0 + 3 * MINUTE);
            d.send("orders", "o-6", order("o-6", T0 + MINUTE + 1, "home", 1, 3), T0 + 3 * MINUTE);

            var results = windows(d);
            assertEquals(3, results.size(), results.toString());
            assertEquals("{\"category\":\"home\",\"window_start_ms\":" + T0 + ",\"window_end_ms\":" + (T0 + MINUTE)
                    + ",\"orders\":2,\"items\":3,\"revenue_cents\":250}", results.get("home@0"));
            assertEquals(List.of("{\"origin\":\"orders\",\"id\":\"o-4\",\"ts_ms\":" + (T0 + 30_000)
                    + ",\"missed_window_start_ms\":" + T0 + ",\"missed_window_end_ms\":" + (T0 + MINUTE)
                    + ",\"source_topic\":\"orders\",\"source_partition\":0,\"source_offset\":3}"),
                    d.read("ks-late").stream().map(r -> r.value()).toList());
        }
    }

    @Test
    void aHeartbeatMovesStreamTimeSoTheOrdersBehindItAreLate() {
        try (Driver d = new Driver(Lesson15Windows.build())) {
            d.heartbeat("orders", T0 + 10 * MINUTE);
            d.send("orders", "o-1", order("o-1", T0 + 7 * MINUTE + 59_999, "home", 1, 1), T0 + 10 * MINUTE);
            d.send("orders", "o-2", order("o-2", T0 + 8 * MINUTE, "home", 1, 1), T0 + 10 * MINUTE);

            assertEquals(List.of("o-1"), d.read("ks-late").stream().map(r -> r.key()).toList());
            assertEquals(List.of("home@8"), List.copyOf(windows(d).keySet()));
        }
    }

    @Test
    void anOrderCountsOnceInEachCategoryItBoughtFrom() {
        var parts = Lesson15Windows.perCategory(new Event(null, Events.parse(("{\"order_id\":\"o\",\"customer_id\":\"c\","
                + "\"ts_ms\":1,\"items\":[{\"product_id\":\"a\",\"category\":\"home\",\"quantity\":2,\"unit_price_cents\":3},"
                + "{\"product_id\":\"b\",\"category\":\"books\",\"quantity\":1,\"unit_price_cents\":4},"
                + "{\"product_id\":\"c\",\"category\":\"home\",\"quantity\":1,\"unit_price_cents\":5}]}").getBytes()),
                null, "orders", 0, 0, 0));
        assertEquals("[KeyValue(home, Revenue[orders=1, items=3, revenueCents=11]), "
                + "KeyValue(books, Revenue[orders=1, items=1, revenueCents=4])]", parts.toString());
    }
}
