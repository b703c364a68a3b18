package dev.streamlab.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

class TopProductsTest {

    private final TopProducts top = new TopProducts();

    @Test
    void ranksByRevenueThenProductIdAndKeepsThree() {
        TopProducts.Revenue acc = top.createAccumulator();
        top.accumulate(acc, "p-2", 100L);
        top.accumulate(acc, "p-1", 300L);
        top.accumulate(acc, "p-3", 100L);
        top.accumulate(acc, "p-4", 50L);
        top.accumulate(acc, "p-2", 200L);  // p-2 now 300: ties with p-1, which sorts first
        top.accumulate(acc, null, 999L);
        assertArrayEquals(new Row[] {Row.of("p-1", 300L), Row.of("p-2", 300L), Row.of("p-3", 100L)},
                top.getValue(acc));
    }

    @Test
    void mergeAddsRevenueOfTheSameProduct() {
        TopProducts.Revenue a = top.createAccumulator();
        TopProducts.Revenue b = top.createAccumulator();
        top.accumulate(a, "p-1", 10L);
        top.accumulate(b, "p-1", 5L);
        top.accumulate(b, "p-2", 12L);
        top.merge(a, List.of(b));
        assertArrayEquals(new Row[] {Row.of("p-1", 15L), Row.of("p-2", 12L)}, top.getValue(a));
    }
}
