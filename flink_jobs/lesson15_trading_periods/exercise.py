"""Lesson 15, a custom window: one exercise. Replace the query's TODO with Flink SQL.

Check your work with ``make exercise LESSON=lesson15-trading-periods``: the real job runs with
your query in its place on a small local data set, and its output is compared row for row with
the DuckDB oracle. The placeholder runs, and gives wrong rows. The solution is
``ORDERS_JUDGED`` in ``job.py``.
"""

from flink_jobs.local_check import Exercise

EXERCISES = (Exercise("custom-window", "orders_judged", ("l15-trading-periods", "l15-trading-late")),)

# custom-window: assign each valid order the store's trading period it falls in (the window),
# and judge it late when that period has already closed.
# Input  orders_valid: order_id, customer_id, item arrays, ts_ms BIGINT, ts, and stream_time
#        (the largest event time so far in the order's partition)
# Output every column of orders_valid, plus period_start_ms, period_end_ms, period_is_open and
#        late BOOLEAN
# The assigner is a Java function of the job, trading_period(ts_ms): a ROW (start_ms, end_ms,
# is_open) of the open hours, or the closed hours between them, that hold ts_ms (Berlin time).
# A period closes 2 minutes (WATERMARK_DELAY_S) after its end, in stream time: the order is late
# when its period's last millisecond, period_end_ms - 1, is at or before stream_time - 2 minutes.
# Hint: TO_TIMESTAMP_LTZ(epoch_ms, 3); a ROW's field: row_value.field.
ORDERS_JUDGED = """
SELECT *, CAST(0 AS BIGINT) AS period_start_ms, CAST(0 AS BIGINT) AS period_end_ms,
       TRUE AS period_is_open, FALSE AS late  -- TODO: the order's trading period; late or not
FROM orders_valid"""
