"""The independent oracle: what every job *should* have emitted, recomputed with DuckDB SQL
from the raw input topics, and compared row for row with what the job did emit.

It implements the event rules of ``streamlab.wire.events`` a second time, in another engine and
without looking at the Flink SQL, so a mistake in a job shows up as a difference here.
Outputs are read with ``isolation.level=read_committed``: only what a consumer may see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import duckdb
import pandas as pd

from streamlab.data import kafka_io, topics
from streamlab.data.topic_files import TopicFiles
from streamlab.wire import events
from streamlab.wire.headers import HEARTBEAT_HEADER


@dataclass(frozen=True)
class TopicCheck:
    topic: str
    expected: int
    actual: int
    missing: int  # expected rows the topic lacks
    unexpected: int  # rows in the topic the oracle did not expect (duplicates included)
    sample: list[tuple]  # a few differing rows, for the error message: missing ones first
    sample_unexpected: list[tuple] = dataclass_field(default_factory=list)  # and a few unexpected ones

    @property
    def exact(self) -> bool:
        return self.missing == 0 and self.unexpected == 0

    def describe(self) -> str:
        """What differs, with rows of each side: a wrong total shows as one missing, one unexpected."""
        return (f"{self.topic}: expected {self.expected}, got {self.actual}; {self.missing} missing, "
                f"e.g. {self.sample[:2]}; {self.unexpected} unexpected, e.g. {self.sample_unexpected[:2]}")


# Where the oracle reads topics: a Kafka cluster's bootstrap servers, or a local check's files.
Source = str | TopicFiles


def read_all(source: Source, topic: str) -> list[kafka_io.Message]:
    """Every committed record of ``topic``, in partition and offset order."""
    return source.read_all(topic) if isinstance(source, TopicFiles) else kafka_io.read_all(source, topic)


def load_topic(con: duckdb.DuckDBPyConnection, source: Source, topic: str, table: str) -> None:
    """Load a topic as (topic, partition, offset, key, value, headers JSON, doc, stream_time_ms)
    into ``table``, without the generator's heartbeats (they only move event time), and each
    partition's final stream time (heartbeats included) into ``<table>_partitions``.

    ``duplicate_key`` marks a raw record with a key twice in one object: DuckDB reads the first,
    the jobs' parser refuses the record (a record two readers read differently is no event).

    ``stream_time_ms`` is the largest event time in the partition up to and including the
    record (heartbeats and all; 0 where a record has none, or one over ``MAX_AHEAD_MS`` ahead of
    its Kafka timestamp), as Kafka Streams defines it.
    """
    rows = [
        (m.topic, m.partition, m.offset, m.timestamp_ms, m.key, m.value,
         {k: (v.decode("utf-8", "replace") if v is not None else None) for k, v in m.headers.items()})
        for m in read_all(source, topic)
    ]
    frame = pd.DataFrame(rows, columns=["topic", "partition", "offset", "timestamp_ms", "key", "value",
                                        "headers"])
    frame["headers"] = frame["headers"].map(json.dumps)
    # Records with a key twice in one object (raw topics: the jobs judge those).
    twice = (twice_keyed("typed") if topic in {t.name for t in topics.RAW} else
             'SELECT NULL::INTEGER AS "partition", NULL::BIGINT AS "offset" WHERE false')
    con.register("incoming", frame)
    con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS
        WITH typed AS (
          SELECT topic, "partition"::INTEGER AS "partition", "offset"::BIGINT AS "offset",
                 timestamp_ms::BIGINT AS timestamp_ms, key::BLOB AS key, value::BLOB AS value,
                 headers::JSON AS headers, try(decode(value::BLOB)) AS doc
          FROM incoming
        ), twice AS ({twice}), timed AS (
          SELECT typed.*, twice."offset" IS NOT NULL AS duplicate_key,
                 max({trusted_ms()}) OVER (PARTITION BY topic, typed."partition" ORDER BY typed."offset"
                                           ROWS UNBOUNDED PRECEDING) AS stream_time_ms
          FROM typed LEFT JOIN twice USING ("partition", "offset")
        )
        SELECT * FROM timed
        WHERE NOT coalesce(json_exists(headers, '$."{HEARTBEAT_HEADER}"'), false)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {table}_partitions AS
        SELECT "partition"::INTEGER AS "partition",
               max({trusted_ms('try(decode(value::BLOB))')}) AS stream_time_ms
        FROM incoming GROUP BY ALL"""
    )
    con.unregister("incoming")


def twice_keyed(table: str, partition: str = '"partition"', offset: str = '"offset"', doc: str = "doc") -> str:
    """SQL for the (partition, offset) of ``table``'s records with a key twice in one object, at
    any depth: DuckDB reads the first, the jobs refuse the record."""
    return f"""SELECT DISTINCT t.{partition} AS "partition", t.{offset} AS "offset"
          FROM {table} t, json_tree(CASE WHEN json_valid(t.{doc}) THEN t.{doc} ELSE '{{}}' END) j
          WHERE j.key IS NOT NULL GROUP BY t.{partition}, t.{offset}, j.parent, j.key HAVING count(*) > 1"""


def trusted_ms(doc: str = "doc") -> str:
    """The record's ``ts_ms`` when it is an integer no further ahead of its Kafka timestamp than
    clock skew allows, else 0: what may move stream time."""
    text = f"coalesce(try(json_extract_string({doc}, '$.ts_ms')), '')"
    return (f"CASE WHEN regexp_full_match({text}, '[0-9]{{1,15}}') AND {text}::BIGINT <= timestamp_ms + "
            f"{events.MAX_AHEAD_MS} THEN {text}::BIGINT ELSE 0 END")


def _text(path: str, doc: str = "doc") -> str:
    """A field's text as the jobs read it (``JSON_VALUE``'s meaning): a scalar's text, NULL for
    an object or an array (whose JSON text DuckDB would give)."""
    return (f"CASE WHEN json_type({doc}, '{path}') IN ('OBJECT', 'ARRAY') THEN NULL "
            f"ELSE json_extract_string({doc}, '{path}') END")


def _digits(path: str, pattern: str, doc: str = "doc") -> str:
    return f"regexp_full_match(coalesce({_text(path, doc)}, ''), '{pattern}')"


def _blank(path: str) -> str:
    return f"coalesce({_text(path)}, '') = ''"


def _every_item(field: str, pattern: str) -> str:
    return (
        "list_bool_and(list_transform(items, lambda it: "
        f"regexp_full_match(coalesce({_text('$.' + field, 'it')}, ''), '{pattern}')))"
    )


def _envelope(*ids: str) -> str:
    """WHEN clauses of the rules every event shares (object, version, ids, event time)."""
    return "\n".join([
        "WHEN doc IS NULL OR NOT json_valid(doc) OR json_type(doc::JSON) <> 'OBJECT' OR duplicate_key"
        " THEN 'not a JSON object'",
        f"WHEN {_text('$.schema_version')} IS DISTINCT FROM '1' THEN 'unsupported schema_version'",
        *[f"WHEN {_blank('$.' + name)} THEN 'missing {name}'" for name in ids],
        f"WHEN NOT {_digits('$.ts_ms', '[0-9]{1,15}')} THEN 'ts_ms is not a non-negative integer'",
        f"WHEN {_text('$.ts_ms')}::BIGINT < {events.EARLIEST_TS_MS} THEN 'ts_ms is before 2000-01-01'",
        f"WHEN {_text('$.ts_ms')}::BIGINT > timestamp_ms + {events.MAX_AHEAD_MS}"
        " THEN 'ts_ms is over an hour ahead of its Kafka timestamp'",
    ])


CLICK_REASON = f"""
CASE
  {_envelope('event_id', 'user_id')}
  WHEN NOT starts_with(coalesce({_text('$.url')}, ''), '/') THEN 'url does not start with /'
  WHEN {_text('$.device')} IS NULL OR {_text('$.device')} NOT IN ('desktop', 'mobile', 'tablet')
    THEN 'unknown device'
  WHEN {_blank('$.user_agent')} THEN 'missing user_agent'
END"""

ORDER_REASON = f"""
CASE
  {_envelope('order_id', 'customer_id')}
  WHEN items IS NULL OR len(items) = 0 THEN 'items is not a non-empty array'
  WHEN NOT {_every_item('product_id', '[A-Za-z0-9_-]+')} THEN 'item without a valid product_id'
  WHEN NOT {_every_item('category', 'electronics|fashion|home|books|sports')}
    THEN 'item with an unknown category'
  WHEN NOT {_every_item('quantity', '[1-9][0-9]{0,2}')} THEN 'item quantity not in 1..999'
  WHEN NOT {_every_item('unit_price_cents', '[0-9]{1,12}')}
    THEN 'item unit_price_cents not a non-negative integer'
END"""


def _one_of(path: str, values: list[str]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{_text(path)} IS NULL OR {_text(path)} NOT IN ({listed})"


PAYMENT_REASON = f"""
CASE
  {_envelope('payment_id', 'order_id', 'card_id')}
  WHEN {_one_of('$.country', list(events.COUNTRY_REGION))} THEN 'unknown country'
  WHEN NOT {_digits('$.amount_cents', '[0-9]{1,12}')} THEN 'amount_cents is not a non-negative integer'
END"""

CUSTOMER_REASON = f"""
CASE
  {_envelope('customer_id', 'name', 'country')}
  WHEN {_one_of('$.tier', events.TIERS)} THEN 'unknown tier'
  WHEN {_one_of('$.region', sorted(set(events.COUNTRY_REGION.values())))} THEN 'unknown region'
END"""

PRODUCT_REASON = f"""
CASE
  {_envelope('product_id', 'name')}
  WHEN {_one_of('$.category', events.CATEGORIES)} THEN 'unknown category'
  WHEN NOT {_digits('$.price_cents', '[0-9]{1,12}')} THEN 'price_cents is not a non-negative integer'
END"""

REASONS = {"clicks": CLICK_REASON, "payments": PAYMENT_REASON, "customers": CUSTOMER_REASON,
           "products": PRODUCT_REASON}


def create_judged_views(con: duckdb.DuckDBPyConnection, extra: tuple[str, ...] = ()) -> None:
    """From ``raw_clicks``, ``raw_orders`` (and ``raw_<stream>`` of each ``extra`` stream): each
    record judged (``<stream>_judged`` with its ``reason``), the valid clicks a bot made
    (``bot_clicks``), the clicks a stateless cleaning keeps (``expected_clicks``), the line
    items of valid orders (``expected_items``) and what must be dead-lettered
    (``expected_dead_letter``, with the ``stream`` it came from)."""
    for stream in ("clicks", *extra):
        con.execute(f"CREATE OR REPLACE VIEW {stream}_judged AS SELECT *, {REASONS[stream]} AS reason FROM raw_{stream}")
    con.execute(
        f"""CREATE OR REPLACE VIEW orders_judged AS
        SELECT * EXCLUDE (items), {ORDER_REASON} AS reason, items FROM (
          SELECT *, CASE WHEN json_valid(doc) AND json_type(doc::JSON, '$.items') = 'ARRAY'
                         THEN json_extract(doc, '$.items[*]') END AS items
          FROM raw_orders
        )"""
    )
    bots = " OR ".join(f"contains(lower({_text('$.user_agent')}), '{w}')" for w in ("bot", "spider", "crawler"))
    con.execute(f"CREATE OR REPLACE VIEW bot_clicks AS SELECT * FROM clicks_judged WHERE reason IS NULL AND ({bots})")
    con.execute(
        f"""CREATE OR REPLACE VIEW expected_clicks AS
        WITH human AS (
          SELECT *, lower(split_part(split_part({_text('$.url')}, '?', 1), '#', 1)) AS path
          FROM clicks_judged WHERE reason IS NULL AND NOT ({bots})
        ), typed AS (
          SELECT *, CASE
              WHEN path = '/' THEN 'home'
              WHEN starts_with(path, '/product/') THEN 'product'
              WHEN starts_with(path, '/category/') THEN 'category'
              WHEN path = '/cart' THEN 'cart'
              WHEN path = '/search' THEN 'search'
              ELSE 'other' END AS page_type
          FROM human
        )
        SELECT {_text('$.user_id')} AS key, {_text('$.event_id')} AS event_id,
               {_text('$.user_id')} AS user_id, page_type, path,
               CASE WHEN page_type = 'product' THEN path[10:] END AS product_id,
               {_text('$.device')} AS device, CAST({_text('$.ts_ms')} AS BIGINT) AS ts_ms,
               topic AS src_topic, "partition" AS src_partition, "offset" AS src_offset,
               stream_time_ms
        FROM typed"""
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW expected_items AS
        SELECT {_text('$.order_id')} AS key, {_text('$.order_id')} AS order_id,
               line_no::INTEGER AS line_no, {_text('$.customer_id')} AS customer_id,
               json_extract_string(item, '$.product_id') AS product_id,
               json_extract_string(item, '$.category') AS category,
               CAST(json_extract_string(item, '$.quantity') AS INTEGER) AS quantity,
               CAST(json_extract_string(item, '$.unit_price_cents') AS BIGINT) AS unit_price_cents,
               CAST(json_extract_string(item, '$.quantity') AS BIGINT)
                 * CAST(json_extract_string(item, '$.unit_price_cents') AS BIGINT) AS line_total_cents,
               CAST({_text('$.ts_ms')} AS BIGINT) AS ts_ms,
               topic AS src_topic, "partition" AS src_partition, "offset" AS src_offset,
               stream_time_ms
        FROM (SELECT *, unnest(items) AS item, unnest(range(1, len(items) + 1)) AS line_no
              FROM orders_judged WHERE reason IS NULL)"""
    )
    rejects = "\nUNION ALL\n".join(
        f"""SELECT key, value, reason, topic AS source_topic, "partition" AS source_partition,
                   "offset" AS source_offset
            FROM {stream}_judged WHERE reason IS NOT NULL"""
        for stream in ("clicks", "orders", *extra))
    con.execute(f"CREATE OR REPLACE VIEW expected_dead_letter AS {rejects}")


def field(name: str, sql_type: str = "VARCHAR", doc: str = "doc") -> str:
    return f"CAST(json_extract_string({doc}, '$.{name}') AS {sql_type})"


def versions_view(table: str, key: str, fields: dict[str, str], by_record_key: bool = False) -> str:
    """``<table>_versions``: valid versions of reference data (``version_ms`` their event time),
    of each ``key`` field, or with ``by_record_key`` of each record key (the column ``key``), as
    a Kafka Streams table holds them; of two with the same time the later record wins."""
    columns = ", ".join(f"{field(name, sql_type)} AS {name}" for name, sql_type in fields.items())
    versions_of = "key" if by_record_key else field(key)
    return f"""
CREATE OR REPLACE VIEW {table}_versions AS
SELECT * EXCLUDE (row_num) FROM (
  SELECT key, {field(key)} AS {key}, {columns}, {field('ts_ms', 'BIGINT')} AS version_ms,
         row_number() OVER (PARTITION BY {versions_of}, {field('ts_ms', 'BIGINT')}
                            ORDER BY "partition", "offset" DESC) AS row_num
  FROM {table}_judged WHERE reason IS NULL
) WHERE row_num = 1"""


# SQL counting orders over rows of ``expected_items``: an order is one record of the orders
# topic. Ids do not tell orders apart: data sets generated with the same seed (every
# `streamlab generate` without --seed) reuse them, and the jobs count each record.
ORDER_RECORDS = "count(DISTINCT (src_partition, src_offset))"


def output_sum(table: str, name: str) -> str:
    """SQL for the sum of a loaded output topic's integer field ``name``."""
    return f"(SELECT coalesce(sum({field(name, 'BIGINT')}), 0) FROM {table})"


def late_revenue(late_table: str) -> str:
    """SQL for the revenue of the line items of the orders in a loaded late topic (records
    that name their ``source_topic``, ``source_partition`` and ``source_offset``)."""
    return f"""(SELECT coalesce(sum(line_total_cents), 0) FROM expected_items SEMI JOIN (
        SELECT {field('source_topic')} AS src_topic, {field('source_partition', 'INTEGER')} AS src_partition,
               {field('source_offset', 'BIGINT')} AS src_offset
        FROM {late_table}) USING (src_topic, src_partition, src_offset))"""


def actual_json(table: str, columns: dict[str, str], with_key: bool = True) -> str:
    """A loaded output topic's JSON values as typed columns (the record key first)."""
    fields = [
        f"CAST(json_extract_string(doc, '$.{name}') AS {sql_type}) AS {name}"
        for name, sql_type in columns.items()
    ]
    if with_key:
        fields.insert(0, "decode(key) AS key")
    return "SELECT " + ",\n  ".join(fields) + f"\nFROM {table}"


def latest(con: duckdb.DuckDBPyConnection, table: str, *fields: str) -> str:
    """``<table>_latest``: a loaded changelog topic read as a table, the last record of each key
    (the record key and the JSON ``fields``, e.g. a window's start); returns its name."""
    parts = ", ".join(f"json_extract_string(doc, '$.{name}')" for name in fields)
    con.execute(f"""CREATE OR REPLACE VIEW {table}_latest AS SELECT * FROM {table}
        QUALIFY row_number() OVER (PARTITION BY key{', ' if parts else ''}{parts}
                                   ORDER BY "partition", "offset" DESC) = 1""")
    return f"{table}_latest"


def compare_dead_letter(con: duckdb.DuckDBPyConnection, job: str, inputs: tuple[str, ...],
                        topic: str = topics.DEAD_LETTER.name) -> TopicCheck:
    """``job``'s records in the loaded ``out_dead_letter`` (of ``topic``) against the rejects of
    its ``inputs``: each rejected record once, with its reason and origin."""
    return compare(
        con, f"{topic} ({job})",
        f"""SELECT key, value, reason, source_topic, source_partition, source_offset
            FROM expected_dead_letter WHERE source_topic IN ({', '.join(f"'{i}'" for i in inputs)})""",
        f"""SELECT key, value, headers->>'dlq.reason',
                  headers->>'dlq.source.topic',
                  CAST(headers->>'dlq.source.partition' AS INTEGER),
                  CAST(headers->>'dlq.source.offset' AS BIGINT)
           FROM out_dead_letter WHERE headers->>'dlq.job' = '{job}'""",
    )


def compare(con: duckdb.DuckDBPyConnection, topic: str, expected_sql: str, actual_sql: str) -> TopicCheck:
    missing = con.execute(f"SELECT * FROM (({expected_sql}) EXCEPT ALL ({actual_sql}))").fetchall()
    extra = con.execute(f"SELECT * FROM (({actual_sql}) EXCEPT ALL ({expected_sql}))").fetchall()
    expected = con.execute(f"SELECT count(*) FROM ({expected_sql})").fetchall()[0][0]
    actual = con.execute(f"SELECT count(*) FROM ({actual_sql})").fetchall()[0][0]
    return TopicCheck(topic, expected, actual, len(missing), len(extra), missing[:3], extra[:3])


# The raw streams the oracle judges only when asked (``extra``): clicks and orders always.
OTHER_STREAMS = ("payments", "customers", "products")


def load_inputs(con: duckdb.DuckDBPyConnection, source: Source, extra: tuple[str, ...] = ()) -> None:
    """Raw clicks, orders and the ``extra`` input streams, judged."""
    for stream in ("clicks", "orders", *extra):
        load_topic(con, source, stream, f"raw_{stream}")
    create_judged_views(con, extra)
