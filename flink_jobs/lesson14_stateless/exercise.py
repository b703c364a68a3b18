"""Lesson 14, a stateless topology: one exercise. Replace the query's TODO with Flink SQL.

Check your work with ``make exercise LESSON=lesson14-stateless``: the real job runs with your
query in its place on a small local data set with bots and malformed records, and its output is
compared row for row with the DuckDB oracle. The placeholder runs, and gives wrong rows.
The solution is ``clean_clicks`` in ``flink_jobs/common/streams.py`` (every job that reads
clicks shares it; ``job.py``'s ``CLICKS_CLEAN`` is its result).
"""

from flink_jobs.local_check import Exercise

EXERCISES = (Exercise("stateless-topology", "clicks_clean", ("l14-clicks",)),)

# stateless-topology: filter and map, record by record, with no state.
# Input  clicks_valid: event_id, user_id, url, device, user_agent, ts_ms (valid clicks)
# Output event_id, user_id, page_type, path, product_id, device, ts_ms, where
#   - filter: clicks whose user_agent contains bot, spider or crawler (any case) are dropped;
#   - path: the url lower-cased, without its query (?...) or fragment (#...);
#   - page_type: 'home' (path '/'), 'product' ('/product/...'), 'category' ('/category/...'),
#     'cart' ('/cart'), 'search' ('/search'), else 'other';
#   - product_id: what follows '/product/' on a product page, else NULL.
# Hint: REGEXP_EXTRACT(url, '^([^?#]*)', 1); REGEXP(text, pattern); CASE WHEN ... END.
CLICKS_CLEAN = """
SELECT event_id, user_id, 'other' AS page_type, url AS path,  -- TODO: normalise, classify
       CAST(NULL AS STRING) AS product_id, device, ts_ms
-- TODO: drop the bots
FROM clicks_valid"""
