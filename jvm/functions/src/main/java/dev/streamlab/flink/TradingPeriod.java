package dev.streamlab.flink;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * {@code TRADING_PERIOD(ts_ms)}: the store's trading period holding an event time, as
 * {@code ROW<start_ms, end_ms, is_open>} ({@link StoreHours}); NULL for a NULL time.
 *
 * <p>It assigns an event to its window, as a {@code WindowAssigner} does in the DataStream API
 * or a {@code Windows} class in Kafka Streams: SQL's own windows are all of one size.
 */
@FunctionHint(output = @DataTypeHint("ROW<start_ms BIGINT, end_ms BIGINT, is_open BOOLEAN>"))
public class TradingPeriod extends ScalarFunction {

    public Row eval(Long tsMs) {
        if (tsMs == null) {
            return null;
        }
        StoreHours.Period period = StoreHours.period(tsMs);
        return Row.of(period.startMs(), period.endMs(), period.open());
    }
}
