"""Lesson 16's expected store contents: per customer and per product, over every valid order.

The store is what a reader restores from the compacted topic: the latest value per key (by
offset; a key always lands in the same partition)."""

from __future__ import annotations

import duckdb

from flink_jobs.lesson16_stores.contract import LESSON
from streamlab.data import stores
from validation.oracle import ORDER_RECORDS, Source, TopicCheck, compare, field, load_inputs, load_topic

STORES = {  # topic: (key, what is counted, its column, the quantity column)
    "store-customer-orders": ("customer_id", ORDER_RECORDS, "orders", "items"),
    "store-product-sales": ("product_id", "count(*)", "lines", "units"),
}


def expected(key: str, count: str, counted: str, quantity: str) -> str:
    return f"""
SELECT {key} AS key, {key}, {count} AS {counted}, sum(quantity)::BIGINT AS {quantity},
       sum(line_total_cents)::BIGINT AS revenue_cents, max(ts_ms) AS last_order_ms
FROM expected_items GROUP BY {key}"""


def latest(table: str, key: str, counted: str, quantity: str) -> str:
    columns = ", ".join(field(name, "BIGINT") + f" AS {name}"
                        for name in (counted, quantity, "revenue_cents", "last_order_ms"))
    return f"""
SELECT decode(key) AS key, {field(key)} AS {key}, {columns}
FROM {table} QUALIFY row_number() OVER (PARTITION BY key ORDER BY "offset" DESC) = 1"""


def check(source: Source) -> list[TopicCheck]:
    con = duckdb.connect()
    load_inputs(con, source)
    results = []
    for topic, (key, count, counted, quantity) in STORES.items():
        table = "out_" + topic.replace("-", "_")
        load_topic(con, source, topic, table)
        results.append(compare(con, topic, expected(key, count, counted, quantity),
                               latest(table, key, counted, quantity)))
    return results


def check_peer(source: Source) -> list[TopicCheck]:
    """The Kafka Streams peer's store updates, each key's last one, against the same stores."""
    con = duckdb.connect()
    load_inputs(con, source)
    results = []
    for topic, (key, count, counted, quantity) in STORES.items():
        peer_topic = LESSON.peer.topic(topic)
        table = "peer_" + topic.replace("-", "_")
        load_topic(con, source, peer_topic, table)
        results.append(compare(con, peer_topic, expected(key, count, counted, quantity),
                               latest(table, key, counted, quantity)))
    return results


def explain(bootstrap: str) -> tuple[list[str], bool]:
    """How the input split, for the demo, and whether it balances."""
    customers = stores.restored(bootstrap, "customer-orders")
    products = stores.restored(bootstrap, "product-sales")
    # Two stores over the same line items: each must hold all of the revenue.
    revenue = [sum(v["revenue_cents"] for v in view.values.values()) for view in (customers, products)]
    balanced = revenue[0] == revenue[1]
    best, value = max(customers.values.items(), key=lambda item: item[1]["revenue_cents"])
    return [
        f"store customer-orders: {len(customers.values)} keys restored from {customers.records_read} "
        f"changelog records; store product-sales: {len(products.values)} keys",
        f"revenue {revenue[0]} cents over customers = {revenue[1]} over products"
        + ("" if balanced else "  (DOES NOT balance)"),
        f"streamlab query customer-orders {best} -> {value['orders']} orders, "
        f"{value['revenue_cents']} cents",
    ], balanced
