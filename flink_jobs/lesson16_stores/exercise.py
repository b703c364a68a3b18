"""Lesson 16, a state store: one exercise. Replace the query's TODO with Flink SQL.

Check your work with ``make exercise LESSON=lesson16-stores``: the real job runs with your query
in its place on a small local data set, and the store it writes (a changelog: the latest row per
key) is compared with the DuckDB oracle. The placeholder runs, and gives wrong rows. The
solution is ``CUSTOMER_STORE`` in ``job.py``. ``streamlab query customer-orders <id>`` then
answers from this store on the platform: an interactive query.
"""

from flink_jobs.local_check import Exercise

EXERCISES = (Exercise("state-store", "customer_store", ("store-customer-orders",)),)

# state-store: a key-value store of every customer's orders so far, updated by each line item.
# Input  order_items: order_id, line_no (1 for an order's first item), customer_id, product_id,
#        category, quantity INT, unit_price_cents, line_total_cents BIGINT, ts_ms
# Output one row per customer_id: orders, items (sum of quantity, BIGINT), revenue_cents,
#        last_order_ms (the latest ts_ms)
# Keep a few numbers per key, never a set: count an order at its first line item instead of
# COUNT(DISTINCT order_id), which would keep every order id a customer ever had.
CUSTOMER_STORE = """
SELECT customer_id, COUNT(*) AS orders, SUM(CAST(quantity AS BIGINT)) AS items,  -- TODO: orders
       SUM(line_total_cents) AS revenue_cents, MAX(ts_ms) AS last_order_ms
FROM order_items GROUP BY customer_id"""
