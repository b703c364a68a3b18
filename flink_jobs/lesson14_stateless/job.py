"""Lesson 14 — a stateless topology: filter, map, flatMap and branch, with a dead letter.

    clicks ─ validate ─┬─ invalid ─────────────────────────────────────────► dead-letter
                       └─ filter (no bots) ─ map (normalise) ──────────────► l14-clicks
    orders ─ validate ─┬─ invalid ─────────────────────────────────────────► dead-letter
                       └─ flatMap (line items) ─ branch (category) ──────► l14-items-<branch>

Kafka Streams' filter/mapValues/flatMapValues/split().branch() become WHERE, a SELECT
projection, CROSS JOIN UNNEST and one INSERT per branch in a single statement set. All of it
is SQL: the job runs in the JVM with no Python worker.
"""

from __future__ import annotations

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common import checks, kafka_ddl
from flink_jobs.common.runner import JobArgs, run
from streamlab import topics
from streamlab.events import CATEGORIES, DEVICES

NAME = "streamlab-lesson14"
NAMED_BRANCHES = [branch for branch in topics.ITEM_BRANCHES if branch != "other"]
ID = "[A-Za-z0-9_-]+"


def _in(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def click_rules(doc: str) -> list[tuple[str, str]]:
    return [
        *checks.envelope_rules(doc, ["event_id", "user_id"]),
        (checks.not_matching(doc, "$.url", "^/.*"), "url does not start with /"),
        (f"{checks.text(doc, '$.device')} IS NULL OR {checks.text(doc, '$.device')} NOT IN ({_in(DEVICES)})",
         "unknown device"),
        (checks.missing(doc, "$.user_agent"), "missing user_agent"),
    ]


def order_rules(doc: str) -> list[tuple[str, str]]:
    return [
        *checks.envelope_rules(doc, ["order_id", "customer_id"]),
        (f"COALESCE(CARDINALITY({checks.array(doc, '$.items')}), 0) = 0", "items is not a non-empty array"),
        (checks.any_element_not_matching(doc, "$.items", "product_id", ID), "item without a valid product_id"),
        (checks.any_element_not_matching(doc, "$.items", "category", "|".join(CATEGORIES)), "item with an unknown category"),
        (checks.any_element_not_matching(doc, "$.items", "quantity", "[1-9][0-9]{0,2}"), "item quantity not in 1..999"),
        (checks.any_element_not_matching(doc, "$.items", "unit_price_cents", "[0-9]{1,12}"), "item unit_price_cents not a non-negative integer"),
    ]


def build(env: TableEnvironment, args: JobArgs) -> StatementSet:
    bootstrap = args.bootstrap_servers
    env.execute_sql(kafka_ddl.raw_source("clicks_raw", "clicks", bootstrap, args.group_id))
    env.execute_sql(kafka_ddl.raw_source("orders_raw", "orders", bootstrap, args.group_id))
    env.execute_sql(kafka_ddl.dead_letter_sink("dead_letter", topics.DEAD_LETTER.name, bootstrap, NAME))
    env.execute_sql(kafka_ddl.json_sink(
        "clicks_out", "l14-clicks",
        "event_id STRING, user_id STRING, page_type STRING, path STRING, product_id STRING,"
        " device STRING, ts_ms BIGINT",
        "user_id", bootstrap, NAME,
    ))
    item_columns = (
        "order_id STRING, line_no INT, customer_id STRING, product_id STRING, category STRING,"
        " quantity INT, unit_price_cents BIGINT, line_total_cents BIGINT, ts_ms BIGINT"
    )
    for branch in topics.ITEM_BRANCHES:
        env.execute_sql(kafka_ddl.json_sink(
            f"items_{branch}", f"l14-items-{branch}", item_columns, "order_id", bootstrap, NAME
        ))

    # Validate: every record gets a reason (first failing rule) or NULL when it is valid.
    for stream, rules in (("clicks", click_rules), ("orders", order_rules)):
        env.execute_sql(f"""
CREATE TEMPORARY VIEW {stream}_checked AS
SELECT *, {checks.first_failure(rules("doc"))} AS reason
FROM (SELECT *, CAST(payload AS STRING) AS doc FROM {stream}_raw)""")

    # filter (drop bots) + map (normalise the URL, derive the page type and product).
    env.execute_sql(f"""
CREATE TEMPORARY VIEW clicks_clean AS
SELECT event_id, user_id, page_type, path,
       CASE WHEN page_type = 'product' THEN SUBSTRING(path FROM 10) END AS product_id,
       device, ts_ms
FROM (
  SELECT {checks.text('doc', '$.event_id')} AS event_id,
         {checks.text('doc', '$.user_id')} AS user_id,
         path,
         CASE WHEN path = '/' THEN 'home'
              WHEN path LIKE '/product/%' THEN 'product'
              WHEN path LIKE '/category/%' THEN 'category'
              WHEN path = '/cart' THEN 'cart'
              WHEN path = '/search' THEN 'search'
              ELSE 'other' END AS page_type,
         {checks.text('doc', '$.device')} AS device,
         TRY_CAST({checks.text('doc', '$.ts_ms')} AS BIGINT) AS ts_ms
  FROM (
    SELECT *, LOWER(REGEXP_EXTRACT({checks.text('doc', '$.url')}, '^([^?#]*)', 1)) AS path
    FROM clicks_checked
    WHERE reason IS NULL
      AND NOT REGEXP(LOWER({checks.text('doc', '$.user_agent')}), 'bot|spider|crawler')
  )
)""")

    # flatMap: one row per line item, numbered from 1 as in the order.
    env.execute_sql(f"""
CREATE TEMPORARY VIEW order_items AS
SELECT {checks.text('doc', '$.order_id')} AS order_id,
       CAST(line_no AS INT) AS line_no,
       {checks.text('doc', '$.customer_id')} AS customer_id,
       {checks.text('item', '$.product_id')} AS product_id,
       {checks.text('item', '$.category')} AS category,
       TRY_CAST({checks.text('item', '$.quantity')} AS INT) AS quantity,
       TRY_CAST({checks.text('item', '$.unit_price_cents')} AS BIGINT) AS unit_price_cents,
       TRY_CAST({checks.text('item', '$.quantity')} AS INT)
         * TRY_CAST({checks.text('item', '$.unit_price_cents')} AS BIGINT) AS line_total_cents,
       TRY_CAST({checks.text('doc', '$.ts_ms')} AS BIGINT) AS ts_ms
FROM orders_checked
CROSS JOIN UNNEST({checks.array('doc', '$.items')}) WITH ORDINALITY AS t(item, line_no)
WHERE reason IS NULL""")

    statements = env.create_statement_set()
    statements.add_insert_sql("INSERT INTO clicks_out SELECT * FROM clicks_clean")
    # branch: named branches by category, everything else to the default branch.
    for branch in NAMED_BRANCHES:
        statements.add_insert_sql(
            f"INSERT INTO items_{branch} SELECT * FROM order_items WHERE category = '{branch}'"
        )
    statements.add_insert_sql(
        f"INSERT INTO items_other SELECT * FROM order_items WHERE category NOT IN ({_in(NAMED_BRANCHES)})"
    )
    statements.add_insert_sql(
        "INSERT INTO dead_letter "
        + kafka_ddl.dead_letter_select("clicks_checked")
        + "\nUNION ALL"
        + kafka_ddl.dead_letter_select("orders_checked")
    )
    return statements


if __name__ == "__main__":
    run(NAME, build)
