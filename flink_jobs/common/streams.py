"""The raw streams as every job sees them: parsed once, validated, typed and flattened views.

``create_checked_view`` parses each record's JSON once into named text columns and gives it a
``reason`` (the first rule it breaks, NULL when valid; heartbeats are skipped);
``create_valid_view`` keeps the valid records with typed columns. ``create_clean_clicks_view``
and ``create_order_items_view`` are the stateless steps of Lesson 14, shared by the jobs that
build on them.
"""

from __future__ import annotations

from pyflink.table import TableEnvironment

from flink_jobs.common import checks, kafka_ddl
from flink_jobs.common.runner import JobArgs
from streamlab.wire.events import CATEGORIES, COUNTRY_REGION, DEVICES, TIERS

ID = "[A-Za-z0-9_-]+"

# --8<-- [start:fields]
# The fields each stream's JSON is parsed into, in one pass per record (JSON_FIELDS). Every
# event also has schema_version and ts_ms. A [*] path gives one text per array element.
FIELDS = {
    "clicks": "event_id, user_id, url, device, user_agent",
    "orders": "order_id, customer_id, items[*].product_id AS item_product_ids,"
              " items[*].category AS item_categories, items[*].quantity AS item_quantities,"
              " items[*].unit_price_cents AS item_unit_prices",
    "payments": "payment_id, order_id, card_id, country, amount_cents",
    "customers": "customer_id, name, tier, country, region",
    "products": "product_id, name, category, price_cents",
}
# What a job works on once a record is valid: named columns of their types (the rules have
# checked that every cast succeeds).
TYPED = {
    "clicks": "event_id, user_id, url, device, user_agent",
    "orders": "order_id, customer_id, item_product_ids, item_categories, item_quantities, item_unit_prices",
    "payments": "payment_id, order_id, card_id, country, TRY_CAST(amount_cents AS BIGINT) AS amount_cents",
    "customers": "customer_id, name, tier, country, region",
    "products": "product_id, name, category, TRY_CAST(price_cents AS BIGINT) AS price_cents",
}
# --8<-- [end:fields]


def sql_list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# --8<-- [start:click_and_order_rules]
def click_rules() -> list[tuple[str, str]]:
    return [
        *checks.envelope_rules(["event_id", "user_id"]),
        (checks.not_matching("url", "^/.*"), "url does not start with /"),
        (checks.not_one_of("device", DEVICES), "unknown device"),
        (checks.missing("user_agent"), "missing user_agent"),
    ]


def order_rules() -> list[tuple[str, str]]:
    every = checks.any_element_not_matching
    return [
        *checks.envelope_rules(["order_id", "customer_id"]),
        ("COALESCE(CARDINALITY(item_product_ids), 0) = 0", "items is not a non-empty array"),
        (every("item_product_ids", ID), "item without a valid product_id"),
        (every("item_categories", "|".join(CATEGORIES)), "item with an unknown category"),
        (every("item_quantities", "[1-9][0-9]{0,2}"), "item quantity not in 1..999"),
        (every("item_unit_prices", "[0-9]{1,12}"), "item unit_price_cents not a non-negative integer"),
    ]
# --8<-- [end:click_and_order_rules]


def payment_rules() -> list[tuple[str, str]]:
    return [
        *checks.envelope_rules(["payment_id", "order_id", "card_id"]),
        (checks.not_one_of("country", list(COUNTRY_REGION)), "unknown country"),
        (checks.not_matching("amount_cents", "^[0-9]{1,12}$"), "amount_cents is not a non-negative integer"),
    ]


def customer_rules() -> list[tuple[str, str]]:
    return [
        *checks.envelope_rules(["customer_id", "name", "country"]),
        (checks.not_one_of("tier", TIERS), "unknown tier"),
        (checks.not_one_of("region", sorted(set(COUNTRY_REGION.values()))), "unknown region"),
    ]


def product_rules() -> list[tuple[str, str]]:
    return [
        *checks.envelope_rules(["product_id", "name"]),
        (checks.not_one_of("category", CATEGORIES), "unknown category"),
        (checks.not_matching("price_cents", "^[0-9]{1,12}$"), "price_cents is not a non-negative integer"),
    ]


RULES = {"clicks": click_rules, "orders": order_rules, "payments": payment_rules,
         "customers": customer_rules, "products": product_rules}


# --8<-- [start:checked_view]
def parse(stream: str) -> str:
    """The stream's record parsed once into the text columns of ``FIELDS`` (a ROW, NULL when
    the bytes are not a JSON object)."""
    return f"JSON_FIELDS(payload, 'schema_version, ts_ms, {FIELDS[stream]}')"


def create_checked_view(env: TableEnvironment, stream: str, source: str | None = None) -> None:
    """``<stream>_checked``: every non-heartbeat record, its parsed fields as columns, with its
    ``reason``. It parses ``<stream>_raw``, unless ``source`` names a view that has parsed it
    already into ``doc`` (``<stream>_timed``)."""
    parsed = source or f"(SELECT *, {parse(stream)} AS doc FROM {stream}_raw)"
    checked = env.sql_query(f"""
SELECT *, {checks.first_failure(RULES[stream]())} AS reason
FROM (SELECT *, doc.* FROM {parsed} WHERE NOT heartbeat)""")
    # A view of a table, not CREATE VIEW: the branches after it (valid records, dead letters)
    # share its one parse, where each would expand a SQL view and parse the record again.
    env.create_temporary_view(f"{stream}_checked", checked)
# --8<-- [end:checked_view]


# --8<-- [start:valid_view]
def create_valid_view(env: TableEnvironment, stream: str, keep: list[str] = []) -> None:  # noqa: B006
    """``<stream>_valid``: the valid records of ``<stream>_checked`` as typed columns (``TYPED``),
    with their origin and the ``keep`` columns (e.g. the event-time ``ts``)."""
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {stream}_valid AS
SELECT {TYPED[stream]}, TRY_CAST(ts_ms AS BIGINT) AS ts_ms,
       src_topic, src_partition, src_offset{_extra(keep)}
FROM {stream}_checked WHERE reason IS NULL""")
# --8<-- [end:valid_view]


def create_event_time_source(env: TableEnvironment, stream: str, args: JobArgs, delay_s: int) -> None:
    """``<stream>_raw`` with event time and a watermark ``delay_s`` behind, ``<stream>_timed``
    (plus stream time), ``<stream>_checked`` (its dead letters) and ``<stream>_valid`` (the
    typed valid records, with ``ts`` and ``stream_time``)."""
    env.execute_sql(kafka_ddl.raw_source(f"{stream}_raw", stream, args, watermark_delay_s=delay_s))
    create_stream_time_view(env, stream)
    create_checked_view(env, stream, source=f"{stream}_timed")
    create_valid_view(env, stream, keep=["ts", "stream_time"])


# --8<-- [start:stream_time]
def create_stream_time_view(env: TableEnvironment, stream: str) -> None:
    """``<stream>_timed``: ``<stream>_raw``'s origin, ``ts`` and parsed ``doc``, plus
    ``stream_time``, the largest trusted event time (``kafka_ddl.trusted``) seen so far in the
    record's partition (heartbeats included), as Kafka Streams tracks it: a record whose
    ``ts_ms`` is not an integer, or is ahead of its append time, never moves it. Such a
    record is dead-lettered; one that breaks only another rule moves it, as a record a Kafka
    Streams topology filters out does, because the watermark (computed at the source, from
    the record's time alone) must never lead stream time. The record is parsed here, before this state, so
    every branch of a job after it shares the one parse.

    It is keyed state, so it survives a restore; Flink's watermark does not (it restarts from
    nothing and would let records through for windows that already fired). Judging lateness
    by it also makes the verdict independent of how the source interleaves partitions. It is a
    plain timestamp (CAST), not a time attribute: only ``ts`` drives windows and joins.
    """
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {stream}_timed AS
SELECT *, CAST(MAX({kafka_ddl.trusted()}) OVER (PARTITION BY src_partition ORDER BY proc
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS TIMESTAMP_LTZ(3))
            AS stream_time
FROM (SELECT src_topic, src_partition, src_offset, src_timestamp, heartbeat, ts, proc,
             {parse(stream)} AS doc
      FROM {stream}_raw)""")


def behind(time: str, delay_s: int) -> str:
    """True when ``time`` is at or behind the record's partition stream time less ``delay_s``.

    Sources' watermarks trail stream time by the same delay, so a record for which this is
    false is never behind the watermark of any operator downstream: judged on time, it is
    treated as on time everywhere, whatever the partition interleaving or a restore did.
    """
    return f"{time} <= stream_time - {kafka_ddl.interval(delay_s)}"
# --8<-- [end:stream_time]


def create_reference_table(
    env: TableEnvironment, table: str, args: JobArgs, delay_s: int, key: str, columns: list[str]
) -> None:
    """``<table>_versions`` (see ``create_versioned_view``) from the ``table`` topic, with
    ``<table>_checked`` for its dead letters."""
    env.execute_sql(kafka_ddl.raw_source(f"{table}_raw", table, args, watermark_delay_s=delay_s))
    create_checked_view(env, table)
    create_valid_view(env, table, keep=["ts"])
    create_versioned_view(env, table, key, columns)


def epoch_ms(column: str) -> str:
    """Epoch milliseconds of a window bound (window TVFs give a UTC TIMESTAMP on a whole second)."""
    return f"CAST(TIMESTAMPDIFF(SECOND, TIMESTAMP '1970-01-01 00:00:00', {column}) AS BIGINT) * 1000"


# --8<-- [start:versioned_view]
def create_versioned_view(env: TableEnvironment, table: str, key: str, columns: list[str]) -> None:
    """``<table>_versions``: the valid records of ``<table>_valid`` as a versioned table keyed
    by ``key`` (Flink infers it from a keep-last deduplication on the event time), the table
    side of an event-time temporal join: ``key``, ``columns``, ``version_ms`` (the version's
    ``ts_ms``) and ``ts``."""
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {table}_versions AS
SELECT {key}, {', '.join(columns)}, ts_ms AS version_ms, ts FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY ts DESC) AS row_num
  FROM {table}_valid
) WHERE row_num = 1""")
# --8<-- [end:versioned_view]


def _extra(columns: list[str]) -> str:
    return "".join(f", {column}" for column in columns)


# --8<-- [start:clean_clicks_view]
def clean_clicks(keep: list[str] = []) -> str:  # noqa: B006
    """filter (no bots) + map (normalise the URL, derive page type and product) of the valid clicks.

    ``keep`` names columns of ``clicks_valid`` to carry along (e.g. the event-time ``ts``).
    """
    return f"""
SELECT event_id, user_id, page_type, path,
       CASE WHEN page_type = 'product' THEN SUBSTRING(path FROM 10) END AS product_id,
       device, ts_ms{_extra(keep)}
FROM (
  SELECT *, CASE WHEN path = '/' THEN 'home'
                 WHEN path LIKE '/product/%' THEN 'product'
                 WHEN path LIKE '/category/%' THEN 'category'
                 WHEN path = '/cart' THEN 'cart'
                 WHEN path = '/search' THEN 'search'
                 ELSE 'other' END AS page_type
  FROM (
    SELECT *, LOWER(REGEXP_EXTRACT(url, '^([^?#]*)', 1)) AS path
    FROM clicks_valid
    WHERE NOT REGEXP(LOWER(user_agent), 'bot|spider|crawler')
  )
)"""


def create_clean_clicks_view(env: TableEnvironment, name: str = "clicks_clean", keep: list[str] = []) -> None:  # noqa: B006
    """``name``: the clicks of ``clean_clicks(keep)``."""
    env.execute_sql(f"CREATE TEMPORARY VIEW {name} AS {clean_clicks(keep)}")
# --8<-- [end:clean_clicks_view]


# --8<-- [start:order_items_view]
def create_order_items_view(
    env: TableEnvironment, source: str = "orders_valid", name: str = "order_items",
    keep: list[str] = [],  # noqa: B006
) -> None:
    """flatMap: one row per line item of each valid order, numbered from 1 as in the order.

    ``source`` has the columns of ``orders_valid``, whose item arrays line up element by
    element; ``keep`` names its columns to carry along (e.g. the event-time ``ts``).
    """
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {name} AS
SELECT order_id, line_no, customer_id, product_id, category, quantity, unit_price_cents,
       quantity * unit_price_cents AS line_total_cents, ts_ms{_extra(keep)}
FROM (
  SELECT *, item_categories[line_no] AS category,
         TRY_CAST(item_quantities[line_no] AS INT) AS quantity,
         TRY_CAST(item_unit_prices[line_no] AS BIGINT) AS unit_price_cents
  FROM {source}
  CROSS JOIN UNNEST(item_product_ids) WITH ORDINALITY AS t(product_id, line_no)
)""")
# --8<-- [end:order_items_view]
