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
# Each aggregate keeps a few numbers per key, never a set: COUNT(DISTINCT order_id) would keep
# every order id a customer ever had. An order is counted at its first line item instead.
MEASURES = {
    "customer_store": ("customer_id", "SUM(CASE WHEN line_no = 1 THEN 1 ELSE 0 END)", "items"),
    "product_store": ("product_id", "COUNT(*)", "units"),
}


def build(env: TableEnvironment, args: JobArgs) -> StatementSet:
    bootstrap = args.bootstrap_servers
    # --8<-- [start:mini_batch]
    # Mini-batch: each aggregate pre-aggregates a batch of line items per key in memory and
    # touches its state (RocksDB) once per key and batch instead of once per line item. A batch
    # waits at most allow-latency, well inside the 2 s between the commits that publish it.
    config = env.get_config()
    config.set("table.exec.mini-batch.enabled", "true")
    config.set("table.exec.mini-batch.allow-latency", "200 ms")
    config.set("table.exec.mini-batch.size", "5000")
    # --8<-- [end:mini_batch]
    env.execute_sql(kafka_ddl.raw_source("orders_raw", "orders", bootstrap, args.group_id))
    kafka_ddl.create_sinks(env, LESSON.outputs, bootstrap, LESSON.name)  # upserts: the stores are compacted
    streams.create_checked_view(env, "orders")
    streams.create_valid_view(env, "orders")
    streams.create_order_items_view(env)

    statements = env.create_statement_set()
    for table, (key, count, quantity) in MEASURES.items():
        statements.add_insert_sql(f"""
INSERT INTO {table}
SELECT {key}, {count}, SUM(CAST(quantity AS BIGINT)) AS {quantity}, SUM(line_total_cents), MAX(ts_ms)
FROM order_items GROUP BY {key}""")
    # --8<-- [end:store_aggregates]
    return statements


if __name__ == "__main__":
    run(LESSON.name, build)
