"""The raw streams as every job sees them: validated, cleaned and flattened views.

``create_checked_view`` gives each record a ``reason`` (the first rule it breaks, NULL when
valid; heartbeats are skipped); ``create_clean_clicks_view`` and ``create_order_items_view``
are the stateless steps of Lesson 14, shared by the jobs that build on them.
"""

from __future__ import annotations

from pyflink.table import TableEnvironment

from flink_jobs.common import checks, kafka_ddl
from streamlab.events import CATEGORIES, COUNTRY_REGION, DEVICES, TIERS

ID = "[A-Za-z0-9_-]+"


def sql_list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# --8<-- [start:click_and_order_rules]
def click_rules(doc: str) -> list[tuple[str, str]]:
    device = checks.text(doc, "$.device")
    return [
        *checks.envelope_rules(doc, ["event_id", "user_id"]),
        (checks.not_matching(doc, "$.url", "^/.*"), "url does not start with /"),
        (f"{device} IS NULL OR {device} NOT IN ({sql_list(DEVICES)})", "unknown device"),
        (checks.missing(doc, "$.user_agent"), "missing user_agent"),
    ]


def order_rules(doc: str) -> list[tuple[str, str]]:
    def every(field: str, regex: str) -> str:
        return checks.any_element_not_matching(doc, "$.items", field, regex)

    return [
        *checks.envelope_rules(doc, ["order_id", "customer_id"]),
        (f"COALESCE(CARDINALITY({checks.array(doc, '$.items')}), 0) = 0",
         "items is not a non-empty array"),
        (every("product_id", ID), "item without a valid product_id"),
        (every("category", "|".join(CATEGORIES)), "item with an unknown category"),
        (every("quantity", "[1-9][0-9]{0,2}"), "item quantity not in 1..999"),
        (every("unit_price_cents", "[0-9]{1,12}"), "item unit_price_cents not a non-negative integer"),
    ]
# --8<-- [end:click_and_order_rules]


def payment_rules(doc: str) -> list[tuple[str, str]]:
    country = checks.text(doc, "$.country")
    return [
        *checks.envelope_rules(doc, ["payment_id", "order_id", "card_id"]),
        (f"{country} IS NULL OR {country} NOT IN ({sql_list(list(COUNTRY_REGION))})", "unknown country"),
        (checks.not_matching(doc, "$.amount_cents", "^[0-9]{1,12}$"),
         "amount_cents is not a non-negative integer"),
    ]


def customer_rules(doc: str) -> list[tuple[str, str]]:
    tier = checks.text(doc, "$.tier")
    region = checks.text(doc, "$.region")
    return [
        *checks.envelope_rules(doc, ["customer_id", "name", "country"]),
        (f"{tier} IS NULL OR {tier} NOT IN ({sql_list(TIERS)})", "unknown tier"),
        (f"{region} IS NULL OR {region} NOT IN ({sql_list(sorted(set(COUNTRY_REGION.values())))})",
         "unknown region"),
    ]


def product_rules(doc: str) -> list[tuple[str, str]]:
    category = checks.text(doc, "$.category")
    return [
        *checks.envelope_rules(doc, ["product_id", "name"]),
        (f"{category} IS NULL OR {category} NOT IN ({sql_list(CATEGORIES)})", "unknown category"),
        (checks.not_matching(doc, "$.price_cents", "^[0-9]{1,12}$"),
         "price_cents is not a non-negative integer"),
    ]


RULES = {"clicks": click_rules, "orders": order_rules, "payments": payment_rules,
         "customers": customer_rules, "products": product_rules}


# --8<-- [start:checked_view]
def create_checked_view(env: TableEnvironment, stream: str, source: str | None = None) -> None:
    """``<stream>_checked``: every non-heartbeat record of ``source`` (default
    ``<stream>_raw``) with its ``reason``."""
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {stream}_checked AS
SELECT *, {checks.first_failure(RULES[stream]("doc"))} AS reason
FROM (SELECT *, CAST(payload AS STRING) AS doc FROM {source or stream + '_raw'} WHERE NOT heartbeat)""")
# --8<-- [end:checked_view]


def create_event_time_source(
    env: TableEnvironment, stream: str, bootstrap_servers: str, group_id: str, delay_s: int
) -> None:
    """``<stream>_raw`` with event time and a watermark ``delay_s`` behind, ``<stream>_timed``
    (plus stream time) and ``<stream>_checked`` (plus the reason, on the timed rows)."""
    env.execute_sql(kafka_ddl.raw_source(
        f"{stream}_raw", stream, bootstrap_servers, group_id, watermark_delay_s=delay_s))
    create_stream_time_view(env, stream)
    create_checked_view(env, stream, source=f"{stream}_timed")


# --8<-- [start:stream_time]
def create_stream_time_view(env: TableEnvironment, stream: str) -> None:
    """``<stream>_timed``: ``<stream>_raw`` plus ``stream_time``, the largest event time seen so
    far in the record's partition (heartbeats included), as Kafka Streams tracks it.

    It is keyed state, so it survives a restore; Flink's watermark does not (it restarts from
    nothing and would let records through for windows that already fired). Judging lateness
    by it also makes the verdict independent of how the source interleaves partitions.
    """
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {stream}_timed AS
SELECT *, MAX(ts) OVER (PARTITION BY src_partition ORDER BY proc
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS stream_time
FROM {stream}_raw""")


def behind(time: str, delay_s: int) -> str:
    """True when ``time`` is at or behind the record's partition stream time less ``delay_s``.

    Sources' watermarks trail stream time by the same delay, so a record for which this is
    false is never behind the watermark of any operator downstream: judged on time, it is
    treated as on time everywhere, whatever the partition interleaving or a restore did.
    """
    return f"{time} <= stream_time - {kafka_ddl.interval(delay_s)}"
# --8<-- [end:stream_time]


def create_reference_table(
    env: TableEnvironment, table: str, bootstrap_servers: str, group_id: str, delay_s: int,
    key: str, columns: list[str],
) -> None:
    """``<table>_versions`` (see ``create_versioned_view``) from the ``table`` topic, with
    ``<table>_checked`` for its dead letters."""
    env.execute_sql(kafka_ddl.raw_source(
        f"{table}_raw", table, bootstrap_servers, group_id, watermark_delay_s=delay_s))
    create_checked_view(env, table)
    create_versioned_view(env, table, key, columns)


def epoch_ms(column: str) -> str:
    """Epoch milliseconds of a window bound (window TVFs give a UTC TIMESTAMP on a whole second)."""
    return f"CAST(TIMESTAMPDIFF(SECOND, TIMESTAMP '1970-01-01 00:00:00', {column}) AS BIGINT) * 1000"


# --8<-- [start:versioned_view]
def create_versioned_view(env: TableEnvironment, table: str, key: str, columns: list[str]) -> None:
    """``<table>_versions``: the valid records of ``<table>_checked`` as a versioned table
    keyed by ``key`` (Flink infers it from a keep-last deduplication on the event time), the
    table side of an event-time temporal join. ``columns`` are payload fields, as text, plus
    ``version_ms`` (the version's ``ts_ms``) and ``ts``."""
    text = checks.text
    fields = ", ".join(f"{text('doc', '$.' + column)} AS {column}" for column in [key, *columns])
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {table}_versions AS
SELECT {key}, {', '.join(columns)}, version_ms, ts FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY ts DESC) AS row_num
  FROM (SELECT {fields}, TRY_CAST({text('doc', '$.ts_ms')} AS BIGINT) AS version_ms, ts
        FROM {table}_checked WHERE reason IS NULL)
) WHERE row_num = 1""")
# --8<-- [end:versioned_view]


def _extra(columns: list[str]) -> str:
    return "".join(f", {column}" for column in columns)


# --8<-- [start:clean_clicks_view]
def create_clean_clicks_view(
    env: TableEnvironment, name: str = "clicks_clean", keep: list[str] = []  # noqa: B006
) -> None:
    """filter (valid, no bots) + map (normalise the URL, derive page type and product).

    ``keep`` names columns of ``clicks_checked`` to carry along (e.g. the event-time ``ts``).
    """
    text = checks.text
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {name} AS
SELECT event_id, user_id, page_type, path,
       CASE WHEN page_type = 'product' THEN SUBSTRING(path FROM 10) END AS product_id,
       device, ts_ms{_extra(keep)}
FROM (
  SELECT {text('doc', '$.event_id')} AS event_id,
         {text('doc', '$.user_id')} AS user_id,
         path,
         CASE WHEN path = '/' THEN 'home'
              WHEN path LIKE '/product/%' THEN 'product'
              WHEN path LIKE '/category/%' THEN 'category'
              WHEN path = '/cart' THEN 'cart'
              WHEN path = '/search' THEN 'search'
              ELSE 'other' END AS page_type,
         {text('doc', '$.device')} AS device,
         TRY_CAST({text('doc', '$.ts_ms')} AS BIGINT) AS ts_ms{_extra(keep)}
  FROM (
    SELECT *, LOWER(REGEXP_EXTRACT({text('doc', '$.url')}, '^([^?#]*)', 1)) AS path
    FROM clicks_checked
    WHERE reason IS NULL
      AND NOT REGEXP(LOWER({text('doc', '$.user_agent')}), 'bot|spider|crawler')
  )
)""")
# --8<-- [end:clean_clicks_view]


# --8<-- [start:order_items_view]
def create_order_items_view(
    env: TableEnvironment, source: str = "orders_checked", name: str = "order_items",
    keep: list[str] = [],  # noqa: B006
) -> None:
    """flatMap: one row per line item of each valid order, numbered from 1 as in the order.

    ``source`` has ``doc`` and ``reason`` like ``orders_checked``; ``keep`` names its columns
    to carry along (e.g. the event-time ``ts``).
    """
    text = checks.text
    quantity = f"TRY_CAST({text('item', '$.quantity')} AS INT)"
    price = f"TRY_CAST({text('item', '$.unit_price_cents')} AS BIGINT)"
    env.execute_sql(f"""
CREATE TEMPORARY VIEW {name} AS
SELECT {text('doc', '$.order_id')} AS order_id,
       CAST(line_no AS INT) AS line_no,
       {text('doc', '$.customer_id')} AS customer_id,
       {text('item', '$.product_id')} AS product_id,
       {text('item', '$.category')} AS category,
       {quantity} AS quantity,
       {price} AS unit_price_cents,
       {quantity} * {price} AS line_total_cents,
       TRY_CAST({text('doc', '$.ts_ms')} AS BIGINT) AS ts_ms{_extra(keep)}
FROM {source}
CROSS JOIN UNNEST({checks.array('doc', '$.items')}) WITH ORDINALITY AS t(item, line_no)
WHERE reason IS NULL""")
# --8<-- [end:order_items_view]
