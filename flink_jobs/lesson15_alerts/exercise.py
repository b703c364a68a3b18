"""Lesson 15, fraud alerts: one exercise. Replace the query's TODO with Flink SQL.

Check your work with ``make exercise LESSON=lesson15-alerts``: the real job runs with your query
in its place on a small local data set, and its output is compared row for row with the DuckDB
oracle. The placeholder runs, and finds nothing. The solution is ``TWO_COUNTRIES`` in ``job.py``.
"""

from flink_jobs.local_check import Exercise

EXERCISES = (Exercise("fraud-correlation", "two_countries", ("alerts",)),)

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
