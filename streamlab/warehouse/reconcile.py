"""Reconciliation: the marts against the raw tables, as one row per check.

The raw side is the oracle's own judgement of the input (``validation.oracle``: the event
rules implemented a second time in DuckDB SQL), never the jobs' dead letters. Windows are
compared only up to a *settled* event time: 30 minutes before the newest window end, and
on a window boundary, so late data (at most 15 minutes late by the generator's design) has
arrived and been counted, or declared late, on both sides while the stream keeps flowing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from validation import oracle

SETTLE_MS = 30 * 60_000


def _oracle_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse's raw topics in the shape the oracle judges (heartbeats out)."""
    for stream in ("clicks", "orders", *oracle.OTHER_STREAMS):
        con.execute(f"""CREATE OR REPLACE TEMP VIEW raw_{stream} AS
            SELECT * EXCLUDE (heartbeat) FROM (
              SELECT kafka_topic AS topic, kafka_partition AS "partition", kafka_offset AS "offset",
                     epoch_ms(kafka_time) AS timestamp_ms, encode(coalesce(key, '')) AS key, value,
                     headers, doc::VARCHAR AS doc, heartbeat,
                     twice."offset" IS NOT NULL AS duplicate_key,
                     max({oracle.trusted_ms('doc::VARCHAR')}) OVER (
                       PARTITION BY kafka_partition ORDER BY kafka_offset ROWS UNBOUNDED PRECEDING
                     ) AS stream_time_ms
              FROM wh.raw.{stream} LEFT JOIN ({oracle.twice_keyed(
                  f"(SELECT kafka_partition, kafka_offset, doc::VARCHAR AS text FROM wh.raw.{stream})",
                  "kafka_partition", "kafka_offset", "text")}) AS twice
                ON twice."partition" = kafka_partition AND twice."offset" = kafka_offset)
            WHERE NOT heartbeat""")
    oracle.create_judged_views(con, oracle.OTHER_STREAMS)


def _horizon(table: str, column: str, size_ms: int) -> str:
    """The settled event time for ``table`` (epoch ms, on a ``size_ms`` boundary)."""
    return (f"(SELECT (epoch_ms(max({column})) - {SETTLE_MS}) // {size_ms} * {size_ms} "
            f"FROM wh.marts.{table})")


def _windowed(name: str, table: str, job: str, size_ms: int) -> str:
    """Revenue in settled windows = valid orders' revenue before the horizon, minus late orders'."""
    horizon = _horizon(table, "window_end_time", size_ms)
    return f"""
SELECT '{name}' AS "check",
  (SELECT coalesce(sum(revenue_cents), 0) FROM wh.marts.{table}
    WHERE epoch_ms(window_end_time) <= {horizon}) AS warehouse_value,
  (SELECT coalesce(sum(line_total_cents), 0) FROM expected_items WHERE ts_ms < {horizon})
  - (SELECT coalesce(sum(line_total_cents), 0) FROM expected_items SEMI JOIN (
       SELECT source_topic AS src_topic, source_partition AS src_partition, source_offset AS src_offset
       FROM wh.marts.late_events WHERE job = '{job}' AND origin = 'orders'
     ) USING (src_topic, src_partition, src_offset) WHERE ts_ms < {horizon}) AS oracle_value"""


CHECKS = [
    _windowed("revenue_1m revenue = valid orders - late orders", "revenue_1m", "lesson15-windows", 60_000),
    _windowed("category_stats revenue = valid orders - late orders", "category_stats",
              "lesson15-aggregations", 300_000),
    f"""
SELECT 'revenue_cube grand total = category_stats revenue' AS "check",
  (SELECT coalesce(sum(revenue_cents), 0) FROM wh.marts.revenue_cube
    WHERE cell = '*/*/*'
      AND epoch_ms(window_end_time) <= {_horizon('category_stats', 'window_end_time', 300_000)}),
  (SELECT coalesce(sum(revenue_cents), 0) FROM wh.marts.category_stats
    WHERE epoch_ms(window_end_time) <= {_horizon('category_stats', 'window_end_time', 300_000)})""",
    f"""
SELECT 'paid + unpaid + late orders = valid orders' AS "check",
  (SELECT count(*) FROM wh.marts.paid_orders WHERE epoch_ms(order_ts_time) < h)
  + (SELECT count(*) FROM wh.marts.unpaid_orders WHERE epoch_ms(order_ts_time) < h)
  + (SELECT count(*) FROM wh.marts.late_events
      WHERE job = 'lesson15-joins' AND origin = 'orders' AND epoch_ms(ts_time) < h),
  (SELECT count(*) FROM orders_judged WHERE reason IS NULL
     AND CAST(json_extract_string(doc, '$.ts_ms') AS BIGINT) < h)
FROM (SELECT (epoch_ms(max(order_ts_time)) - {SETTLE_MS}) AS h FROM (
        SELECT order_ts_time FROM wh.marts.paid_orders UNION ALL
        SELECT order_ts_time FROM wh.marts.unpaid_orders))""",
    """
SELECT 'order_items = line items of valid orders' AS "check",
  (SELECT count(*) FROM wh.marts.order_items), (SELECT count(*) FROM expected_items)""",
    """
SELECT 'dead letters (all by lesson14-stateless) = invalid records of every raw topic' AS "check",
  (SELECT count(*) FROM wh.marts.dead_letters),
  (SELECT count(*) FROM expected_dead_letter)""",
    """
SELECT 'customer store revenue = valid orders revenue' AS "check",
  (SELECT coalesce(sum(revenue_cents), 0) FROM wh.marts.customer_orders),
  (SELECT coalesce(sum(line_total_cents), 0) FROM expected_items)""",
    """
SELECT 'product store revenue = valid orders revenue' AS "check",
  (SELECT coalesce(sum(revenue_cents), 0) FROM wh.marts.product_sales),
  (SELECT coalesce(sum(line_total_cents), 0) FROM expected_items)""",
]


def frame(warehouse_file: Path) -> pd.DataFrame:
    """One row per check: its name, the warehouse's value and the oracle's."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{warehouse_file}' AS wh (READ_ONLY)")
        _oracle_inputs(con)
        rows = [con.execute(sql).fetchall()[0] for sql in CHECKS]
    finally:
        con.close()
    return pd.DataFrame(rows, columns=["check", "warehouse_value", "oracle_value"]).astype(
        {"warehouse_value": "int64", "oracle_value": "int64"})
