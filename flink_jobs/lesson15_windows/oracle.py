"""Lesson 15 windows' expected outputs, recomputed from the raw topics alone.

A record is late when its window closed in its partition's stream time (the largest event
time in the partition so far, in offset order) before it came: that depends on the data only,
so the oracle knows the late set and every window's content in advance.
"""

from __future__ import annotations

import duckdb

from flink_jobs.lesson15_windows.contract import LESSON
from validation.oracle import Source, TopicCheck, actual_json, compare, latest, load_inputs, load_topic

MINUTE_MS = 60_000
SESSION_GAP_MS = 30 * MINUTE_MS


GRACE_MS = 2 * MINUTE_MS


def _closed(window_end: str) -> str:
    """A window ending at ``window_end`` has closed in the record's partition."""
    return f"{window_end} - 1 <= stream_time_ms - {GRACE_MS}"


def _emitted(window_end: str, *streams: str) -> str:
    """A window ending at ``window_end`` has been emitted: the watermark of the operator
    reading ``streams`` (the smallest final stream time over their partitions, less the grace
    period) has passed it. A data set's closing heartbeats pass every window of it; a record
    beyond them leaves its window open."""
    finals = " UNION ALL ".join(f"SELECT stream_time_ms FROM raw_{stream}_partitions" for stream in streams)
    return f"{window_end} - 1 <= (SELECT min(stream_time_ms) FROM ({finals})) - {GRACE_MS}"


def _load(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    load_inputs(con, source)
    for topic, table in [("l15-late", "out_late"), ("l15-revenue-1m", "out_1m"),
                         ("l15-revenue-10m", "out_10m"), ("l15-sessions", "out_sessions")]:
        load_topic(con, source, topic, table)
    con.execute("""
CREATE OR REPLACE VIEW activity AS
SELECT user_id, event_id AS id, path, 0 AS is_order, ts_ms, src_topic, src_partition, src_offset,
       stream_time_ms
FROM expected_clicks
UNION ALL
SELECT json_extract_string(doc, '$.customer_id'), json_extract_string(doc, '$.order_id'),
       NULL, 1, CAST(json_extract_string(doc, '$.ts_ms') AS BIGINT), topic, "partition", "offset",
       stream_time_ms
FROM orders_judged WHERE reason IS NULL""")
    # Late: the window closed in the partition's stream time before the record came; for
    # sessions, which merge, as soon as the record's own time is behind (see the job).
    con.execute(f"""
CREATE OR REPLACE VIEW expected_late AS
SELECT 'orders' AS origin, order_id AS id, ts_ms, ts_ms - ts_ms % {MINUTE_MS} AS missed_window_start_ms,
       ts_ms - ts_ms % {MINUTE_MS} + {MINUTE_MS} AS missed_window_end_ms,
       src_topic AS source_topic, src_partition AS source_partition, src_offset AS source_offset
FROM (SELECT DISTINCT order_id, ts_ms, src_topic, src_partition, src_offset, stream_time_ms
      FROM expected_items)
WHERE {_closed(f"ts_ms - ts_ms % {MINUTE_MS} + {MINUTE_MS}")}
UNION ALL
SELECT 'session-' || CASE WHEN is_order = 1 THEN 'orders' ELSE 'clicks' END, id, ts_ms, ts_ms,
       ts_ms + {SESSION_GAP_MS}, src_topic, src_partition, src_offset
FROM activity WHERE {_closed("ts_ms")}""")
    con.execute("""
CREATE OR REPLACE VIEW late_orders AS
SELECT source_topic AS src_topic, source_partition AS src_partition, source_offset AS src_offset
FROM expected_late WHERE origin = 'orders'""")
    con.execute("""
CREATE OR REPLACE VIEW late_activity AS
SELECT source_topic AS src_topic, source_partition AS src_partition, source_offset AS src_offset
FROM expected_late WHERE origin LIKE 'session-%'""")
    con.execute(f"""
CREATE OR REPLACE VIEW windows_1m AS
SELECT category, ts_ms - ts_ms % {MINUTE_MS} AS window_start_ms,
       ts_ms - ts_ms % {MINUTE_MS} + {MINUTE_MS} AS window_end_ms,
       count(DISTINCT order_id) AS orders, sum(quantity)::BIGINT AS items,
       sum(line_total_cents)::BIGINT AS revenue_cents
FROM expected_items ANTI JOIN late_orders USING (src_topic, src_partition, src_offset)
GROUP BY ALL""")
    # Flink emits a window once, when the watermark passes it; Kafka Streams' peer emits every
    # update, so its last per window is the result, for every window (``check_peer``).
    con.execute(f"""
CREATE OR REPLACE VIEW expected_1m AS
SELECT * FROM windows_1m WHERE {_emitted("window_end_ms", "orders")}""")
    con.execute(f"""
CREATE OR REPLACE VIEW expected_10m AS
SELECT category, window_start_ms - k * {MINUTE_MS} AS window_start_ms,
       window_start_ms - k * {MINUTE_MS} + 10 * {MINUTE_MS} AS window_end_ms,
       sum(orders)::BIGINT AS orders, sum(revenue_cents)::BIGINT AS revenue_cents,
       round(sum(revenue_cents) / sum(orders), 6) AS avg_order_cents
FROM expected_1m, range(10) AS r(k)  -- an emitted 10-minute window holds only emitted minutes
WHERE {_emitted(f"window_start_ms - k * {MINUTE_MS} + 10 * {MINUTE_MS}", "orders")}
GROUP BY ALL""")
    con.execute(f"""
CREATE OR REPLACE VIEW expected_sessions AS
WITH counted AS (
  SELECT * FROM activity ANTI JOIN late_activity USING (src_topic, src_partition, src_offset)
), marked AS (
  SELECT *, CASE WHEN ts_ms - lag(ts_ms) OVER w > {SESSION_GAP_MS} THEN 1 ELSE 0 END AS starts
  FROM counted WINDOW w AS (PARTITION BY user_id ORDER BY ts_ms)
), numbered AS (
  SELECT *, sum(starts) OVER (PARTITION BY user_id ORDER BY ts_ms ROWS UNBOUNDED PRECEDING) AS n
  FROM marked
)
SELECT user_id, min(ts_ms) AS first_activity_ms, max(ts_ms) AS last_activity_ms,
       sum(1 - is_order)::BIGINT AS clicks, count(DISTINCT path) AS pages,
       sum(is_order)::BIGINT AS orders, sum(is_order) > 0 AS converted
FROM numbered GROUP BY user_id, n
HAVING {_emitted(f"max(ts_ms) + {SESSION_GAP_MS}", "clicks", "orders")}""")


LATE = LESSON.output("l15-late").duckdb_columns()
REVENUE_1M = LESSON.output("l15-revenue-1m").duckdb_columns()
REVENUE_10M = LESSON.output("l15-revenue-10m").duckdb_columns()
SESSIONS = LESSON.output("l15-sessions").duckdb_columns()


def _actual_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE VIEW actual_late AS {actual_json('out_late', LATE, with_key=False)}")
    con.execute(f"CREATE OR REPLACE VIEW actual_1m AS {actual_json('out_1m', REVENUE_1M, with_key=False)}")


def check(source: Source) -> list[TopicCheck]:
    """Every output of the windows job against the oracle (averages to 6 decimal places)."""
    con = duckdb.connect()
    _load(con, source)
    _actual_views(con)
    return [
        compare(con, "l15-late", f"SELECT {', '.join(LATE)} FROM expected_late", "SELECT * FROM actual_late"),
        compare(con, "l15-revenue-1m", f"SELECT {', '.join(REVENUE_1M)} FROM expected_1m",
                "SELECT * FROM actual_1m"),
        compare(con, "l15-revenue-10m", f"SELECT {', '.join(REVENUE_10M)} FROM expected_10m",
                f"""SELECT * REPLACE (round(avg_order_cents, 6) AS avg_order_cents)
                    FROM ({actual_json("out_10m", REVENUE_10M, with_key=False)})"""),
        compare(con, "l15-sessions", f"SELECT {', '.join(SESSIONS)} FROM expected_sessions",
                actual_json("out_sessions", SESSIONS, with_key=False)),
    ]


def check_peer(source: Source) -> list[TopicCheck]:
    """The Kafka Streams peer's outputs against the same oracle: its late orders, and each
    window's last update (a windowed KTable's changelog) for every window."""
    con = duckdb.connect()
    _load(con, source)
    late, revenue = LESSON.peer.topic("l15-late"), LESSON.peer.topic("l15-revenue-1m")
    load_topic(con, source, late, "out_peer_late")
    load_topic(con, source, revenue, "out_peer_1m")
    return [
        compare(con, late, f"SELECT {', '.join(LATE)} FROM expected_late WHERE origin = 'orders'",
                actual_json("out_peer_late", LATE, with_key=False)),
        compare(con, revenue, f"SELECT {', '.join(REVENUE_1M)} FROM windows_1m",
                actual_json(latest(con, "out_peer_1m", "window_start_ms"), REVENUE_1M, with_key=False)),
    ]


def reconcile(source: Source) -> dict[str, int]:
    """counted + late = produced, in orders and revenue, from the raw input and the outputs."""
    con = duckdb.connect()
    _load(con, source)
    _actual_views(con)
    row = con.execute("""
        SELECT (SELECT count(*) FROM orders_judged WHERE reason IS NULL),
               (SELECT sum(line_total_cents) FROM expected_items),
               (SELECT count(*) FROM actual_late WHERE origin = 'orders'),
               (SELECT coalesce(sum(line_total_cents), 0)
                  FROM expected_items SEMI JOIN (
                    SELECT source_topic AS src_topic, source_partition AS src_partition,
                           source_offset AS src_offset
                    FROM actual_late WHERE origin = 'orders'
                  ) USING (src_topic, src_partition, src_offset)),
               (SELECT coalesce(sum(revenue_cents), 0) FROM actual_1m)""").fetchall()[0]
    names = ["orders_produced", "revenue_produced", "orders_late", "revenue_late", "revenue_counted"]
    return {name: int(value or 0) for name, value in zip(names, row)}


def explain(source: Source) -> tuple[list[str], bool]:
    """How the input split, for the demo, and whether it balances."""
    t = reconcile(source)
    balanced = t["revenue_counted"] + t["revenue_late"] == t["revenue_produced"]
    return [
        f"valid orders {t['orders_produced']}: {t['orders_late']} arrived after their window closed",
        f"revenue {t['revenue_produced']} cents = {t['revenue_counted']} in windows + "
        f"{t['revenue_late']} late" + ("" if balanced else "  (DOES NOT balance)"),
    ], balanced
