"""Lesson 15 — joins: stream-stream (interval), stream-table and global-table (temporal), in SQL.

    orders ───┬─ late? ─ yes ─────────────────────────────────────────────► l15-joins-late
    payments ─┤
              └─ on time ─ orders ⟕ payments within 15 min ─┬─ matched ────► l15-paid-orders
                                                            └─ no payment ─► l15-unpaid-orders
    orders (on time) ⟕ customers FOR SYSTEM_TIME AS OF order time ───────────► l15-orders-enriched
    line items (on time) ⟕ products FOR SYSTEM_TIME AS OF order time ────────► l15-items-enriched

Every join is in event time, so its result depends on the data alone: the customer (and the
product price) *as it was when the order was placed*, not whatever happened to be loaded when
the record came by. Records behind their partition's stream time by more than the watermark
delay go to ``l15-joins-late`` instead: an interval or temporal join would otherwise drop or
mis-join them depending on how the source happened to interleave partitions.
"""

from __future__ import annotations

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common import kafka_ddl, streams
from flink_jobs.common.runner import JobArgs, run
from flink_jobs.lesson15_joins.contract import LESSON

WATERMARK_DELAY_S = 120  # the generator's disorder (20 s) with room to spare
PAYMENT_WITHIN_MIN = 15

FACTS = {"orders": "order_id", "payments": "payment_id"}  # stream: the id a late record is known by


# The queries a learner writes in this lesson's exercises (exercise.py); ``build`` takes each as
# a keyword.

# --8<-- [start:interval_join]
# KStream-KStream join with JoinWindows(15 min), left outer: a payment within 15 minutes
# of its order pays it; an order the payments' watermark passes unmatched is unpaid.
PAYMENT_MATCHES = f"""
SELECT o.order_id, o.customer_id, o.ts_ms AS order_ts_ms, p.payment_id, p.card_id,
       p.country AS payment_country, p.amount_cents, p.ts_ms - o.ts_ms AS paid_after_ms
FROM orders_on_time AS o
LEFT JOIN payments_on_time AS p
  ON o.order_id = p.order_id
 AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '{PAYMENT_WITHIN_MIN}' MINUTE"""
# --8<-- [end:interval_join]

# --8<-- [start:temporal_join_customers]
# KStream-KTable join: the customer version valid at the order's event time.
ORDERS_ENRICHED = """
SELECT o.order_id, o.customer_id, o.ts_ms, c.name, c.tier, c.country, c.region, c.version_ms
FROM orders_on_time AS o
LEFT JOIN customers_versions FOR SYSTEM_TIME AS OF o.ts AS c
  ON o.customer_id = c.customer_id"""
# --8<-- [end:temporal_join_customers]


def build(env: TableEnvironment, args: JobArgs, payment_matches: str = PAYMENT_MATCHES,
          orders_enriched: str = ORDERS_ENRICHED) -> StatementSet:
    # State on the heap: it is small and bounded (orders and payments for 15 minutes plus the
    # watermark delay, every customer's and product's versions), and in RocksDB every record
    # was reads, writes and seeks of it.
    env.get_config().set("state.backend.type", "hashmap")
    for stream in FACTS:
        streams.create_event_time_source(env, stream, args, WATERMARK_DELAY_S)
        env.execute_sql(f"""
CREATE TEMPORARY VIEW {stream}_judged AS
SELECT *, {streams.behind("ts", WATERMARK_DELAY_S)} AS late FROM {stream}_valid""")
        env.execute_sql(f"CREATE TEMPORARY VIEW {stream}_on_time AS SELECT * FROM {stream}_judged WHERE NOT late")
    # --8<-- [start:reference_tables]
    streams.create_reference_table(env, "customers", args, WATERMARK_DELAY_S,
                                   "customer_id", ["name", "tier", "country", "region"])
    streams.create_reference_table(env, "products", args, WATERMARK_DELAY_S, "product_id", ["name", "price_cents"])
    # --8<-- [end:reference_tables]
    kafka_ddl.create_sinks(env, LESSON.writes, args)

    env.execute_sql(f"CREATE TEMPORARY VIEW payment_matches AS {payment_matches}")
    env.execute_sql(f"CREATE TEMPORARY VIEW orders_enriched AS {orders_enriched}")

    # --8<-- [start:temporal_join_products]
    # KStream-GlobalKTable join, in event time: the product as listed when the order was placed.
    streams.create_order_items_view(env, source="orders_on_time", name="items_on_time", keep=["ts"])
    env.execute_sql("""
CREATE TEMPORARY VIEW items_enriched AS
SELECT i.order_id, i.line_no, i.product_id, i.category, i.quantity, i.unit_price_cents,
       i.line_total_cents, i.ts_ms, p.name, p.price_cents, p.version_ms
FROM items_on_time AS i
LEFT JOIN products_versions FOR SYSTEM_TIME AS OF i.ts AS p
  ON i.product_id = p.product_id""")
    # --8<-- [end:temporal_join_products]

    statements = env.create_statement_set()
    # --8<-- [start:paid_and_unpaid]
    statements.add_insert_sql("INSERT INTO paid_out SELECT * FROM payment_matches WHERE payment_id IS NOT NULL")
    statements.add_insert_sql(f"""
INSERT INTO unpaid_out
SELECT order_id, customer_id, order_ts_ms, order_ts_ms + {PAYMENT_WITHIN_MIN * 60_000}
FROM payment_matches WHERE payment_id IS NULL""")
    # --8<-- [end:paid_and_unpaid]
    statements.add_insert_sql("INSERT INTO orders_enriched_out SELECT * FROM orders_enriched")
    statements.add_insert_sql("INSERT INTO items_enriched_out SELECT * FROM items_enriched")
    late = "\nUNION ALL\n".join(
        f"SELECT '{stream}', {id_field}, ts_ms, src_topic, src_partition, src_offset"
        f" FROM {stream}_judged WHERE late"
        for stream, id_field in FACTS.items())
    statements.add_insert_sql(f"INSERT INTO late_out {late}")
    return statements


if __name__ == "__main__":
    run(LESSON.name, build)
