package dev.streamlab.kstreams;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The event rules of {@code streamlab.wire.events}, in Java: what the raw topics hold and when a
 * record is rejected, with the same reasons as the PyFlink jobs and the DuckDB oracle, so the
 * oracle checks this peer's dead letter as it checks theirs.
 *
 * <p>A field is read as {@code JSON_VALUE} reads it (a scalar's text; NULL when missing, null,
 * an object or an array) and every pattern must match the whole text, as the oracle's
 * {@code regexp_full_match} does. A record is "not a JSON object" when its bytes are not exactly
 * one JSON object: not UTF-8, not JSON, trailing data, or a key twice in one object.
 */
public final class Events {

    public static final List<String> CATEGORIES = List.of("electronics", "fashion", "home", "books", "sports");
    public static final List<String> DEVICES = List.of("desktop", "mobile", "tablet");
    public static final List<String> TIERS = List.of("bronze", "silver", "gold");
    public static final Map<String, String> COUNTRY_REGION = Map.ofEntries(
            Map.entry("DE", "central"), Map.entry("AT", "central"), Map.entry("PL", "central"),
            Map.entry("FR", "west"), Map.entry("NL", "west"), Map.entry("BE", "west"),
            Map.entry("ES", "south"), Map.entry("IT", "south"), Map.entry("PT", "south"));
    public static final long EARLIEST_TS_MS = 946_684_800_000L; // 2000-01-01T00:00:00Z
    public static final long MAX_AHEAD_MS = 3_600_000L; // one hour of producer clock skew
    /** Marks the generator's end-of-data heartbeats: they move event time and are never data. */
    public static final String HEARTBEAT_HEADER = "streamlab-heartbeat";

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern TS_MS = Pattern.compile("[0-9]{1,15}");
    private static final Pattern CENTS = Pattern.compile("[0-9]{1,12}");
    private static final Pattern QUANTITY = Pattern.compile("[1-9][0-9]{0,2}");
    private static final Set<String> REGIONS = Set.copyOf(COUNTRY_REGION.values());
    /** The ids each stream's events must have. */
    private static final Map<String, String[]> IDS = Map.of(
            "clicks", new String[] {"event_id", "user_id"},
            "orders", new String[] {"order_id", "customer_id"},
            "payments", new String[] {"payment_id", "order_id", "card_id"},
            "customers", new String[] {"customer_id", "name", "country"},
            "products", new String[] {"product_id", "name"});

    /** Jackson's reading limits lifted, as the oracle's DuckDB has none; the record size bounds them. */
    private static final ObjectMapper MAPPER = new ObjectMapper(
            JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(Integer.MAX_VALUE)
                            .maxNumberLength(Integer.MAX_VALUE)
                            .maxNameLength(Integer.MAX_VALUE)
                            .maxStringLength(Integer.MAX_VALUE)
                            .build())
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Events() {
    }

    /** The record's JSON object, or null when its bytes are not exactly one JSON object. */
    public static JsonNode parse(byte[] value) {
        if (value == null) {
            return null;
        }
        try {
            JsonNode root = MAPPER.readTree(value);
            return root != null && root.isObject() ? root : null;
        } catch (IOException | RuntimeException | StackOverflowError e) {
            return null;
        }
    }

    /** A field's text as {@code JSON_VALUE} gives it: null for a missing, null or nested value. */
    public static String text(JsonNode node, String field) {
        JsonNode value = node == null || !node.isObject() ? null : node.get(field);
        if (value == null || !value.isValueNode() || value.isNull()) {
            return null;
        }
        return value.isNumber() ? value.numberValue().toString() : value.asText();
    }

    /**
     * The event time a record may move stream time by: its {@code ts_ms} when that is an integer
     * no further ahead of the broker's append time than clock skew allows, else -1.
     */
    public static long trustedTime(JsonNode doc, long appendTimeMs) {
        long ms = eventTime(doc);
        return ms <= appendTimeMs + MAX_AHEAD_MS ? ms : -1;
    }

    /** The record's {@code ts_ms} when it is a non-negative integer of at most 15 digits, else -1. */
    public static long eventTime(JsonNode doc) {
        String ts = text(doc, "ts_ms");
        return ts != null && TS_MS.matcher(ts).matches() ? Long.parseLong(ts) : -1;
    }

    /**
     * The first rule of {@code stream} the record breaks, or null when it is valid.
     * {@code trusted} says whether its {@code ts_ms} passed {@link #trustedTime} (the record's
     * timestamp, see {@link EventTime}).
     */
    public static String reason(String stream, JsonNode doc, boolean trusted) {
        String[] ids = IDS.get(stream);
        if (ids == null) {
            throw new IllegalArgumentException("no rules for the stream '" + stream + "'");
        }
        String envelope = envelope(doc, trusted, ids);
        if (envelope != null) {
            return envelope;
        }
        return switch (stream) {
            case "clicks" -> firstOf(
                    startsWithSlash(text(doc, "url")) ? null : "url does not start with /",
                    DEVICES.contains(text(doc, "device")) ? null : "unknown device",
                    blank(text(doc, "user_agent")) ? "missing user_agent" : null);
            case "orders" -> items(doc);
            case "payments" -> firstOf(
                    COUNTRY_REGION.containsKey(text(doc, "country")) ? null : "unknown country",
                    matches(CENTS, text(doc, "amount_cents")) ? null : "amount_cents is not a non-negative integer");
            case "customers" -> firstOf(
                    TIERS.contains(text(doc, "tier")) ? null : "unknown tier",
                    REGIONS.contains(text(doc, "region")) ? null : "unknown region");
            default -> firstOf( // products
                    CATEGORIES.contains(text(doc, "category")) ? null : "unknown category",
                    matches(CENTS, text(doc, "price_cents")) ? null : "price_cents is not a non-negative integer");
        };
    }

    /** The rules every event shares: an object, schema version 1, its ids, and a sane event time. */
    private static String envelope(JsonNode doc, boolean trusted, String... ids) {
        if (doc == null) {
            return "not a JSON object";
        }
        if (!"1".equals(text(doc, "schema_version"))) {
            return "unsupported schema_version";
        }
        for (String id : ids) {
            if (blank(text(doc, id))) {
                return "missing " + id;
            }
        }
        String ts = text(doc, "ts_ms");
        if (!matches(TS_MS, ts)) {
            return "ts_ms is not a non-negative integer";
        }
        if (Long.parseLong(ts) < EARLIEST_TS_MS) {
            return "ts_ms is before 2000-01-01";
        }
        return trusted ? null : "ts_ms is over an hour ahead of its Kafka timestamp";
    }

    private static String items(JsonNode doc) {
        JsonNode items = doc.get("items");
        if (items == null || !items.isArray() || items.isEmpty()) {
            return "items is not a non-empty array";
        }
        if (!every(items, "product_id", ID)) {
            return "item without a valid product_id";
        }
        for (JsonNode item : items) {
            if (!CATEGORIES.contains(text(item, "category"))) {
                return "item with an unknown category";
            }
        }
        if (!every(items, "quantity", QUANTITY)) {
            return "item quantity not in 1..999";
        }
        return every(items, "unit_price_cents", CENTS) ? null : "item unit_price_cents not a non-negative integer";
    }

    /** A valid order's line items, numbered from 1 in the order's order. */
    public static List<LineItem> lineItems(JsonNode order) {
        List<LineItem> lines = new ArrayList<>();
        int lineNo = 0;
        for (JsonNode item : order.get("items")) {
            int quantity = Integer.parseInt(text(item, "quantity"));
            long unitPrice = Long.parseLong(text(item, "unit_price_cents"));
            lines.add(new LineItem(text(order, "order_id"), ++lineNo, text(order, "customer_id"),
                    text(item, "product_id"), text(item, "category"), quantity, unitPrice,
                    quantity * unitPrice, Long.parseLong(text(order, "ts_ms"))));
        }
        return lines;
    }

    private static boolean every(JsonNode items, String field, Pattern pattern) {
        for (JsonNode item : items) {
            if (!matches(pattern, text(item, field))) {
                return false;
            }
        }
        return true;
    }

    private static boolean matches(Pattern pattern, String text) {
        return text != null && pattern.matcher(text).matches();
    }

    private static boolean startsWithSlash(String text) {
        return text != null && text.startsWith("/");
    }

    private static boolean blank(String text) {
        return text == null || text.isEmpty();
    }

    private static String firstOf(String... reasons) {
        for (String reason : reasons) {
            if (reason != null) {
                return reason;
            }
        }
        return null;
    }
}
