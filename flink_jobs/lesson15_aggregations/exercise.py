"""Lesson 15, aggregations: three exercises. Replace each query's TODO with Flink SQL.

Check your work with ``make exercise LESSON=lesson15-aggregations`` (``EXERCISE=<name>`` for one):
the real job runs with your query in its place on a small local data set, and its output is
compared row for row with the DuckDB oracle. The placeholders run, and give wrong rows.
The solutions are the constants of the same names in ``job.py``.

All three read ``items_enriched``: one row per line item of an on-time order (order_id, line_no,
customer_id, product_id, category, quantity, unit_price_cents, line_total_cents BIGINT, ts_ms,
ts: event time) with its customer's ``tier`` and ``region`` at the order's time (NULL when the
customer is unknown), in five-minute tumbling windows. Bounds go out in epoch milliseconds:
``BOUNDS`` (imported below) is ``window_start_ms, window_end_ms`` from ``window_start, window_end``.
"""

from flink_jobs.lesson15_aggregations.job import BOUNDS, all_or  # noqa: F401  (for your queries)
from flink_jobs.local_check import Exercise

EXERCISES = (
    Exercise("statistics", "category_stats", ("l15-category-stats",)),
    Exercise("custom-aggregation", "top_products", ("l15-top-products",)),
    Exercise("multi-dimensional", "revenue_cube", ("l15-revenue-cube",)),
)

# statistics: several statistics of the line totals per category and window, in one pass.
# Output category, window_start_ms, window_end_ms, items (line items), revenue_cents (sum),
#        min_line_cents, max_line_cents, mean_line_cents DOUBLE, stddev_line_cents DOUBLE
#        (population standard deviation)
# Hint: AVG of a BIGINT is a BIGINT in SQL.
CATEGORY_STATS = f"""
SELECT category, {BOUNDS}, COUNT(*) AS items, SUM(line_total_cents) AS revenue_cents,
       CAST(0 AS BIGINT) AS min_line_cents, CAST(0 AS BIGINT) AS max_line_cents,  -- TODO
       CAST(0 AS DOUBLE) AS mean_line_cents, CAST(0 AS DOUBLE) AS stddev_line_cents  -- TODO
FROM TABLE(TUMBLE(TABLE items_enriched, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
GROUP BY category, window_start, window_end"""

# custom-aggregation: the three products with the most revenue per category and window.
# SQL has no built-in aggregate for it; the job registers a custom one, written in Java
# (jvm/functions/.../TopProducts.java): top_products(product_id, line_total_cents) returns an
# ARRAY of ROW(product_id, revenue_cents), best first.
# Output category, window_start_ms, window_end_ms, top_products
# Hint: call it as you would SUM, in a GROUP BY over the window.
TOP_PRODUCTS = f"""
SELECT category, {BOUNDS}, ARRAY[ROW(MAX(product_id), MAX(line_total_cents))] AS top_products
FROM TABLE(TUMBLE(TABLE items_enriched, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
-- TODO: the custom aggregate instead of this one row
GROUP BY category, window_start, window_end"""

# multi-dimensional: orders, customers and revenue for every combination of category, region
# and tier per window, each dimension also aggregated away ('*'): a cube.
# Output cell ('<category>/<region>/<tier>'), category, region, tier ('*' where aggregated
#        away, 'unknown' where NULL), window_start_ms, window_end_ms, orders (distinct),
#        customers (distinct), revenue_cents
# Hint: GROUP BY ..., CUBE (...); all_or(column) (imported above) gives '*' for an
#       aggregated-away dimension, using GROUPING(column).
REVENUE_CUBE = f"""
SELECT category || '/*/*' AS cell, category, '*' AS region, '*' AS tier, {BOUNDS},
       COUNT(DISTINCT order_id) AS orders, COUNT(DISTINCT customer_id) AS customers,
       SUM(line_total_cents) AS revenue_cents
FROM TABLE(TUMBLE(TABLE items_enriched, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
-- TODO: every combination, not categories alone
GROUP BY window_start, window_end, category"""
