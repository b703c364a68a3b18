"""Lesson 15 — cross-stream correlation: fraud alerts from the payments of each card.

    payments ─ validate ─ late? ─┬─ yes ─────────────────────────────────────────► l15-alerts-late
                                 └─ no ─┬─ MATCH_RECOGNIZE (A B), B abroad of A, < 10 min ─┐
                                        ├─ MATCH_RECOGNIZE (A B C) < 2 min ────────────────┼─► alerts
                                        └─ OVER: amount > 5 x the card's running mean ─────┘

Patterns run per card in event-time order (MATCH_RECOGNIZE sorts by the watermark), so a
pattern sees payments in the order they were made, not the order they arrived. Payments
behind their partition's stream time by more than the watermark delay cannot be sorted in and
go to ``l15-alerts-late``.
"""

from __future__ import annotations

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common import kafka_ddl, streams
from flink_jobs.common.runner import JobArgs, run
from flink_jobs.lesson15_alerts.contract import LESSON

WATERMARK_DELAY_S = 120
# --8<-- [start:alert_thresholds]
TWO_COUNTRIES_WITHIN_MIN = 10
RAPID_COUNT, RAPID_WITHIN_MIN = 3, 2
SPIKE_FACTOR, SPIKE_MIN_HISTORY = 5, 3
STATE_TTL = "90 d"
# --8<-- [end:alert_thresholds]


# --8<-- [start:two_countries]
# Kafka Streams would keep each card's recent payments in a window store and scan it in a
# processor; MATCH_RECOGNIZE (Flink CEP) states the pattern and keeps the partial matches.
# A learner writes this query in the lesson's exercise (exercise.py): ``build`` takes it as a keyword.
TWO_COUNTRIES = f"""
SELECT 'two-countries:' || b_id, 'two-countries', 'high', card_id, b_ts,
       ARRAY[a_id, b_id], ARRAY[a_country, b_country], b_amount,
       'paid from ' || a_country || ' then ' || b_country || ' within {TWO_COUNTRIES_WITHIN_MIN} minutes'
FROM payments_on_time
MATCH_RECOGNIZE (
  PARTITION BY card_id ORDER BY ts
  MEASURES A.payment_id AS a_id, A.country AS a_country, B.payment_id AS b_id,
           B.country AS b_country, B.ts_ms AS b_ts, B.amount_cents AS b_amount
  AFTER MATCH SKIP TO NEXT ROW
  PATTERN (A B) WITHIN INTERVAL '{TWO_COUNTRIES_WITHIN_MIN}' MINUTE
  DEFINE B AS B.country <> A.country
)"""
# --8<-- [end:two_countries]


# --8<-- [start:foreign_country]
# Cross-stream correlation: a payment names its order, the order its customer. Two event-time
# temporal joins take each as it was when the payment was made, and the rule compares the
# payment's country with the customer's home country at that moment (a customer who moved
# before paying is not flagged; one who moves after is, for the earlier payments).
FOREIGN_COUNTRY = """
SELECT 'foreign-country:' || p.payment_id, 'foreign-country', 'medium', p.card_id, p.ts_ms,
       ARRAY[p.payment_id], ARRAY[c.country, p.country], p.amount_cents,
       'paid from ' || p.country || ', the customer lives in ' || c.country
FROM payments_on_time AS p
JOIN order_versions FOR SYSTEM_TIME AS OF p.ts AS o ON p.order_id = o.order_id
JOIN customers_versions FOR SYSTEM_TIME AS OF p.ts AS c ON o.customer_id = c.customer_id
WHERE p.country <> c.country"""
# --8<-- [end:foreign_country]


def build(env: TableEnvironment, args: JobArgs, two_countries: str = TWO_COUNTRIES,
          foreign_country: str = FOREIGN_COUNTRY) -> StatementSet:
    # --8<-- [start:state_ttl]
    # The running mean keeps a sum and a count for every card ever seen: forget a card that
    # has not paid for STATE_TTL (it starts a fresh history), so state does not grow forever.
    env.get_config().set("table.exec.state.ttl", STATE_TTL)
    # --8<-- [end:state_ttl]
    # --8<-- [start:state_backend]
    # This job keeps its state on the heap, not in RocksDB like the others. MATCH_RECOGNIZE
    # buffers each card's payments in map state, looks them up by seeking, and deletes them once
    # matched: in RocksDB the seeks step over those deletions and took ~70% of the job's CPU
    # (docs/benchmark/profiles/all.md). Its state is small: partial matches of 10 minutes and
    # a sum and count per card.
    env.get_config().set("state.backend.type", "hashmap")
    # --8<-- [end:state_backend]
    streams.create_event_time_source(env, "payments", args, WATERMARK_DELAY_S)
    kafka_ddl.create_sinks(env, LESSON.writes, args)
    env.execute_sql(f"""
CREATE TEMPORARY VIEW payments_judged AS
SELECT payment_id, order_id, card_id, country, amount_cents, ts_ms, ts,
       {streams.behind("ts", WATERMARK_DELAY_S)} AS late, src_topic, src_partition, src_offset
FROM payments_valid""")
    env.execute_sql("CREATE TEMPORARY VIEW payments_on_time AS SELECT * FROM payments_judged WHERE NOT late")

    # --8<-- [start:order_versions]
    # The tables the foreign-country rule looks up. An order behind its partition's stream time
    # (late, and in l15-joins-late) is left out: a payment the join already passed could not see it.
    streams.create_event_time_source(env, "orders", args, WATERMARK_DELAY_S)
    env.execute_sql(f"""
CREATE TEMPORARY VIEW order_versions AS
SELECT order_id, customer_id, ts FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY ts DESC) AS row_num
  FROM orders_valid WHERE NOT {streams.behind("ts", WATERMARK_DELAY_S)}
) WHERE row_num = 1""")
    streams.create_reference_table(env, "customers", args, WATERMARK_DELAY_S, "customer_id", ["country"])
    # --8<-- [end:order_versions]

    # --8<-- [start:rapid_payments]
    rapid = f"""
SELECT 'rapid-payments:' || c_id, 'rapid-payments', 'medium', card_id, c_ts,
       ARRAY[a_id, b_id, c_id], ARRAY[a_country, b_country, c_country], c_amount,
       '{RAPID_COUNT} payments within {RAPID_WITHIN_MIN} minutes'
FROM payments_on_time
MATCH_RECOGNIZE (
  PARTITION BY card_id ORDER BY ts
  MEASURES A.payment_id AS a_id, B.payment_id AS b_id, C.payment_id AS c_id,
           A.country AS a_country, B.country AS b_country, C.country AS c_country,
           C.ts_ms AS c_ts, C.amount_cents AS c_amount
  AFTER MATCH SKIP TO NEXT ROW
  PATTERN (A B C) WITHIN INTERVAL '{RAPID_WITHIN_MIN}' MINUTE
  DEFINE C AS TRUE
)"""
    # --8<-- [end:rapid_payments]
    # --8<-- [start:amount_spike]
    # The running mean of the card's *earlier* payments: Flink's OVER frame must end at the
    # current row, so the current payment is taken out of the running sum and count again.
    spike = f"""
SELECT 'amount-spike:' || payment_id, 'amount-spike', 'high', card_id, ts_ms,
       ARRAY[payment_id], ARRAY[country], amount_cents,
       'amount ' || CAST(amount_cents AS STRING) || ' is over {SPIKE_FACTOR} x the mean of '
         || CAST(earlier AS STRING) || ' earlier payments (' || CAST(earlier_sum / earlier AS STRING) || ')'
FROM (
  SELECT *, total - amount_cents AS earlier_sum, payments - 1 AS earlier
  FROM (
    SELECT *, SUM(amount_cents) OVER w AS total, COUNT(*) OVER w AS payments
    FROM payments_on_time
    WINDOW w AS (PARTITION BY card_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  )
)
WHERE earlier >= {SPIKE_MIN_HISTORY} AND amount_cents * earlier > {SPIKE_FACTOR} * earlier_sum"""
    # --8<-- [end:amount_spike]

    statements = env.create_statement_set()
    # --8<-- [start:alerts_insert]
    statements.add_insert_sql(f"""
INSERT INTO alerts_out
{two_countries} UNION ALL {rapid} UNION ALL {spike} UNION ALL {foreign_country}""")
    # --8<-- [end:alerts_insert]
    statements.add_insert_sql("""
INSERT INTO late_out
SELECT payment_id, ts_ms, src_topic, src_partition, src_offset FROM payments_judged WHERE late""")
    return statements


if __name__ == "__main__":
    run(LESSON.name, build)
