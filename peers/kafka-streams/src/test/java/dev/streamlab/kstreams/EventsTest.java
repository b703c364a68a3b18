package dev.streamlab.kstreams;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The rules give the oracle's reasons, read as the oracle reads fields (whole-text patterns, JSON_VALUE's texts). */
class EventsTest {

    private static final long APPEND = Driver.T0;
    private static final String CLICK = "\"schema_version\":1,\"event_id\":\"e1\",\"user_id\":\"c-1\",\"url\":\"/cart\","
            + "\"device\":\"mobile\",\"user_agent\":\"Firefox\",\"ts_ms\":" + APPEND;

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "VALID", value = {
        "{" + CLICK + "}|VALID",
        "{" + CLICK + "} x|not a JSON object",
        "{" + CLICK + ",\"device\":\"tablet\"}|not a JSON object",
        "[1]|not a JSON object",
        "{" + CLICK + ",\"schema_version\":null}|not a JSON object",
        "{\"schema_version\":1.0}|unsupported schema_version",
        "{\"schema_version\":\"1\",\"event_id\":{},\"user_id\":\"u\"}|missing event_id",
        "{\"schema_version\":\"1\",\"event_id\":7,\"user_id\":\"u\",\"ts_ms\":\"1e12\"}|ts_ms is not a non-negative integer",
        "{\"schema_version\":\"1\",\"event_id\":7,\"user_id\":\"u\",\"ts_ms\":\"123\\n\"}|ts_ms is not a non-negative integer",
        "{\"schema_version\":\"1\",\"event_id\":7,\"user_id\":\"u\",\"ts_ms\":5}|ts_ms is before 2000-01-01",
    })
    void clicks(String json, String reason) {
        var doc = Events.parse(json.getBytes(UTF_8));
        assertEquals(reason, Events.reason("clicks", doc, Events.trustedTime(doc, APPEND) >= 0));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "VALID", value = {
        "[{\"product_id\":\"p-1\",\"category\":\"home\",\"quantity\":2,\"unit_price_cents\":\"150\"}]|VALID",
        "[]|items is not a non-empty array",
        "{}|items is not a non-empty array",
        "[{\"product_id\":\"a,b\",\"category\":\"home\",\"quantity\":2,\"unit_price_cents\":1}]|item without a valid product_id",
        "[1]|item without a valid product_id",
        "[{\"product_id\":\"p\",\"category\":\"toys\",\"quantity\":2,\"unit_price_cents\":1}]|item with an unknown category",
        "[{\"product_id\":\"p\",\"category\":\"home\",\"quantity\":1000,\"unit_price_cents\":1}]|item quantity not in 1..999",
        "[{\"product_id\":\"p\",\"category\":\"home\",\"quantity\":1,\"unit_price_cents\":-1}]|item unit_price_cents not a non-negative integer",
    })
    void orderItems(String items, String reason) {
        String json = "{\"schema_version\":1,\"order_id\":\"o-1\",\"customer_id\":\"c-1\",\"ts_ms\":" + APPEND
                + ",\"items\":" + items + "}";
        var doc = Events.parse(json.getBytes(UTF_8));
        assertEquals(reason, Events.reason("orders", doc, true));
    }

    @ParameterizedTest(name = "ts_ms {0} at append time T0")
    @CsvSource({"0,0", "T0+1h,T0+1h", "T0+1h+1,-1", "x,-1"})
    void trustedTime(String ts, String expected) {
        var doc = Events.parse(("{\"ts_ms\":\"" + millis(ts) + "\"}").getBytes(UTF_8));
        assertEquals(millis(expected), Long.toString(Events.trustedTime(doc, APPEND)));
    }

    @ParameterizedTest
    @CsvSource({"1,1", "'\"a b\"',a b", "true,true", "12345678901234567890,12345678901234567890"})
    void textIsJsonValuesText(String json, String text) {
        assertEquals(text, Events.text(Events.parse(("{\"f\":" + json + "}").getBytes(UTF_8)), "f"));
    }

    @ParameterizedTest
    @CsvSource({"null", "{}", "[1]"})
    void textOfNullOrNestedIsNull(String json) {
        assertNull(Events.text(Events.parse(("{\"f\":" + json + "}").getBytes(UTF_8)), "f"));
    }

    private static String millis(String ts) {
        return switch (ts) {
            case "T0+1h" -> Long.toString(APPEND + Events.MAX_AHEAD_MS);
            case "T0+1h+1" -> Long.toString(APPEND + Events.MAX_AHEAD_MS + 1);
            default -> ts;
        };
    }
}
