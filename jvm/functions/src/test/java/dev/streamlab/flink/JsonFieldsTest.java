package dev.streamlab.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;

import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.RowData;
import org.junit.jupiter.api.Test;

class JsonFieldsTest {

    private static final String SPEC = "id, ts_ms, meta.source AS source, items[*].qty AS qtys";

    private static RowData fields(String json) {
        return new JsonFields().eval(json.getBytes(StandardCharsets.UTF_8), SPEC);
    }

    @Test
    void scalarsKeepTheirText() {
        RowData row = fields("{\"id\":\"a-1\",\"ts_ms\":1700000000000,\"meta\":{\"source\":true},\"items\":[]}");
        assertEquals("a-1", row.getString(0).toString());
        assertEquals("1700000000000", row.getString(1).toString());
        assertEquals("true", row.getString(2).toString());
        assertEquals(0, row.getArray(3).size());
    }

    @Test
    void missingNullAndNonScalarFieldsAreNull() {
        RowData row = fields("{\"id\":null,\"ts_ms\":{\"x\":1},\"meta\":[1],\"items\":{}}");
        assertNull(row.getString(0));
        assertNull(row.getString(1));
        assertNull(row.getString(2));
        assertNull(row.getArray(3));
    }

    @Test
    void arrayPathsLineUpWithTheirElements() {
        ArrayData qtys = fields("{\"items\":[{\"qty\":2},{\"other\":1},7,{\"qty\":\"x\"}]}").getArray(3);
        assertEquals(4, qtys.size());
        assertEquals("2", qtys.getString(0).toString());
        assertEquals(true, qtys.isNullAt(1));
        assertEquals(true, qtys.isNullAt(2));
        assertEquals("x", qtys.getString(3).toString());
    }

    @Test
    void anythingButOneJsonObjectIsNull() {
        assertNull(fields("[1, 2]"));
        assertNull(fields("\"text\""));
        assertNull(fields("{\"id\":1"));
        assertNull(fields("{\"id\":1} trailing"));
        assertNull(fields("{\"id\":1,\"id\":2}"));
        assertNull(fields("[".repeat(5000) + "]".repeat(5000)));
        assertNull(new JsonFields().eval(new byte[] {(byte) 0xff, '{', '}'}, SPEC));
        assertNull(new JsonFields().eval(null, SPEC));
    }

    @Test
    void anyDepthAndAnyLengthIsRead() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        RowData row = fields("{\"id\":\"a-1\",\"x\":" + deep + ",\"ts_ms\":" + "9".repeat(5000) + "}");
        assertEquals("a-1", row.getString(0).toString());
        assertEquals(5000, row.getString(1).toString().length());
        assertEquals("a-1", fields("{\"" + "k".repeat(100_000) + "\":1,\"id\":\"a-1\"}").getString(0).toString());
    }

    @Test
    void aBadFieldListIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> JsonFields.FieldPath.parseSpec("a, a"));
        assertThrows(IllegalArgumentException.class, () -> JsonFields.FieldPath.parseSpec("a[*].b[*].c"));
        assertThrows(IllegalArgumentException.class, () -> JsonFields.FieldPath.parseSpec("$.a"));
    }
}
