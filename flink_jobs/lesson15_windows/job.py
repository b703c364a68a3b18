"""Lesson 15 — event-time windows with late data, in Flink SQL.

    orders ─ validate ─ late? ─┬─ yes ──────────────────────────────────────────► l15-late
                               └─ no ─ flatMap ─ TUMBLE 1 min by category ─┬───► l15-revenue-1m
                                                                           └ HOP 10 min / 1 min ► l15-revenue-10m
    clicks (human) + orders ─ late? ─┬─ yes ──────────────────────────────────► l15-late
                                     └─ no ─ SESSION 30 min gap by user ─────► l15-sessions

Kafka Streams' grace period is how long a window stays open after its end in stream time;
with window TVFs that is the watermark delay (``WATERMARK_DELAY_S``): each window emits one
final row when the watermark passes its end, as ``suppress(untilWindowCloses)`` would.
Window TVFs drop late records silently, so the job routes them first: a record is late when
its window has closed in its partition's *stream time* (the largest event time seen there,
kept in state). The watermark is the minimum over partitions of that, less the grace, so the
window operator never drops a record judged on time: counted + late = produced, exactly,
also after a restore (when Flink's watermark starts again from nothing).
"""

from __future__ import annotations

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common import kafka_ddl, streams
from flink_jobs.common.runner import JobArgs, run
from flink_jobs.lesson15_windows.contract import LESSON, SESSION_GAP_MIN

# --8<-- [start:grace]
WATERMARK_DELAY_S = 120  # out-of-orderness bound plus grace: windows close 2 minutes after their end
# --8<-- [end:grace]


# --8<-- [start:closed_window]
def closed(window_end: str) -> str:
    """True when a window ending at ``window_end`` has closed: its last millisecond is at or
    behind the partition's stream time minus the grace period."""
    return streams.behind(f"{window_end} - INTERVAL '0.001' SECOND", WATERMARK_DELAY_S)
# --8<-- [end:closed_window]


# The queries a learner writes in this lesson's exercises (exercise.py): ``build`` takes each
# as a keyword, so a check runs the job with the learner's query in its place.

# --8<-- [start:late_orders]
# Orders: late when their one-minute window has closed in their partition's stream time.
ORDERS_JUDGED = f"""
SELECT *, {closed("FLOOR(ts TO MINUTE) + INTERVAL '1' MINUTE")} AS late
FROM orders_valid"""
# --8<-- [end:late_orders]

# --8<-- [start:tumbling_window]
# Tumbling: one final row per category and minute.
REVENUE_1M = """
SELECT category, window_start AS minute_start, window_end AS minute_end,
       window_time AS minute_time, COUNT(DISTINCT order_id) AS orders, SUM(CAST(quantity AS BIGINT)) AS items,
       SUM(line_total_cents) AS revenue_cents
FROM TABLE(TUMBLE(TABLE items_on_time, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY category, window_start, window_end, window_time"""
# --8<-- [end:tumbling_window]

# --8<-- [start:hopping_window]
# Hopping, cascaded on the minute rows: 10-minute totals, every minute.
REVENUE_10M = f"""
SELECT category, {streams.epoch_ms('window_start')} AS window_start_ms, {streams.epoch_ms('window_end')} AS window_end_ms,
       SUM(orders) AS orders, SUM(revenue_cents) AS revenue_cents,
       CAST(SUM(revenue_cents) AS DOUBLE) / SUM(orders) AS avg_order_cents
FROM TABLE(HOP(TABLE revenue_1m, DESCRIPTOR(minute_time), INTERVAL '1' MINUTE, INTERVAL '10' MINUTE))
GROUP BY category, window_start, window_end"""
# --8<-- [end:hopping_window]

# --8<-- [start:session_window]
# Sessions: a user's clicks and orders (``activity_on_time``), closed after SESSION_GAP_MIN idle minutes.
SESSIONS = f"""
SELECT user_id, MIN(ts_ms) AS first_activity_ms, MAX(ts_ms) AS last_activity_ms,
       CAST(SUM(1 - is_order) AS BIGINT) AS clicks, COUNT(DISTINCT path) AS pages,
       CAST(SUM(is_order) AS BIGINT) AS orders, SUM(is_order) > 0 AS converted
FROM TABLE(SESSION(TABLE activity_on_time PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '{SESSION_GAP_MIN}' MINUTE))
GROUP BY user_id, window_start, window_end"""
# --8<-- [end:session_window]


def build(env: TableEnvironment, args: JobArgs, orders_judged: str = ORDERS_JUDGED, revenue_1m: str = REVENUE_1M,
          revenue_10m: str = REVENUE_10M, sessions: str = SESSIONS) -> StatementSet:
    # State on the heap: it is small and bounded (open windows, each user's open session and
    # each partition's stream time), and in RocksDB every record was a read and a write of it.
    env.get_config().set("state.backend.type", "hashmap")
    for stream in ("clicks", "orders"):
        streams.create_event_time_source(env, stream, args, WATERMARK_DELAY_S)
    kafka_ddl.create_sinks(env, LESSON.writes, args)

    env.execute_sql(f"CREATE TEMPORARY VIEW orders_judged AS {orders_judged}")
    env.execute_sql("CREATE TEMPORARY VIEW orders_on_time AS SELECT * FROM orders_judged WHERE NOT late")
    streams.create_order_items_view(env, source="orders_on_time", name="items_on_time", keep=["ts"])
    # A view of a table, not CREATE VIEW: the minute rows' INSERT and the hopping window
    # share this one window, where each would expand a SQL view into a window of its own.
    env.create_temporary_view("revenue_1m", env.sql_query(revenue_1m))
    env.execute_sql(f"CREATE TEMPORARY VIEW revenue_10m AS {revenue_10m}")

    # --8<-- [start:session_activity]
    # Sessions merge, so a record behind the watermark could belong to a session that already
    # closed: for sessions, a record is late as soon as its own time is behind its partition's.
    streams.create_clean_clicks_view(
        env, keep=["ts", "stream_time", "src_topic", "src_partition", "src_offset"])
    session_closed = closed("ts")
    env.execute_sql(f"""
CREATE TEMPORARY VIEW activity AS
SELECT user_id, event_id AS id, path, 0 AS is_order, ts, ts_ms, src_topic, src_partition,
       src_offset, {session_closed} AS late
FROM clicks_clean
UNION ALL
SELECT customer_id, order_id, CAST(NULL AS STRING), 1, ts, ts_ms, src_topic, src_partition,
       src_offset, {session_closed}
FROM orders_valid""")
    env.execute_sql("CREATE TEMPORARY VIEW activity_on_time AS SELECT * FROM activity WHERE NOT late")
    # --8<-- [end:session_activity]
    env.execute_sql(f"CREATE TEMPORARY VIEW sessions AS {sessions}")

    statements = env.create_statement_set()
    statements.add_insert_sql(f"""
INSERT INTO revenue_1m_out
SELECT category, {streams.epoch_ms('minute_start')}, {streams.epoch_ms('minute_end')}, orders, items, revenue_cents
FROM revenue_1m""")
    statements.add_insert_sql("INSERT INTO revenue_10m_out SELECT * FROM revenue_10m")
    statements.add_insert_sql("INSERT INTO sessions_out SELECT * FROM sessions")
    # --8<-- [start:late_out]
    statements.add_insert_sql(f"""
INSERT INTO late_out
SELECT 'orders', order_id, ts_ms, ts_ms - MOD(ts_ms, 60000), ts_ms - MOD(ts_ms, 60000) + 60000,
       src_topic, src_partition, src_offset
FROM orders_judged WHERE late
UNION ALL
SELECT 'session-' || CASE WHEN is_order = 1 THEN 'orders' ELSE 'clicks' END, id, ts_ms,
       ts_ms, ts_ms + {SESSION_GAP_MIN * 60_000}, src_topic, src_partition, src_offset
FROM activity WHERE late""")
    # --8<-- [end:late_out]
    return statements


if __name__ == "__main__":
    run(LESSON.name, build)
