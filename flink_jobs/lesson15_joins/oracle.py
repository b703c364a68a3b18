"""Lesson 15 joins' expected outputs, recomputed from the raw topics alone.

Orders and payments behind their partition's stream time by more than the watermark delay
are late (and not joined); the rest join as the lesson defines: a payment pays an order when
it comes within 15 minutes of it; an order takes the customer and product versions valid at
its event time (DuckDB's ASOF join: the latest version at or before the order).

The Kafka Streams peer (``check_peer``) is held to the same views with two parameters where the
engines differ (``Lesson15Joins.java`` says why): its interval join matches by the records' keys
(``record_keys``), and its global table gives each line item the product as loaded, its last
record in the topic (``products="loaded"``).
"""

from __future__ import annotations

from typing import Literal

import duckdb

from flink_jobs.lesson15_joins.contract import LESSON
from validation.oracle import Source, TopicCheck, actual_json, compare, field, load_inputs, load_topic, versions_view

DELAY_MS = 120_000
PAYMENT_WITHIN_MS = 15 * 60_000

PAID = LESSON.output("l15-paid-orders").duckdb_columns()
UNPAID = LESSON.output("l15-unpaid-orders").duckdb_columns()
ORDERS_ENRICHED = LESSON.output("l15-orders-enriched").duckdb_columns()
ITEMS_ENRICHED = LESSON.output("l15-items-enriched").duckdb_columns()
LATE = LESSON.output("l15-joins-late").duckdb_columns()
OUTPUTS = {  # topic: (loaded table, expected view, columns)
    "l15-paid-orders": ("out_paid", "expected_paid", PAID),
    "l15-unpaid-orders": ("out_unpaid", "expected_unpaid", UNPAID),
    "l15-orders-enriched": ("out_orders_enriched", "expected_orders_enriched", ORDERS_ENRICHED),
    "l15-items-enriched": ("out_items_enriched", "expected_items_enriched", ITEMS_ENRICHED),
    "l15-joins-late": ("out_joins_late", "expected_joins_late", LATE),
}


def _load(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    _expect(con, source)
    for topic, (table, _, _) in OUTPUTS.items():
        load_topic(con, source, topic, table)


def _expect(con: duckdb.DuckDBPyConnection, source: Source, record_keys: bool = False,
            products: Literal["as-of", "loaded"] = "as-of") -> None:
    """The expected views. ``record_keys``: an order and a payment match by their records' keys
    rather than by the payment's ``order_id``, and a customer's versions are its record key's.
    ``products``: a line item takes the product as of the order's time, or as loaded (each
    record key's last record, none if it breaks the rules)."""
    load_inputs(con, source, extra=("payments", "customers", "products"))
    for stream, id_field in (("orders", "order_id"), ("payments", "payment_id")):
        con.execute(f"""
CREATE OR REPLACE VIEW {stream}_timed AS
SELECT *, {field(id_field)} AS id, {field('ts_ms', 'BIGINT')} AS ts_ms,
       {field('ts_ms', 'BIGINT')} <= stream_time_ms - {DELAY_MS} AS late
FROM {stream}_judged WHERE reason IS NULL""")
    customer_fields = {"name": "VARCHAR", "tier": "VARCHAR", "country": "VARCHAR", "region": "VARCHAR"}
    con.execute(versions_view("customers", "customer_id", customer_fields, by_record_key=record_keys))
    con.execute(versions_view("products", "product_id", {"name": "VARCHAR", "price_cents": "BIGINT"}))
    # An on-time payment within 15 minutes after the order pays it.
    match = "o.key = p.key" if record_keys else f"o.id = {field('order_id', doc='p.doc')}"
    pays = f"{match} AND NOT p.late AND p.ts_ms BETWEEN o.ts_ms AND o.ts_ms + {PAYMENT_WITHIN_MS}"
    con.execute("""
CREATE OR REPLACE VIEW expected_joins_late AS
SELECT stream AS origin, id, ts_ms, topic AS source_topic, "partition" AS source_partition,
       "offset" AS source_offset
FROM (SELECT 'orders' AS stream, * FROM orders_timed UNION ALL BY NAME
      SELECT 'payments' AS stream, * FROM payments_timed)
WHERE late""")
    con.execute(f"""
CREATE OR REPLACE VIEW expected_paid AS
SELECT o.id AS order_id, {field('customer_id', doc='o.doc')} AS customer_id, o.ts_ms AS order_ts_ms,
       p.id AS payment_id, {field('card_id', doc='p.doc')} AS card_id,
       {field('country', doc='p.doc')} AS payment_country,
       {field('amount_cents', 'BIGINT', 'p.doc')} AS amount_cents, p.ts_ms - o.ts_ms AS paid_after_ms
FROM orders_timed AS o JOIN payments_timed AS p ON {pays}
WHERE NOT o.late""")
    con.execute(f"""
CREATE OR REPLACE VIEW expected_unpaid AS
SELECT id AS order_id, {field('customer_id')} AS customer_id, ts_ms AS order_ts_ms,
       ts_ms + {PAYMENT_WITHIN_MS} AS deadline_ms
FROM orders_timed AS o
WHERE NOT late AND NOT EXISTS (SELECT 1 FROM payments_timed AS p WHERE {pays})""")
    con.execute(f"""
CREATE OR REPLACE VIEW expected_orders_enriched AS
SELECT o.id AS order_id, o.customer_id, o.ts_ms, c.name AS customer_name, c.tier, c.country,
       c.region, c.version_ms AS customer_version_ms
FROM (SELECT *, json_extract_string(doc, '$.customer_id') AS customer_id
      FROM orders_timed WHERE NOT late) AS o
ASOF LEFT JOIN customers_versions AS c
  ON {"encode(o.customer_id) = c.key" if record_keys else "o.customer_id = c.customer_id"} AND o.ts_ms >= c.version_ms""")
    if products == "loaded":
        # A global table is its topic: each record key's last record, one that breaks the rules
        # no product (the topic has one partition, so offsets order it).
        con.execute(f"""
CREATE OR REPLACE VIEW products_loaded AS
SELECT key, CASE WHEN reason IS NULL THEN {field('name')} END AS name,
       CASE WHEN reason IS NULL THEN {field('price_cents', 'BIGINT')} END AS price_cents,
       CASE WHEN reason IS NULL THEN {field('ts_ms', 'BIGINT')} END AS version_ms
FROM products_judged WHERE key IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY key ORDER BY "offset" DESC) = 1""")
        lookup = "LEFT JOIN products_loaded AS p ON p.key = encode(i.product_id)"
    else:
        lookup = "ASOF LEFT JOIN products_versions AS p ON i.product_id = p.product_id AND i.ts_ms >= p.version_ms"
    con.execute(f"""
CREATE OR REPLACE VIEW expected_items_enriched AS
SELECT i.order_id, i.line_no, i.product_id, i.category, i.quantity, i.unit_price_cents,
       i.line_total_cents, i.ts_ms, p.name AS product_name, p.price_cents AS list_price_cents,
       p.version_ms AS product_version_ms
FROM (expected_items SEMI JOIN (SELECT topic AS src_topic, "partition" AS src_partition,
                                       "offset" AS src_offset FROM orders_timed WHERE NOT late)
      USING (src_topic, src_partition, src_offset)) AS i
{lookup}""")


def check(source: Source) -> list[TopicCheck]:
    """Every output of the joins job against the oracle."""
    con = duckdb.connect()
    _load(con, source)
    results = [
        compare(con, topic, f"SELECT {', '.join(columns)} FROM {expected}",
                actual_json(table, columns, with_key=False))
        for topic, (table, expected, columns) in OUTPUTS.items()
    ]
    return results


def check_peer(source: Source) -> list[TopicCheck]:
    """The Kafka Streams peer's topics against the same views, with the peer's two parameters."""
    con = duckdb.connect()
    _expect(con, source, record_keys=True, products="loaded")
    results = []
    for output, topic in LESSON.peer.topics:
        table, expected, columns = OUTPUTS[output]
        load_topic(con, source, topic, f"peer_{table}")
        results.append(compare(con, topic, f"SELECT {', '.join(columns)} FROM {expected}",
                               actual_json(f"peer_{table}", columns, with_key=False)))
    return results


def balance(source: Source) -> dict[str, int]:
    """Valid orders = paid + unpaid + late, counted in the job's actual outputs."""
    con = duckdb.connect()
    _load(con, source)
    row = con.execute("""
        SELECT (SELECT count(*) FROM orders_timed), (SELECT count(*) FROM out_paid),
               (SELECT count(*) FROM out_unpaid),
               (SELECT count(*) FROM out_joins_late WHERE json_extract_string(doc, '$.origin') = 'orders'),
               (SELECT count(*) FROM out_orders_enriched), (SELECT count(*) FROM out_items_enriched)
        """).fetchall()[0]
    return dict(zip(["orders", "paid", "unpaid", "late", "enriched_orders", "enriched_items"], row))


def explain(source: Source) -> tuple[list[str], bool]:
    """How the input split, for the demo, and whether it balances."""
    b = balance(source)
    balanced = b["paid"] + b["unpaid"] + b["late"] == b["orders"] == b["enriched_orders"] + b["late"]
    return [
        f"valid orders {b['orders']} = {b['paid']} paid within 15 min + {b['unpaid']} unpaid + "
        f"{b['late']} too late to join" + ("" if balanced else "  (DOES NOT balance)"),
        f"{b['enriched_orders']} orders enriched with the customer as of their time, "
        f"{b['enriched_items']} line items with the product",
    ], balanced
