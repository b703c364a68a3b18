"""The warehouse's tables: which topics land where, with which types.

``raw`` keeps every input record as it came (original bytes, headers, heartbeats flagged);
``marts`` holds the jobs' outputs as typed columns. Every row carries its Kafka origin
(topic, partition, offset — the key that makes a load exactly-once) and the load that wrote it.
Event times are ``TIMESTAMPTZ`` (UTC instants), money is integer cents (``BIGINT``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flink_jobs.lesson14_stateless.contract import ITEM_BRANCHES
from streamlab import lessons, topics
from streamlab.generator import HEARTBEAT_HEADER

ORIGIN = [  # (name, type, expression over the batch): every table starts with these
    ("kafka_topic", "VARCHAR", "topic"),
    ("kafka_partition", "INTEGER", '"partition"'),
    ("kafka_offset", "BIGINT", '"offset"'),
    ("kafka_time", "TIMESTAMPTZ", "make_timestamptz(timestamp_ms * 1000)"),
    ("load_id", "BIGINT", "$load_id"),
]


def text(field: str) -> str:
    return f"(doc->>'$.{field}')"


def typed(field: str, sql_type: str) -> str:
    """A payload field as ``sql_type``; NULL (caught by the not-null expectations) if it is not one."""
    return f"TRY_CAST(doc->>'$.{field}' AS {sql_type})"


def instant(field: str) -> str:
    """Epoch milliseconds as a UTC instant; NULL (not a failed load) when it overflows one."""
    return f"try(make_timestamptz({typed(field, 'BIGINT')} * 1000))"


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    topics: tuple[str, ...]
    columns: tuple[tuple[str, str, str], ...]  # (name, type, expression over the batch)
    description: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def ddl(self) -> str:
        columns = ",\n  ".join(f"{name} {sql_type}" for name, sql_type, _ in (*ORIGIN, *self.columns))
        return (f"CREATE TABLE IF NOT EXISTS {self.qualified} (\n  {columns},\n"
                "  PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset)\n)")

    def insert(self, load_id: int) -> str:
        exprs = ", ".join(expr.replace("$load_id", str(load_id)) for _, _, expr in (*ORIGIN, *self.columns))
        listed = ", ".join(f"'{topic}'" for topic in self.topics)
        return f"INSERT INTO {self.qualified} SELECT {exprs} FROM batch_docs WHERE topic IN ({listed})"


def _raw(topic: str, ids: list[str]) -> Table:
    return Table("raw", topic, (topic,), (
        ("key", "VARCHAR", "try(decode(key))"),
        *[(name, "VARCHAR", text(name)) for name in ids],
        ("event_time", "TIMESTAMPTZ", instant("ts_ms")),
        ("heartbeat", "BOOLEAN", f"coalesce(json_exists(headers, '$.\"{HEARTBEAT_HEADER}\"'), false)"),
        ("doc", "JSON", "doc"),
        ("value", "BLOB", "value"),
        ("headers", "JSON", "headers"),
    ), f"Every record of `{topic}` as produced: the parsed JSON (`doc`, NULL if malformed), "
       "the original bytes, and the generator's end-of-data heartbeats flagged.")


def _fields(*spec: str) -> tuple[tuple[str, str, str], ...]:
    """``name:TYPE`` per payload field; ``*_ms`` fields named ``*_time`` become instants."""
    out = []
    for item in spec:
        name, sql_type = item.split(":")
        if sql_type == "INSTANT":
            out.append((name.removesuffix("_ms") + "_time", "TIMESTAMPTZ", instant(name)))
        else:
            out.append((name, sql_type, typed(name, sql_type) if sql_type != "VARCHAR" else text(name)))
    return tuple(out)


WINDOW = ("window_start_ms:INSTANT", "window_end_ms:INSTANT")
LATE_JOB = {lesson.late.topic: lesson.key for lesson in lessons.ALL if lesson.late}
# A late topic without an `origin` column holds its job's first input: the stream it times.
LATE_ORIGIN = {lesson.late.topic: lesson.inputs[0] for lesson in lessons.ALL
               if lesson.late and "origin STRING" not in lesson.late.columns}


def _case(mapping: dict[str, str], default: str = "NULL") -> str:
    whens = " ".join(f"WHEN '{topic}' THEN '{value}'" for topic, value in mapping.items())
    return f"CASE topic {whens} ELSE {default} END"


def _header(name: str, sql_type: str = "VARCHAR") -> str:
    return f"TRY_CAST(headers->>'{name}' AS {sql_type})"


RAW = [
    _raw("clicks", ["event_id", "user_id"]),
    _raw("orders", ["order_id", "customer_id"]),
    _raw("payments", ["payment_id", "order_id", "card_id"]),
    _raw("customers", ["customer_id"]),
    _raw("products", ["product_id"]),
]

MARTS = [
    Table("marts", "clicks", ("l14-clicks",), _fields(
        "event_id:VARCHAR", "user_id:VARCHAR", "page_type:VARCHAR", "path:VARCHAR", "product_id:VARCHAR",
        "device:VARCHAR", "ts_ms:INSTANT"), "Human clicks, normalised (lesson 14: filter + map)."),
    Table("marts", "order_items", tuple(f"l14-items-{b}" for b in ITEM_BRANCHES), (
        ("branch", "VARCHAR", "replace(topic, 'l14-items-', '')"),
        *_fields("order_id:VARCHAR", "line_no:INTEGER", "customer_id:VARCHAR", "product_id:VARCHAR",
                 "category:VARCHAR", "quantity:INTEGER", "unit_price_cents:BIGINT", "line_total_cents:BIGINT",
                 "ts_ms:INSTANT")),
        "Order line items and the branch they were routed to (lesson 14: flatMap + branch)."),
    Table("marts", "revenue_1m", ("l15-revenue-1m",), _fields(
        "category:VARCHAR", *WINDOW, "orders:BIGINT", "items:BIGINT", "revenue_cents:BIGINT"),
        "Orders, items and revenue per category per minute (tumbling window)."),
    Table("marts", "revenue_10m", ("l15-revenue-10m",), _fields(
        "category:VARCHAR", *WINDOW, "orders:BIGINT", "revenue_cents:BIGINT", "avg_order_cents:DOUBLE"),
        "10-minute revenue per category, every minute (hopping window)."),
    Table("marts", "sessions", ("l15-sessions",), _fields(
        "user_id:VARCHAR", "first_activity_ms:INSTANT", "last_activity_ms:INSTANT", "clicks:BIGINT",
        "pages:BIGINT", "orders:BIGINT", "converted:BOOLEAN"),
        "Visits per user, closed after 30 idle minutes (session window)."),
    Table("marts", "late_events", tuple(LATE_JOB), (
        ("job", "VARCHAR", _case(LATE_JOB)),
        ("origin", "VARCHAR", f"coalesce({text('origin')}, {_case(LATE_ORIGIN)})"),
        *_fields("id:VARCHAR", "ts_ms:INSTANT"),
        ("missed_window_start", "TIMESTAMPTZ",
         f"coalesce({instant('missed_window_start_ms')}, {instant('missed_period_start_ms')})"),
        ("missed_window_end", "TIMESTAMPTZ",
         f"coalesce({instant('missed_window_end_ms')}, {instant('missed_period_end_ms')})"),
        *_fields("source_topic:VARCHAR", "source_partition:INTEGER", "source_offset:BIGINT")),
        "Events that came after their window (or join, or pattern) closed, per job, with their origin."),
    Table("marts", "paid_orders", ("l15-paid-orders",), _fields(
        "order_id:VARCHAR", "customer_id:VARCHAR", "order_ts_ms:INSTANT", "payment_id:VARCHAR",
        "card_id:VARCHAR", "payment_country:VARCHAR", "amount_cents:BIGINT", "paid_after_ms:BIGINT"),
        "Orders with the payment that came within 15 minutes (interval join)."),
    Table("marts", "unpaid_orders", ("l15-unpaid-orders",), _fields(
        "order_id:VARCHAR", "customer_id:VARCHAR", "order_ts_ms:INSTANT", "deadline_ms:INSTANT"),
        "Orders with no payment within 15 minutes (outer interval join)."),
    Table("marts", "orders_enriched", ("l15-orders-enriched",), _fields(
        "order_id:VARCHAR", "customer_id:VARCHAR", "ts_ms:INSTANT", "customer_name:VARCHAR", "tier:VARCHAR",
        "country:VARCHAR", "region:VARCHAR", "customer_version_ms:INSTANT"),
        "Orders with the customer as of the order's time (temporal join)."),
    Table("marts", "items_enriched", ("l15-items-enriched",), _fields(
        "order_id:VARCHAR", "line_no:INTEGER", "product_id:VARCHAR", "category:VARCHAR", "quantity:INTEGER",
        "unit_price_cents:BIGINT", "line_total_cents:BIGINT", "ts_ms:INSTANT", "product_name:VARCHAR",
        "list_price_cents:BIGINT", "product_version_ms:INSTANT"),
        "Line items with the product as listed at the order's time (temporal join)."),
    Table("marts", "category_stats", ("l15-category-stats",), _fields(
        "category:VARCHAR", *WINDOW, "items:BIGINT", "revenue_cents:BIGINT", "min_line_cents:BIGINT",
        "max_line_cents:BIGINT", "mean_line_cents:DOUBLE", "stddev_line_cents:DOUBLE"),
        "Per category and 5 minutes: count, sum, min, max, mean, stddev of line totals."),
    Table("marts", "top_products", ("l15-top-products",), (
        *_fields("category:VARCHAR", *WINDOW),
        ("top_products", "STRUCT(product_id VARCHAR, revenue_cents BIGINT)[]",
         "try(from_json(doc->'$.top_products', '[{\"product_id\":\"VARCHAR\",\"revenue_cents\":\"BIGINT\"}]'))")),
        "Per category and 5 minutes: the top-3 products by revenue (custom aggregate)."),
    Table("marts", "revenue_cube", ("l15-revenue-cube",), _fields(
        "cell:VARCHAR", "category:VARCHAR", "region:VARCHAR", "tier:VARCHAR", *WINDOW, "orders:BIGINT",
        "customers:BIGINT", "revenue_cents:BIGINT"),
        "Revenue over CUBE(category, region, tier) per 5 minutes; '*' means 'all', 'unknown' a missing value."),
    Table("marts", "trading_periods", ("l15-trading-periods",), (
        *_fields("category:VARCHAR", "period_start_ms:INSTANT", "period_end_ms:INSTANT"),
        ("store_open", "BOOLEAN", typed("open", "BOOLEAN")),
        *_fields("orders:BIGINT", "items:BIGINT", "revenue_cents:BIGINT")),
        "Revenue per category and trading period (custom window: store hours)."),
    Table("marts", "alerts", ("alerts",), (
        *_fields("alert_id:VARCHAR", "rule:VARCHAR", "severity:VARCHAR", "card_id:VARCHAR", "ts_ms:INSTANT"),
        ("payment_ids", "VARCHAR[]", "TRY_CAST(doc->'$.payment_ids' AS VARCHAR[])"),
        ("countries", "VARCHAR[]", "TRY_CAST(doc->'$.countries' AS VARCHAR[])"),
        *_fields("amount_cents:BIGINT", "detail:VARCHAR")),
        "Fraud alerts per card: rule, severity and the payments that are its evidence."),
    Table("marts", "dead_letters", (topics.DEAD_LETTER.name,), (
        ("job", "VARCHAR", _header("dlq.job")),
        ("reason", "VARCHAR", _header("dlq.reason")),
        ("source_topic", "VARCHAR", _header("dlq.source.topic")),
        ("source_partition", "INTEGER", _header("dlq.source.partition", "INTEGER")),
        ("source_offset", "BIGINT", _header("dlq.source.offset", "BIGINT")),
        ("key", "VARCHAR", "try(decode(key))"),
        ("original", "BLOB", "value")),
        "Malformed or invalid input, with the job that rejected it, why, and the original bytes."),
    Table("marts", "customer_orders_changelog", ("store-customer-orders",), (
        ("customer_id", "VARCHAR", "try(decode(key))"),
        *_fields("orders:BIGINT", "items:BIGINT", "revenue_cents:BIGINT", "last_order_ms:INSTANT")),
        "Every change of the per-customer store (lesson 16); `marts.customer_orders` is its latest state."),
    Table("marts", "product_sales_changelog", ("store-product-sales",), (
        ("product_id", "VARCHAR", "try(decode(key))"),
        *_fields("lines:BIGINT", "units:BIGINT", "revenue_cents:BIGINT", "last_order_ms:INSTANT")),
        "Every change of the per-product store (lesson 16); `marts.product_sales` is its latest state."),
]

TABLES = [*RAW, *MARTS]

# --8<-- [start:store_views]
# A store's current state, as a compacted topic keeps it: the newest value per key, minus tombstones.
VIEWS = {
    f"marts.{name}": f"""CREATE OR REPLACE VIEW marts.{name} AS
SELECT * EXCLUDE (kafka_topic, kafka_partition, kafka_offset, load_id) FROM marts.{name}_changelog
QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY kafka_offset DESC) = 1
  AND revenue_cents IS NOT NULL"""
    for name, key in [("customer_orders", "customer_id"), ("product_sales", "product_id")]
}
# --8<-- [end:store_views]

# What analysts query, and so what the expectation suites cover (a store as its latest state).
MART_NAMES = [t.qualified for t in MARTS if not t.name.endswith("_changelog")] + list(VIEWS)


def by_topic() -> dict[str, Table]:
    return {topic: table for table in TABLES for topic in table.topics}
