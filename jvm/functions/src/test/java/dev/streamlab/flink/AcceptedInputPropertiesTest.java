package dev.streamlab.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.apache.flink.table.data.RowData;
import org.apache.flink.types.Row;

/**
 * No function on the jobs' hot path can throw on a record the rules let through (issue 17: one
 * order 300 centuries ahead put a job into a restart loop). jqwik drives each function with the
 * whole range the rules accept, its edges first, and {@code JSON_FIELDS}, which sees every record
 * before any rule, with any bytes at all.
 */
class AcceptedInputPropertiesTest {

    /** The rules' bounds on ts_ms (streamlab.events.EARLIEST_TS_MS, flink_jobs.common.checks.LAST_TIMESTAMP_MS). */
    private static final long EARLIEST_TS_MS = 946_684_800_000L;
    private static final long LAST_TIMESTAMP_MS = 253_402_300_799_999L;
    /** The fields the orders stream is parsed into (flink_jobs.common.streams.FIELDS), array paths included. */
    private static final String ORDER_FIELDS = "schema_version, ts_ms, order_id, customer_id, currency,"
            + " items[*].product_id AS item_product_ids, items[*].quantity AS item_quantities";

    @Property(tries = 5000)
    void everyAcceptedEventTimeHasItsTradingPeriod(
            @ForAll @LongRange(min = EARLIEST_TS_MS, max = LAST_TIMESTAMP_MS) long tsMs) {
        Row period = new TradingPeriod().eval(tsMs);
        long start = period.getFieldAs(0);
        long end = period.getFieldAs(1);
        assertTrue(start <= tsMs && tsMs < end, period::toString);
        assertNotNull(period.getField(2));
    }

    @Property(tries = 2000)
    void jsonFieldsAnswersAnyBytes(@ForAll @Size(max = 300) byte[] payload) {
        new JsonFields().eval(payload, ORDER_FIELDS);  // NULL or a row: never an exception
    }

    @Property(tries = 500)
    void jsonFieldsReadsAnyJsonObject(@ForAll("objects") String json) {
        RowData row = new JsonFields().eval(json.getBytes(StandardCharsets.UTF_8), ORDER_FIELDS);
        assertNotNull(row, json);
        assertEquals(7, row.getArity());
    }

    @Property(tries = 1000)
    void topProductsRanksAnyAcceptedLineItems(@ForAll("lineItems") List<Map.Entry<String, Long>> items) {
        TopProducts top = new TopProducts();
        TopProducts.Revenue acc = top.createAccumulator();
        items.forEach(item -> top.accumulate(acc, item.getKey(), item.getValue()));
        Row[] ranked = top.getValue(acc);
        assertEquals(Math.min(TopProducts.TOP_N, acc.byProduct.size()), ranked.length);
        for (int i = 1; i < ranked.length; i++) {
            assertTrue(ranked[i - 1].<Long>getFieldAs(1) >= ranked[i].<Long>getFieldAs(1));
        }
    }

    /** JSON objects whose fields hold any JSON value: scalars of every type, arrays, nested objects. */
    @Provide
    Arbitrary<String> objects() {
        Arbitrary<String> keys = Arbitraries.oneOf(
                Arbitraries.of("schema_version", "ts_ms", "order_id", "customer_id", "currency", "items"),
                Arbitraries.strings().ofMaxLength(8));
        return Arbitraries.maps(keys, values(3)).ofMaxSize(8).map(fields -> fields.entrySet().stream()
                .map(e -> quote(e.getKey()) + ":" + e.getValue())
                .collect(Collectors.joining(",", "{", "}")));
    }

    private Arbitrary<String> values(int depth) {
        Arbitrary<String> scalars = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(12).map(AcceptedInputPropertiesTest::quote),
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.doubles().map(String::valueOf),
                Arbitraries.bigIntegers().between(
                        java.math.BigInteger.TEN.pow(30).negate(), java.math.BigInteger.TEN.pow(30)).map(String::valueOf),
                Arbitraries.of("true", "false", "null"));
        if (depth == 0) {
            return scalars;
        }
        Arbitrary<String> arrays = values(depth - 1).list().ofMaxSize(4).map(v -> "[" + String.join(",", v) + "]");
        Arbitrary<String> objects = Combinators.combine(
                        Arbitraries.of("product_id", "quantity", "x"), values(depth - 1))
                .as((key, value) -> "{" + quote(key) + ":" + value + "}");
        return Arbitraries.oneOf(scalars, arrays, objects);
    }

    private static String quote(String text) {
        StringBuilder quoted = new StringBuilder("\"");
        text.codePoints().forEach(c -> {
            if (c == '"' || c == '\\' || c < 0x20) {
                quoted.append(String.format("\\u%04x", c));
            } else {
                quoted.appendCodePoint(c);
            }
        });
        return quoted.append('"').toString();
    }

    /** Line items as the rules accept them: a product id, quantity 1..999, unit price of up to 12 digits. */
    @Provide
    Arbitrary<List<Map.Entry<String, Long>>> lineItems() {
        return Combinators.combine(
                        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(4),
                        Arbitraries.longs().between(1, 999),
                        Arbitraries.longs().between(0, 999_999_999_999L))
                .as((product, quantity, price) -> Map.entry(product, quantity * price))
                .list().ofMaxSize(50);
    }
}
