package dev.streamlab.flink;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

/**
 * {@code TOP_PRODUCTS(product_id, revenue_cents)}: the top {@value #TOP_N} products of a group by
 * revenue, as one ranked list (ties by product id).
 *
 * <p>A custom aggregate, because SQL has none that keeps a ranked list: Window Top-N emits a
 * row per rank, which a second aggregation would have to reassemble in an order ARRAY_AGG
 * does not promise. In the JVM, so it runs in a window TVF beside the SQL aggregates, with no
 * Python worker to cross into per line item.
 */
@FunctionHint(output = @DataTypeHint("ARRAY<ROW<product_id STRING, revenue_cents BIGINT>>"))
public class TopProducts extends AggregateFunction<Row[], TopProducts.Revenue> {

    // --8<-- [start:top_products]
    public static final int TOP_N = 3;

    /** The accumulator: revenue per product so far. */
    public static class Revenue {
        public Map<String, Long> byProduct = new HashMap<>();
    }

    @Override
    public Revenue createAccumulator() {
        return new Revenue();
    }

    public void accumulate(Revenue acc, String productId, Long revenueCents) {
        if (productId != null && revenueCents != null) {
            acc.byProduct.merge(productId, revenueCents, Long::sum);
        }
    }

    public void merge(Revenue acc, Iterable<Revenue> others) {
        for (Revenue other : others) {
            other.byProduct.forEach((productId, revenue) -> accumulate(acc, productId, revenue));
        }
    }

    @Override
    public Row[] getValue(Revenue acc) {
        return acc.byProduct.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(TOP_N)
                .map(e -> Row.of(e.getKey(), e.getValue()))
                .toArray(Row[]::new);
    }
    // --8<-- [end:top_products]
}
