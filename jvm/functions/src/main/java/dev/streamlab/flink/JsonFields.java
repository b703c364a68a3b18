package dev.streamlab.flink;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.StreamReadConstraints;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.inference.CallContext;
import org.apache.flink.table.types.inference.InputTypeStrategies;
import org.apache.flink.table.types.inference.TypeInference;

/**
 * {@code JSON_FIELDS(payload, 'a, b.c, items[*].d AS ds')}: parses a record's JSON bytes once
 * and returns the named fields as one ROW of text columns, so a job's SQL works on named
 * columns instead of calling {@code JSON_VALUE} once per field and rule.
 *
 * <p>Why a function of our own: in Flink 2.2 every {@code JSON_VALUE} parses the document again
 * (dozens of parses per record), the {@code json} format drops a record it cannot read (with
 * its bytes, which the dead letter must keep), and VARIANT field access arrives only in 2.5.
 *
 * <p>Each field keeps {@code JSON_VALUE}'s meaning: a scalar's text (a string as is, a number
 * or boolean as Java prints its value), NULL when the field is missing, null, an object or an array. A path
 * with {@code [*]} gives an ARRAY of such texts, one per element of the array it names, in
 * order (NULL for an element that lacks the field), so parallel arrays line up with their
 * elements. The whole ROW is NULL when the bytes are not one JSON object: not UTF-8, not JSON,
 * trailing data or a key twice in one object — never an exception. Any depth, number or
 * name length is read.
 */
public class JsonFields extends ScalarFunction {

    /**
     * Jackson's reading limits lifted (nesting depth 1,000, numbers of 1,000 digits, names of
     * 50,000 characters): the rules judge any JSON object as the oracle's DuckDB reads it,
     * which has no such limits. Tree reading is iterative, so depth costs memory, not stack;
     * the Kafka record size bounds both.
     */
    private static final ObjectMapper MAPPER =
            new ObjectMapper(
                            JsonFactory.builder()
                                    .streamReadConstraints(
                                            StreamReadConstraints.builder()
                                                    .maxNestingDepth(Integer.MAX_VALUE)
                                                    .maxNumberLength(Integer.MAX_VALUE)
                                                    .maxNameLength(Integer.MAX_VALUE)
                                                    .maxStringLength(Integer.MAX_VALUE)
                                                    .build())
                                    .build())
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private transient String cachedSpec;
    private transient List<FieldPath> cachedPaths;

    public RowData eval(byte[] payload, String spec) {
        List<FieldPath> paths = paths(spec);
        JsonNode root = parse(payload);
        if (root == null) {
            return null;
        }
        GenericRowData row = new GenericRowData(paths.size());
        for (int i = 0; i < paths.size(); i++) {
            row.setField(i, paths.get(i).extract(root));
        }
        return row;
    }

    private List<FieldPath> paths(String spec) {
        if (!spec.equals(cachedSpec)) {
            cachedPaths = FieldPath.parseSpec(spec);
            cachedSpec = spec;
        }
        return cachedPaths;
    }

    private static JsonNode parse(byte[] payload) {
        if (payload == null) {
            return null;
        }
        try {
            JsonNode root = MAPPER.readTree(payload);
            return root != null && root.isObject() ? root : null;
        } catch (Exception | StackOverflowError e) {
            return null;
        }
    }

    /**
     * The result depends on the arguments alone, but a deterministic call is inlined into every
     * {@code doc.field} that reads it, and Flink 2.2's code generation does not share equal
     * calls: one parse per field again. Declared non-deterministic, it is computed once per
     * record and its ROW passed on.
     */
    @Override
    public boolean isDeterministic() {
        return false;
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        return TypeInference.newBuilder()
                .inputTypeStrategy(
                        InputTypeStrategies.sequence(
                                InputTypeStrategies.explicit(DataTypes.BYTES()),
                                InputTypeStrategies.and(
                                        InputTypeStrategies.explicit(DataTypes.STRING()),
                                        InputTypeStrategies.LITERAL)))
                .outputTypeStrategy(JsonFields::rowType)
                .build();
    }

    private static Optional<DataType> rowType(CallContext context) {
        String spec =
                context.getArgumentValue(1, String.class)
                        .orElseThrow(() -> context.newValidationError(
                                "JSON_FIELDS needs its field list as a string literal"));
        List<FieldPath> paths;
        try {
            paths = FieldPath.parseSpec(spec);
        } catch (IllegalArgumentException e) {
            throw context.newValidationError("JSON_FIELDS: %s", e.getMessage());
        }
        List<DataTypes.Field> fields = new ArrayList<>();
        for (FieldPath path : paths) {
            DataType type = path.isArray() ? DataTypes.ARRAY(DataTypes.STRING()) : DataTypes.STRING();
            fields.add(DataTypes.FIELD(path.name(), type));
        }
        return Optional.of(DataTypes.ROW(fields.toArray(new DataTypes.Field[0])).bridgedTo(RowData.class));
    }

    /** One entry of the field list: {@code a.b}, or {@code a[*].b} over an array, with its name. */
    record FieldPath(String name, List<String> before, List<String> after, boolean isArray) {

        static List<FieldPath> parseSpec(String spec) {
            List<FieldPath> paths = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (String entry : spec.split(",")) {
                String[] parts = entry.trim().split("\\s+(?i:AS)\\s+");
                String path = parts[0].trim();
                if (parts.length > 2 || !path.matches("[A-Za-z_][A-Za-z0-9_]*(\\[\\*])?(\\.[A-Za-z_][A-Za-z0-9_]*(\\[\\*])?)*")) {
                    throw new IllegalArgumentException("cannot read the field entry '" + entry.trim() + "'");
                }
                int star = path.indexOf("[*]");
                if (star >= 0 && path.indexOf("[*]", star + 1) >= 0) {
                    throw new IllegalArgumentException("at most one [*] per path: '" + path + "'");
                }
                String plain = path.replace("[*]", "");
                String name = parts.length == 2 ? parts[1].trim() : plain.substring(plain.lastIndexOf('.') + 1);
                if (names.contains(name)) {
                    throw new IllegalArgumentException("the name '" + name + "' is used twice");
                }
                names.add(name);
                List<String> before = star < 0 ? segments(path) : segments(path.substring(0, star));
                List<String> after = star < 0 ? List.of() : segments(path.substring(star + 3));
                paths.add(new FieldPath(name, before, after, star >= 0));
            }
            return paths;
        }

        private static List<String> segments(String path) {
            List<String> out = new ArrayList<>();
            for (String segment : path.split("\\.")) {
                if (!segment.isEmpty()) {
                    out.add(segment);
                }
            }
            return out;
        }

        Object extract(JsonNode root) {
            JsonNode node = walk(root, before);
            if (!isArray) {
                return text(node);
            }
            if (node == null || !node.isArray()) {
                return null;
            }
            StringData[] values = new StringData[node.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = text(walk(node.get(i), after));
            }
            return new GenericArrayData(values);
        }

        private static JsonNode walk(JsonNode node, List<String> segments) {
            for (String segment : segments) {
                if (node == null || !node.isObject()) {
                    return null;
                }
                node = node.get(segment);
            }
            return node;
        }

        private static StringData text(JsonNode node) {
            if (node == null || !node.isValueNode() || node.isNull()) {
                return null;
            }
            return StringData.fromString(node.isNumber() ? node.numberValue().toString() : node.asText());
        }
    }
}
