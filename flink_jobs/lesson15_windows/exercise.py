"""Lesson 15, windows: four exercises. Replace each query's TODO with Flink SQL.

Check your work with ``make exercise LESSON=lesson15-windows`` (or ``EXERCISE=tumbling`` for one):
it runs the real job with your query in its place, on a small data set with disorder, late and
malformed records, in a local PyFlink (no Kafka, no cluster), and compares the output row for row
with the DuckDB oracle (``oracle.py``). The placeholders below run, and give wrong rows.
The solutions are the constants of the same names in ``job.py``: look after you try.
"""

from flink_jobs.local_check import Exercise

EXERCISES = (
    Exercise("late-data", "orders_judged", ("l15-late",)),
    Exercise("tumbling", "revenue_1m", ("l15-revenue-1m",)),
    Exercise("hopping", "revenue_10m", ("l15-revenue-10m",)),
    Exercise("session", "sessions", ("l15-sessions",)),
)

# late-data: mark each valid order late when its one-minute window has already closed.
# Input  orders_valid: order_id, customer_id, ..., ts_ms BIGINT, ts TIMESTAMP_LTZ(3) (event time),
#        stream_time TIMESTAMP_LTZ(3): the largest event time seen so far in the order's partition.
# Output every column of orders_valid, plus late BOOLEAN.
# A window closes 2 minutes (the grace, WATERMARK_DELAY_S) after its end, in stream time: the
# order is late when the last millisecond of its minute is at or before stream_time - 2 minutes.
# Hint: FLOOR(ts TO MINUTE) is the start of the order's minute.
ORDERS_JUDGED = """
SELECT *, FALSE AS late  -- TODO: late when the order's minute closed before it came
FROM orders_valid"""

# tumbling: orders, items and revenue per category and one-minute window of event time.
# Input  items_on_time: order_id, line_no, customer_id, product_id, category, quantity INT,
#        unit_price_cents BIGINT, line_total_cents BIGINT, ts_ms BIGINT, ts (event time)
# Output category, minute_start, minute_end, minute_time (the window's time, for the hopping
#        window built on these rows), orders (distinct orders), items (sum of quantity, BIGINT),
#        revenue_cents (sum of line_total_cents)
# Hint: FROM TABLE(TUMBLE(TABLE items_on_time, DESCRIPTOR(ts), <size>)) adds window_start,
#       window_end and window_time; GROUP BY them.
REVENUE_1M = """
SELECT category, window_start AS minute_start, window_end AS minute_end, window_time AS minute_time,
       CAST(0 AS BIGINT) AS orders, CAST(0 AS BIGINT) AS items,  -- TODO: count and sum
       CAST(0 AS BIGINT) AS revenue_cents
FROM TABLE(TUMBLE(TABLE items_on_time, DESCRIPTOR(ts), INTERVAL '1' HOUR))  -- TODO: the size
GROUP BY category, window_start, window_end, window_time"""

# hopping: 10-minute totals per category, every minute, built on the minute rows.
# Input  revenue_1m: category, minute_start, minute_end, minute_time (event time), orders,
#        items, revenue_cents
# Output category, window_start_ms, window_end_ms (epoch milliseconds), orders, revenue_cents,
#        avg_order_cents DOUBLE (revenue per order)
# Hint: HOP(TABLE ..., DESCRIPTOR(...), <slide>, <size>); epoch milliseconds of a window bound:
#       CAST(TIMESTAMPDIFF(SECOND, TIMESTAMP '1970-01-01 00:00:00', window_start) AS BIGINT) * 1000
REVENUE_10M = """
SELECT category, CAST(0 AS BIGINT) AS window_start_ms, CAST(0 AS BIGINT) AS window_end_ms,
       orders, revenue_cents, CAST(0 AS DOUBLE) AS avg_order_cents
FROM revenue_1m
-- TODO: a hopping window of 10 minutes that moves every minute
WHERE FALSE"""

# session: each user's visits, a visit closing after 30 idle minutes (SESSION_GAP_MIN).
# Input  activity_on_time: user_id, id, path (NULL for an order), is_order (0 or 1), ts_ms, ts
# Output user_id, first_activity_ms, last_activity_ms, clicks BIGINT, pages (distinct paths),
#        orders BIGINT, converted (the visit has an order)
# Hint: SESSION(TABLE ... PARTITION BY user_id, DESCRIPTOR(ts), <gap>)
SESSIONS = """
SELECT user_id, MIN(ts_ms) AS first_activity_ms, MAX(ts_ms) AS last_activity_ms,
       CAST(SUM(1 - is_order) AS BIGINT) AS clicks, COUNT(DISTINCT path) AS pages,
       CAST(SUM(is_order) AS BIGINT) AS orders, SUM(is_order) > 0 AS converted
-- TODO: one row per visit, closed after 30 idle minutes, not per user and hour
FROM TABLE(TUMBLE(TABLE activity_on_time, DESCRIPTOR(ts), INTERVAL '1' HOUR))
GROUP BY user_id, window_start, window_end"""
