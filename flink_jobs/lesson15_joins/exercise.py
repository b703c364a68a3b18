"""Lesson 15, joins: two exercises. Replace each query's TODO with Flink SQL.

Check your work with ``make exercise LESSON=lesson15-joins`` (``EXERCISE=<name>`` for one): the
real job runs with your query in its place on a small local data set, and its output is compared
row for row with the DuckDB oracle. The placeholders run, and give wrong rows.
The solutions are the constants of the same names in ``job.py``.

Inputs, valid and on time, each with ``ts`` (event time) and ``ts_ms``:
``orders_on_time`` (order_id, customer_id, item arrays, ts_ms, ts),
``payments_on_time`` (payment_id, order_id, card_id, country, amount_cents BIGINT, ts_ms, ts),
``customers_versions`` (customer_id, name, tier, country, region, version_ms, ts): every version
of each customer, a versioned table keyed by customer_id.
"""

from flink_jobs.local_check import Exercise

EXERCISES = (
    Exercise("interval-join", "payment_matches", ("l15-paid-orders", "l15-unpaid-orders")),
    Exercise("temporal-join", "orders_enriched", ("l15-orders-enriched",)),
)

# interval-join: each order with the payment made for it within 15 minutes of the order (at or
# after it), or with NULLs when none came: the job sends the first kind to l15-paid-orders and
# the second to l15-unpaid-orders.
# Output order_id, customer_id, order_ts_ms, payment_id, card_id, payment_country,
#        amount_cents, paid_after_ms (payment ts_ms - order ts_ms)
# Hint: an outer join whose ON clause bounds one side's event time by the other's is an
#       interval join: Flink keeps each side only as long as the interval needs.
PAYMENT_MATCHES = """
SELECT o.order_id, o.customer_id, o.ts_ms AS order_ts_ms, CAST(NULL AS STRING) AS payment_id,
       CAST(NULL AS STRING) AS card_id, CAST(NULL AS STRING) AS payment_country,
       CAST(NULL AS BIGINT) AS amount_cents, CAST(NULL AS BIGINT) AS paid_after_ms
-- TODO: join the payments made within 15 minutes of the order
FROM orders_on_time AS o"""

# temporal-join: each order with its customer *as the customer was when the order was placed*
# (NULLs when no version of the customer existed yet).
# Output order_id, customer_id, ts_ms, name, tier, country, region, version_ms (of the version used)
# Hint: FOR SYSTEM_TIME AS OF <the order's event time>.
ORDERS_ENRICHED = """
SELECT o.order_id, o.customer_id, o.ts_ms, CAST(NULL AS STRING) AS name, CAST(NULL AS STRING) AS tier,
       CAST(NULL AS STRING) AS country, CAST(NULL AS STRING) AS region, CAST(NULL AS BIGINT) AS version_ms
-- TODO: join the customer's version valid at the order's time
FROM orders_on_time AS o"""
