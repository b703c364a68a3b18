"""Lesson 15 — a custom window: revenue per category and trading period of the store.

    orders ─ validate ─ late? ─┬─ yes ──────────────────────────────────────► l15-trading-late
                               └─ no ─ flatMap ─ (DataStream) key by category
                                        ─ window(TradingPeriods) ─ aggregate ───► l15-trading-periods

The business reports by trading period: the hours the store is open (Monday to Saturday,
08:00-20:00 in Berlin) and the closed hours in between, which run from 12 to 37 hours with
Sundays and daylight saving. SQL's windows are all of one size (TUMBLE, HOP, CUMULATE) or
follow the data (SESSION); none follows a calendar. So the windowing leaves SQL for the
DataStream API with a custom ``WindowAssigner`` (Python, as the calendar is Python); the
rest — validation, lateness, flattening, sinks — stays in SQL.
"""

from __future__ import annotations

from pyflink.common import Row, Types
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.functions import AggregateFunction, ProcessWindowFunction
from pyflink.datastream.window import EventTimeTrigger, TimeWindow, TimeWindowSerializer, WindowAssigner
from pyflink.table import DataTypes, StatementSet, StreamTableEnvironment
from pyflink.table.udf import udf

from flink_jobs.common import kafka_ddl, streams
from flink_jobs.common.runner import JobArgs, run_with_datastream
from flink_jobs.lesson15_trading_periods import store_hours

NAME = "streamlab-lesson15-trading-periods"
WATERMARK_DELAY_S = 120

PERIOD_COLUMNS = [("category", Types.STRING()), ("period_start_ms", Types.LONG()),
                  ("period_end_ms", Types.LONG()), ("open", Types.BOOLEAN()), ("orders", Types.LONG()),
                  ("items", Types.LONG()), ("revenue_cents", Types.LONG())]
SINKS = {  # table: (topic, key, columns)
    "periods_out": ("l15-trading-periods", "category",
                    "category STRING, period_start_ms BIGINT, period_end_ms BIGINT, `open` BOOLEAN,"
                    " orders BIGINT, items BIGINT, revenue_cents BIGINT"),
    "late_out": ("l15-trading-late", "id",
                 "id STRING, ts_ms BIGINT, missed_period_start_ms BIGINT, missed_period_end_ms BIGINT,"
                 " source_topic STRING, source_partition INT, source_offset BIGINT"),
}


# Scalar UDFs may see rows a later filter drops (an invalid order has no ts_ms): NULL in, NULL out.
@udf(result_type=DataTypes.BIGINT())
def period_start(ts_ms: int | None) -> int | None:
    return None if ts_ms is None else store_hours.period(ts_ms)[0]


@udf(result_type=DataTypes.BIGINT())
def period_end(ts_ms: int | None) -> int | None:
    return None if ts_ms is None else store_hours.period(ts_ms)[1]


# --8<-- [start:trading_periods_assigner]
class TradingPeriods(WindowAssigner):
    """Assigns each item to the one trading period its event time falls in."""

    def assign_windows(self, element, timestamp: int, context) -> list[TimeWindow]:
        start, end, _ = store_hours.period(timestamp)
        return [TimeWindow(start, end)]

    def get_default_trigger(self, env) -> EventTimeTrigger:
        return EventTimeTrigger()  # fire once, when the watermark passes the period's end

    def get_window_serializer(self) -> TimeWindowSerializer:
        return TimeWindowSerializer()

    def is_event_time(self) -> bool:
        return True
# --8<-- [end:trading_periods_assigner]


class Totals(AggregateFunction):
    """(order ids, items, revenue) of one category in one period."""

    def create_accumulator(self):
        return set(), 0, 0

    def add(self, item: Row, acc):
        orders, items, revenue = acc
        orders.add(item.order_id)
        return orders, items + item.quantity, revenue + item.line_total_cents

    def get_result(self, acc):
        return len(acc[0]), acc[1], acc[2]

    def merge(self, a, b):
        return a[0] | b[0], a[1] + b[1], a[2] + b[2]


class PeriodRow(ProcessWindowFunction):
    def process(self, category: str, context: ProcessWindowFunction.Context, totals):
        window = context.window()
        _, _, is_open = store_hours.period(window.start)
        for orders, items, revenue in totals:
            yield Row(category, window.start, window.end, is_open, orders, items, revenue)


def build(stream_env: StreamExecutionEnvironment, env: StreamTableEnvironment, args: JobArgs) -> StatementSet:
    bootstrap = args.bootstrap_servers
    env.create_temporary_function("period_start", period_start)
    env.create_temporary_function("period_end", period_end)
    streams.create_event_time_source(env, "orders", bootstrap, args.group_id, WATERMARK_DELAY_S)
    kafka_ddl.create_sinks(env, SINKS, bootstrap, NAME)
    # --8<-- [start:trading_periods_late]
    env.execute_sql(f"""
CREATE TEMPORARY VIEW orders_judged AS
SELECT *, {streams.behind("TO_TIMESTAMP_LTZ(end_ms - 1, 3)", WATERMARK_DELAY_S)} AS late
FROM (SELECT *, period_end(ts_ms) AS end_ms FROM orders_valid)""")
    env.execute_sql("CREATE TEMPORARY VIEW orders_on_time AS SELECT * FROM orders_judged WHERE NOT late")
    streams.create_order_items_view(env, source="orders_on_time", name="items_on_time", keep=["ts"])
    # --8<-- [end:trading_periods_late]

    # --8<-- [start:trading_periods_window]
    items = env.to_data_stream(env.sql_query(
        "SELECT order_id, category, quantity, line_total_cents, ts FROM items_on_time"))
    periods = (
        items.key_by(lambda item: item.category, key_type=Types.STRING())
        .window(TradingPeriods())
        .aggregate(Totals(), PeriodRow(),
                   accumulator_type=Types.PICKLED_BYTE_ARRAY(),
                   output_type=Types.ROW_NAMED([c for c, _ in PERIOD_COLUMNS], [t for _, t in PERIOD_COLUMNS]))
        .uid("trading-period-window").name("trading period window")
    )
    env.create_temporary_view("periods", env.from_data_stream(periods))
    # --8<-- [end:trading_periods_window]

    statements = env.create_statement_set()
    statements.add_insert_sql("INSERT INTO periods_out SELECT * FROM periods")
    statements.add_insert_sql("""
INSERT INTO late_out
SELECT order_id, ts_ms, period_start(ts_ms), end_ms, src_topic, src_partition, src_offset
FROM orders_judged WHERE late""")
    return statements


if __name__ == "__main__":
    run_with_datastream(NAME, build)
