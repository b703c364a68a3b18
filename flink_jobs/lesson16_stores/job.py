"""Lesson 16 — interactive queries: key aggregates materialised into compacted topics.

    orders ─ validate ─┬─ invalid ──────────────────────────────────────► dead-letter
                       └─ flatMap ─┬─ GROUP BY customer ─► store-customer-orders (upsert, compacted)
                                   └─ GROUP BY product ──► store-product-sales   (upsert, compacted)

A Kafka Streams state store is queried in place and restored from its changelog topic. Flink's
state cannot be queried from outside any more (queryable state is gone in 2.x), so the store
*is* the changelog: each aggregate's latest value per key, upserted into a compacted topic
that `streamlab query` (streamlab.data.stores) restores into a lookup table on start. All SQL.
"""

from __future__ import annotations

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common import kafka_ddl, streams
from flink_jobs.common.runner import JobArgs, run
from flink_jobs.lesson16_stores.contract import LESSON

# --8<-- [start:store_aggregates]
# Each store's table: one row per key, updated by every line item (upserts into a compacted
# topic). Each aggregate keeps a few numbers per key, never a set: COUNT(DISTINCT order_id)
# would keep every order id a customer ever had, so an order is counted at its first line item.
# A learner writes CUSTOMER_STORE in the lesson's exercise (exercise.py): ``build`` takes each
# store's query as a keyword.
CUSTOMER_STORE = """
SELECT customer_id, SUM(CASE WHEN line_no = 1 THEN 1 ELSE 0 END) AS orders,
       SUM(CAST(quantity AS BIGINT)) AS items, SUM(line_total_cents) AS revenue_cents,
       MAX(ts_ms) AS last_order_ms
FROM order_items GROUP BY customer_id"""

PRODUCT_STORE = """
SELECT product_id, COUNT(*) AS lines, SUM(CAST(quantity AS BIGINT)) AS units,
       SUM(line_total_cents) AS revenue_cents, MAX(ts_ms) AS last_order_ms
FROM order_items GROUP BY product_id"""
# --8<-- [end:store_aggregates]


def build(env: TableEnvironment, args: JobArgs, customer_store: str = CUSTOMER_STORE,
          product_store: str = PRODUCT_STORE) -> StatementSet:
    # --8<-- [start:mini_batch]
    # Mini-batch: each aggregate pre-aggregates a batch of line items per key in memory and
    # touches its state (RocksDB) once per key and batch instead of once per line item. A batch
    # waits at most allow-latency, well inside the 2 s between the commits that publish it.
    config = env.get_config()
    config.set("table.exec.mini-batch.enabled", "true")
    config.set("table.exec.mini-batch.allow-latency", "200 ms")
    config.set("table.exec.mini-batch.size", "5000")
    # --8<-- [end:mini_batch]
    env.execute_sql(kafka_ddl.raw_source("orders_raw", "orders", args))
    kafka_ddl.create_sinks(env, LESSON.outputs, args)  # upserts: the stores are compacted
    streams.create_checked_view(env, "orders")
    streams.create_valid_view(env, "orders")
    streams.create_order_items_view(env)

    statements = env.create_statement_set()
    statements.add_insert_sql(f"INSERT INTO customer_store {customer_store}")
    statements.add_insert_sql(f"INSERT INTO product_store {product_store}")
    return statements


if __name__ == "__main__":
    run(LESSON.name, build)
