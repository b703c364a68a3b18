"""Lesson 15 fraud alerts, recomputed from the raw payments, orders and customers alone.

Per card, in event-time order of its on-time payments: two consecutive payments from
different countries less than 10 minutes apart; three consecutive payments less than two
minutes apart (first to last); a payment over five times the mean of the card's earlier
payments, once it has three. Across streams: a payment from a country other than the home
country of its order's customer, both as they were at the payment's time (the latest version
at or before it). Payments and orders behind their partition's stream time by more than the
watermark delay are late and not looked at.
"""

from __future__ import annotations

import duckdb

from flink_jobs.lesson15_alerts.contract import LESSON, RULES
from validation.oracle import (
    Source,
    TopicCheck,
    actual_json,
    compare,
    field,
    load_inputs,
    load_topic,
    versions_view,
)

INPUTS = ("payments", "customers")  # and orders, which the oracle always loads
DELAY_MS = 120_000
TWO_COUNTRIES_MS = 10 * 60_000
RAPID_MS = 2 * 60_000
SPIKE_FACTOR, SPIKE_MIN_HISTORY = 5, 3

ALERT = LESSON.output("alerts").duckdb_columns()
LATE = LESSON.output("l15-alerts-late").duckdb_columns()


def _load(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    load_inputs(con, source, extra=INPUTS)
    load_topic(con, source, "alerts", "out_alerts")
    load_topic(con, source, "l15-alerts-late", "out_late")
    con.execute(f"""
CREATE OR REPLACE VIEW payments_timed AS
SELECT {field('payment_id')} AS payment_id, {field('order_id')} AS order_id, {field('card_id')} AS card_id,
       {field('country')} AS country,
       {field('amount_cents', 'BIGINT')} AS amount_cents, {field('ts_ms', 'BIGINT')} AS ts_ms,
       {field('ts_ms', 'BIGINT')} <= stream_time_ms - {DELAY_MS} AS late,
       topic, "partition", "offset"
FROM payments_judged WHERE reason IS NULL""")
    # An order's versions: valid, on time, the later record winning a tie (as Flink's keep-last).
    con.execute(f"""
CREATE OR REPLACE VIEW order_versions AS
SELECT order_id, customer_id, version_ms FROM (
  SELECT {field('order_id')} AS order_id, {field('customer_id')} AS customer_id,
         {field('ts_ms', 'BIGINT')} AS version_ms,
         row_number() OVER (PARTITION BY {field('order_id')}, {field('ts_ms', 'BIGINT')}
                            ORDER BY "partition", "offset" DESC) AS row_num
  FROM orders_judged
  WHERE reason IS NULL AND {field('ts_ms', 'BIGINT')} > stream_time_ms - {DELAY_MS}
) WHERE row_num = 1""")
    con.execute(versions_view("customers", "customer_id", {"country": "VARCHAR"}))
    con.execute("""
CREATE OR REPLACE VIEW expected_late AS
SELECT payment_id AS id, ts_ms, topic AS source_topic, "partition" AS source_partition,
       "offset" AS source_offset
FROM payments_timed WHERE late""")
    con.execute("""
CREATE OR REPLACE VIEW card_history AS
SELECT *, lag(payment_id) OVER w AS prev_id, lag(country) OVER w AS prev_country,
       lag(ts_ms) OVER w AS prev_ts, lag(payment_id, 2) OVER w AS prev2_id,
       lag(country, 2) OVER w AS prev2_country, lag(ts_ms, 2) OVER w AS prev2_ts,
       count(*) OVER w - 1 AS earlier, sum(amount_cents) OVER w - amount_cents AS earlier_sum
FROM payments_timed WHERE NOT late
WINDOW w AS (PARTITION BY card_id ORDER BY ts_ms ROWS UNBOUNDED PRECEDING)""")
    con.execute(f"""
CREATE OR REPLACE VIEW expected_alerts AS
SELECT 'two-countries:' || payment_id AS alert_id, 'two-countries' AS rule, 'high' AS severity,
       card_id, ts_ms, [prev_id, payment_id] AS payment_ids, [prev_country, country] AS countries,
       amount_cents, 'paid from ' || prev_country || ' then ' || country || ' within 10 minutes' AS detail
FROM card_history WHERE country <> prev_country AND ts_ms - prev_ts < {TWO_COUNTRIES_MS}
UNION ALL
SELECT 'rapid-payments:' || payment_id, 'rapid-payments', 'medium', card_id, ts_ms,
       [prev2_id, prev_id, payment_id], [prev2_country, prev_country, country], amount_cents,
       '3 payments within 2 minutes'
FROM card_history WHERE ts_ms - prev2_ts < {RAPID_MS}
UNION ALL
SELECT 'amount-spike:' || payment_id, 'amount-spike', 'high', card_id, ts_ms, [payment_id],
       [country], amount_cents,
       'amount ' || amount_cents || ' is over {SPIKE_FACTOR} x the mean of ' || earlier
         || ' earlier payments (' || (earlier_sum // earlier) || ')'
FROM card_history
WHERE earlier >= {SPIKE_MIN_HISTORY} AND amount_cents * earlier > {SPIKE_FACTOR} * earlier_sum
UNION ALL
SELECT 'foreign-country:' || p.payment_id, 'foreign-country', 'medium', p.card_id, p.ts_ms,
       [p.payment_id], [c.country, p.country], p.amount_cents,
       'paid from ' || p.country || ', the customer lives in ' || c.country
FROM (SELECT * FROM payments_timed WHERE NOT late) AS p
ASOF JOIN order_versions AS o ON p.order_id = o.order_id AND p.ts_ms >= o.version_ms
ASOF JOIN customers_versions AS c ON o.customer_id = c.customer_id AND p.ts_ms >= c.version_ms
WHERE p.country <> c.country""")


def check(source: Source) -> list[TopicCheck]:
    """Every alert and late payment of the alerts job against the oracle."""
    con = duckdb.connect()
    _load(con, source)
    scalars = {name: sql_type for name, sql_type in ALERT.items() if not sql_type.endswith("[]")}
    actual_alerts = f"""
SELECT {', '.join(f"{field(name, sql_type)} AS {name}" for name, sql_type in scalars.items())},
       json_extract_string(doc, '$.payment_ids[*]') AS payment_ids,
       json_extract_string(doc, '$.countries[*]') AS countries
FROM out_alerts"""
    return [
        compare(con, "alerts", f"SELECT {', '.join(ALERT)} FROM expected_alerts",
                f"SELECT {', '.join(ALERT)} FROM ({actual_alerts})"),
        compare(con, "l15-alerts-late", f"SELECT {', '.join(LATE)} FROM expected_late",
                actual_json("out_late", LATE, with_key=False)),
    ]


def counts(source: Source) -> dict[str, int]:
    """Valid and late payments, and the job's actual alerts per rule."""
    con = duckdb.connect()
    _load(con, source)
    totals = dict(con.execute(
        "SELECT json_extract_string(doc, '$.rule'), count(*) FROM out_alerts GROUP BY 1").fetchall())
    [(valid, late)] = con.execute("SELECT count(*), (SELECT count(*) FROM out_late) FROM payments_timed").fetchall()
    return {"payments": valid, "late": late, **totals}


def explain(source: Source) -> tuple[list[str], bool]:
    """How the input split, for the demo, and whether it balances."""
    c = counts(source)
    rules = RULES
    every_rule = all(c.get(rule, 0) > 0 for rule in rules)
    return [
        f"valid payments {c['payments']}: {c['late']} too late to put in order",
        "alerts: " + ", ".join(f"{rule} {c.get(rule, 0)}" for rule in rules)
        + ("" if every_rule else "  (a rule never fired on the planted fraud)"),
    ], every_rule
