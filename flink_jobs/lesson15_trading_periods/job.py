"""Lesson 15 — a custom window: revenue per category and trading period of the store.

    orders ─ validate ─ TRADING_PERIOD ─ late? ─┬─ yes ─────────────────────────► l15-trading-late
                                                └─ no ─ flatMap ─ PERIOD_TOTALS
                                                   (PARTITION BY category, period) ─► l15-trading-periods

The business reports by trading period: the hours the store is open (Monday to Saturday,
08:00-20:00 in Berlin) and the closed hours in between, which run from 12 to 37 hours with
Sundays and daylight saving. SQL's windows are all of one size (TUMBLE, HOP, CUMULATE) or
follow the data (SESSION); none follows a calendar. So the window is built from two Java
functions (``jvm/functions``), called from SQL: ``TRADING_PERIOD`` assigns an event time to its
period (the calendar), and ``PERIOD_TOTALS``, a process table function with keyed state and an
event-time timer, sums a period and emits it once, when the watermark passes the period's end.
Everything runs in the JVM.
"""

from __future__ import annotations

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common import kafka_ddl, streams
from flink_jobs.common.runner import JobArgs, run
from flink_jobs.lesson15_trading_periods.contract import LESSON

WATERMARK_DELAY_S = 120
FUNCTIONS = {"trading_period": "dev.streamlab.flink.TradingPeriod",  # jvm/functions
             "period_totals": "dev.streamlab.flink.PeriodTotals"}


# --8<-- [start:trading_periods_late]
# The custom window's assigner: trading_period(ts_ms) is the store period (open hours, or the
# closed hours between them) an order falls in. An order is late when its period has closed in
# its partition's stream time. A learner writes this query in the lesson's exercise
# (exercise.py): ``build`` takes it as a keyword.
ORDERS_JUDGED = f"""
SELECT *, {streams.behind("TO_TIMESTAMP_LTZ(period_end_ms - 1, 3)", WATERMARK_DELAY_S)} AS late
FROM (
  SELECT *, trading.start_ms AS period_start_ms, trading.end_ms AS period_end_ms,
         trading.is_open AS period_is_open
  FROM (SELECT *, trading_period(ts_ms) AS trading FROM orders_valid)
)"""
# --8<-- [end:trading_periods_late]


def build(env: TableEnvironment, args: JobArgs, orders_judged: str = ORDERS_JUDGED) -> StatementSet:
    # State on the heap: it is small and bounded (each category's open period and each
    # partition's stream time), and in RocksDB every record was a read and a write of it.
    env.get_config().set("state.backend.type", "hashmap")
    for name, java_class in FUNCTIONS.items():
        env.execute_sql(f"CREATE TEMPORARY FUNCTION {name} AS '{java_class}' LANGUAGE JAVA")
    streams.create_event_time_source(env, "orders", args, WATERMARK_DELAY_S)
    kafka_ddl.create_sinks(env, LESSON.writes, args)
    # --8<-- [start:trading_periods_items]
    env.execute_sql(f"CREATE TEMPORARY VIEW orders_judged AS {orders_judged}")
    env.execute_sql("CREATE TEMPORARY VIEW orders_on_time AS SELECT * FROM orders_judged WHERE NOT late")
    streams.create_order_items_view(env, source="orders_on_time", name="items_on_time", keep=[
        "item_categories", "period_start_ms", "period_end_ms", "period_is_open"])
    # --8<-- [end:trading_periods_items]

    # --8<-- [start:trading_periods_window]
    # An order counts once per category: at its first line item of that category.
    env.execute_sql("""
CREATE TEMPORARY VIEW items_in_periods AS
SELECT category, period_start_ms, period_end_ms, period_is_open,
       ARRAY_POSITION(item_categories, category) = line_no AS first_of_category,
       quantity, line_total_cents
FROM items_on_time""")
    statements = env.create_statement_set()
    statements.add_insert_sql("""
INSERT INTO periods_out
SELECT category, period_start_ms, period_end_ms, is_open, orders, items, revenue_cents
FROM period_totals(
  input => TABLE items_in_periods PARTITION BY (category, period_start_ms),
  uid => 'trading-period-window')""")
    # --8<-- [end:trading_periods_window]
    statements.add_insert_sql("""
INSERT INTO late_out
SELECT order_id, ts_ms, period_start_ms, period_end_ms, src_topic, src_partition, src_offset
FROM orders_judged WHERE late""")
    return statements


if __name__ == "__main__":
    run(LESSON.name, build)
