"""Lesson 15, fraud alerts: two exercises. Replace each query's TODO with Flink SQL.

Check your work with ``make exercise LESSON=lesson15-alerts`` (``EXERCISE=<name>`` for one): the
real job runs with your query in its place on a small local data set, and its output is compared
row for row with the DuckDB oracle. The placeholders run, and find nothing. The solutions are the
constants of the same names in ``job.py``.
"""

from flink_jobs.local_check import Exercise

EXERCISES = (
    Exercise("fraud-correlation", "two_countries", ("alerts",)),
    Exercise("cross-stream", "foreign_country", ("alerts",)),
)

# fraud-correlation: a card that pays from one country and then, within 10 minutes
# (TWO_COUNTRIES_WITHIN_MIN), from another: one alert per such pair of consecutive payments.
# Input  payments_on_time: payment_id, card_id, country, amount_cents BIGINT, ts_ms, ts (event time)
# Output alert_id ('two-countries:<second payment_id>'), rule ('two-countries'), severity
#        ('high'), card_id, ts_ms (the second payment's), payment_ids ARRAY[first, second],
#        countries ARRAY[first, second], amount_cents (the second payment's), detail
#        ('paid from <first> then <second> within 10 minutes')
# Hint: MATCH_RECOGNIZE (PARTITION BY ... ORDER BY ts MEASURES ... AFTER MATCH SKIP TO NEXT ROW
#       PATTERN (A B) WITHIN INTERVAL ... DEFINE B AS ...) correlates the rows of one card.
TWO_COUNTRIES = """
SELECT 'two-countries:' || payment_id, 'two-countries', 'high', card_id, ts_ms,
       ARRAY[payment_id], ARRAY[country], amount_cents, 'paid from ' || country
FROM payments_on_time
-- TODO: pairs of one card's payments from two countries within 10 minutes
WHERE FALSE"""

# cross-stream: a payment from a country other than the home country of the customer who placed
# its order, both taken as they were when the payment was made (customers move now and then).
# Input  payments_on_time: payment_id, order_id, card_id, country, amount_cents, ts_ms, ts;
#        order_versions: order_id, customer_id, ts (a versioned table: each order as placed);
#        customers_versions: customer_id, country, version_ms, ts (every version of each customer)
# Output alert_id ('foreign-country:<payment_id>'), rule ('foreign-country'), severity
#        ('medium'), card_id, ts_ms, payment_ids ARRAY[payment_id], countries ARRAY[home, paid
#        from], amount_cents, detail ('paid from <country>, the customer lives in <home>')
# Hint: a join FOR SYSTEM_TIME AS OF p.ts looks a row up as it was at the payment's time; two
#       such joins chain.
FOREIGN_COUNTRY = """
SELECT 'foreign-country:' || payment_id, 'foreign-country', 'medium', card_id, ts_ms,
       ARRAY[payment_id], ARRAY[country, country], amount_cents, 'paid from ' || country
FROM payments_on_time
-- TODO: look up the order's customer as of the payment, and compare countries
WHERE FALSE"""
