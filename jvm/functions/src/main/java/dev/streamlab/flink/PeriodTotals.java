package dev.streamlab.flink;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

/**
 * {@code PERIOD_TOTALS(input => TABLE t PARTITION BY (category, period_start_ms))}: a window
 * that closes on the calendar. It sums the line items of one category in one trading period
 * and emits the totals once, when the watermark passes the period's end: what a window
 * operator with an event-time trigger does.
 *
 * <p>A process table function (Flink 2.1+): SQL's windows cannot follow a calendar, and a PTF
 * brings keyed state and event-time timers into SQL, in the JVM. Each row of {@code t} is a
 * line item with {@code period_end_ms}, {@code period_is_open}, {@code first_of_category} (the
 * order's first line in this category, so each order counts once), {@code quantity} and
 * {@code line_total_cents}.
 *
 * <p>Two things Flink 2.2 does that this function steps around, each with its reason:
 * <ul>
 *   <li>No {@code on_time} argument: with one, 2.2 silently drops every row behind the
 *       watermark (FLINK-39436 lifts that later), but an item a few minutes late still belongs
 *       to its open period. The SQL has judged lateness by the period already, and the
 *       timer fires on the watermark all the same.
 *   <li>{@code clearAllState}, not {@code clearAll}, in {@code onTimer}: in 2.2, clearing the
 *       timers there also lost other partitions' timers for the same instant, so a category's
 *       period never fired. The fired timer is gone anyway.
 * </ul>
 */
@DataTypeHint("ROW<period_end_ms BIGINT, is_open BOOLEAN, orders BIGINT, items BIGINT, revenue_cents BIGINT>")
public class PeriodTotals extends ProcessTableFunction<Row> {

    /** The state of one (category, period): what is summed so far, and when it closes. */
    public static class Totals {
        public Long endMs;
        public Boolean open;
        public long orders;
        public long items;
        public long revenueCents;
    }

    // --8<-- [start:period_totals]
    public void eval(Context ctx, @StateHint Totals totals,
                     @ArgumentHint(name = "input", value = ArgumentTrait.SET_SEMANTIC_TABLE) Row item) {
        if (totals.endMs == null) {  // the period's first item: fire once its last millisecond has passed
            totals.endMs = item.getFieldAs("period_end_ms");
            totals.open = item.getFieldAs("period_is_open");
            ctx.timeContext(Long.class).registerOnTime(totals.endMs - 1);
        }
        if (Boolean.TRUE.equals(item.getFieldAs("first_of_category"))) {
            totals.orders++;
        }
        totals.items += item.<Integer>getFieldAs("quantity");
        totals.revenueCents += item.<Long>getFieldAs("line_total_cents");
    }

    public void onTimer(OnTimerContext ctx, Totals totals) {
        collect(Row.of(totals.endMs, totals.open, totals.orders, totals.items, totals.revenueCents));
        ctx.clearAllState();  // the period is closed and its timer has fired: its state goes
    }
    // --8<-- [end:period_totals]
}
