"""Lesson 15's custom window recomputed: revenue per category and trading period.

The trading calendar is built here a second time, in SQL: Monday to Saturday the store opens
at 08:00 and closes at 20:00 Berlin time (DuckDB's ICU time zones, daylight saving included);
a period runs from one of those moments to the next. An order is late when its period closed
in its partition's stream time (less the 2-minute delay). A period is emitted once the
watermark — the smallest final stream time over the orders partitions, less the delay —
has passed its end.
"""

from __future__ import annotations

import duckdb

from flink_jobs.lesson15_trading_periods.contract import LESSON
from validation.oracle import (
    ORDER_RECORDS,
    Source,
    TopicCheck,
    actual_json,
    compare,
    late_revenue,
    load_inputs,
    load_topic,
    output_sum,
)

DELAY_MS = 120_000

PERIODS = LESSON.output("l15-trading-periods").duckdb_columns()
LATE = LESSON.output("l15-trading-late").duckdb_columns()


def _load(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    load_inputs(con, source)
    load_topic(con, source, "l15-trading-periods", "out_periods")
    load_topic(con, source, "l15-trading-late", "out_late")
    con.execute("""
CREATE OR REPLACE TABLE boundaries AS
WITH days AS (
  SELECT d::DATE AS day FROM generate_series(
    (SELECT make_timestamp(min(ts_ms) * 1000) FROM expected_items) - INTERVAL 4 DAY,
    (SELECT make_timestamp(max(ts_ms) * 1000) FROM expected_items) + INTERVAL 4 DAY,
    INTERVAL 1 DAY) AS t(d)
)
SELECT epoch_ms(timezone('Europe/Berlin', day + local_time)) AS at_ms, local_time = TIME '08:00' AS opens
FROM days, (VALUES (TIME '08:00'), (TIME '20:00')) AS times(local_time)
WHERE dayofweek(day) <> 0""")
    con.execute("""
CREATE OR REPLACE VIEW periods AS
SELECT at_ms AS period_start_ms, lead(at_ms) OVER (ORDER BY at_ms) AS period_end_ms, opens AS open
FROM boundaries""")
    con.execute(f"""
CREATE OR REPLACE VIEW items_periods AS
SELECT i.*, p.period_start_ms, p.period_end_ms, p.open,
       p.period_end_ms - 1 <= i.stream_time_ms - {DELAY_MS} AS late
FROM expected_items i ASOF JOIN periods p ON i.ts_ms >= p.period_start_ms""")
    con.execute("""
CREATE OR REPLACE VIEW expected_late AS
SELECT DISTINCT order_id AS id, ts_ms, period_start_ms AS missed_period_start_ms,
       period_end_ms AS missed_period_end_ms, src_topic AS source_topic,
       src_partition AS source_partition, src_offset AS source_offset
FROM items_periods WHERE late""")
    con.execute(f"""
CREATE OR REPLACE VIEW expected_periods AS
SELECT category, period_start_ms, period_end_ms, open, {ORDER_RECORDS} AS orders,
       sum(quantity)::BIGINT AS items, sum(line_total_cents)::BIGINT AS revenue_cents
FROM items_periods
WHERE NOT late
  AND period_end_ms - 1 <= (SELECT min(stream_time_ms) FROM raw_orders_partitions) - {DELAY_MS}
GROUP BY ALL""")


def check(source: Source) -> list[TopicCheck]:
    """Every closed trading period, and every late order, against the oracle."""
    con = duckdb.connect()
    _load(con, source)
    return [
        compare(con, "l15-trading-periods", f"SELECT {', '.join(PERIODS)} FROM expected_periods",
                actual_json("out_periods", PERIODS, with_key=False)),
        compare(con, "l15-trading-late", f"SELECT {', '.join(LATE)} FROM expected_late",
                actual_json("out_late", LATE, with_key=False)),
    ]


def counts(source: Source) -> dict[str, int]:
    """Revenue produced = in emitted periods + in periods not closed yet + late (actual outputs
    for the first and last)."""
    con = duckdb.connect()
    _load(con, source)
    row = con.execute(f"""
        SELECT (SELECT count(*) FROM out_periods),
               (SELECT count(*) FROM out_periods WHERE CAST(json_extract_string(doc, '$.open') AS BOOLEAN)),
               (SELECT sum(line_total_cents) FROM expected_items),
               {output_sum('out_periods', 'revenue_cents')},
               (SELECT coalesce(sum(line_total_cents), 0) FROM items_periods
                WHERE NOT late AND period_end_ms - 1 > (SELECT min(stream_time_ms) FROM raw_orders_partitions) - {DELAY_MS}),
               {late_revenue('out_late')}""").fetchall()[0]
    names = ["periods", "open_periods", "revenue_produced", "revenue_counted", "revenue_open", "revenue_late"]
    return {name: int(value or 0) for name, value in zip(names, row)}


def explain(source: Source) -> tuple[list[str], bool]:
    """How the input split, for the demo, and whether it balances."""
    c = counts(source)
    balanced = c["revenue_counted"] + c["revenue_late"] + c["revenue_open"] == c["revenue_produced"]
    return [
        f"{c['periods']} closed trading periods: {c['open_periods']} open-hours, "
        f"{c['periods'] - c['open_periods']} closed-hours",
        f"revenue {c['revenue_produced']} cents = {c['revenue_counted']} in closed periods + "
        f"{c['revenue_open']} in the period still running + {c['revenue_late']} late"
        + ("" if balanced else "  (DOES NOT balance)"),
    ], balanced
