"""Lesson 14's expected outputs: the stateless cleaning, the branches and the dead letter."""

from __future__ import annotations

import duckdb

from streamlab import topics
from validation.oracle import (
    TopicCheck, actual_json, compare, compare_dead_letter, create_judged_views, load_inputs,
    load_topic,
)

JOB = "streamlab-lesson14"

CLICK_COLUMNS = "key, event_id, user_id, page_type, path, product_id, device, ts_ms"
ITEM_COLUMNS = (
    "key, order_id, line_no, customer_id, product_id, category, quantity, unit_price_cents,"
    " line_total_cents, ts_ms"
)


def check(bootstrap: str) -> list[TopicCheck]:
    """Compare every Lesson 14 output topic with the oracle's expectation."""
    con = duckdb.connect()
    load_inputs(con, bootstrap)
    results = []
    click_types = {"event_id": "VARCHAR", "user_id": "VARCHAR", "page_type": "VARCHAR", "path": "VARCHAR",
                   "product_id": "VARCHAR", "device": "VARCHAR", "ts_ms": "BIGINT"}
    load_topic(con, bootstrap, "l14-clicks", "out_clicks")
    results.append(compare(con, "l14-clicks", f"SELECT {CLICK_COLUMNS} FROM expected_clicks",
                            actual_json("out_clicks", click_types)))
    item_types = {"order_id": "VARCHAR", "line_no": "INTEGER", "customer_id": "VARCHAR",
                  "product_id": "VARCHAR", "category": "VARCHAR", "quantity": "INTEGER",
                  "unit_price_cents": "BIGINT", "line_total_cents": "BIGINT", "ts_ms": "BIGINT"}
    named = [b for b in topics.ITEM_BRANCHES if b != "other"]
    for branch in topics.ITEM_BRANCHES:
        topic = f"l14-items-{branch}"
        table = f"out_items_{branch}"
        load_topic(con, bootstrap, topic, table)
        where = (f"category = '{branch}'" if branch != "other"
                 else "category NOT IN (" + ", ".join(f"'{b}'" for b in named) + ")")
        results.append(compare(con, topic, f"SELECT {ITEM_COLUMNS} FROM expected_items WHERE {where}",
                                actual_json(table, item_types)))
    results.append(compare_dead_letter(con, JOB))
    return results


def balance(bootstrap: str) -> dict[str, int]:
    """How the input splits: forwarded + filtered + dead-lettered = produced, per stream."""
    con = duckdb.connect()
    load_topic(con, bootstrap, "clicks", "raw_clicks")
    load_topic(con, bootstrap, "orders", "raw_orders")
    create_judged_views(con)
    row = con.execute(
        """SELECT (SELECT count(*) FROM raw_clicks),
                  (SELECT count(*) FROM expected_clicks),
                  (SELECT count(*) FROM clicks_judged WHERE reason IS NOT NULL),
                  (SELECT count(*) FROM raw_orders),
                  (SELECT count(*) FROM orders_judged WHERE reason IS NULL),
                  (SELECT count(*) FROM orders_judged WHERE reason IS NOT NULL),
                  (SELECT count(*) FROM expected_items)"""
    ).fetchall()[0]
    names = ["clicks_in", "clicks_forwarded", "clicks_dead", "orders_in", "orders_valid",
             "orders_dead", "items"]
    balance = dict(zip(names, row))
    balance["clicks_bots"] = balance["clicks_in"] - balance["clicks_forwarded"] - balance["clicks_dead"]
    return balance


