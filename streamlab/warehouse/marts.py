"""The warehouse's tables: which topics land where, with which types.

A lesson's outputs land where its contract says (``Output.mart``), typed from the output's
own columns; the late records of every job and the dead letter land in tables of their own.

``raw`` keeps every input record as it came (original bytes, headers, heartbeats flagged);
``marts`` holds the jobs' outputs as typed columns; ``peers`` the Kafka Streams peers' outputs
in tables of the same names and columns, so one query reads what both engines made of the same
input. Every row carries its Kafka origin (topic, partition, offset — the key that makes a load
exactly-once) and the load that wrote it.
Event times are ``TIMESTAMPTZ`` (UTC instants), money is integer cents (``BIGINT``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from streamlab import lessons
from streamlab.data import topics
from streamlab.wire.contract import Mart, Output, duckdb_type, parse_columns
from streamlab.wire.headers import HEARTBEAT_HEADER

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
    ))


LATE_JOB = {lesson.late.topic: lesson.key for lesson in lessons.ALL if lesson.late}
# A late topic without an `origin` column holds its job's first input: the stream it times.
LATE_ORIGIN = {lesson.late.topic: lesson.inputs[0] for lesson in lessons.ALL
               if lesson.late and "origin" not in dict(lesson.late.column_types())}


def _case(mapping: dict[str, str], default: str = "NULL") -> str:
    if not mapping:  # SQL's CASE needs a WHEN
        return default
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

def _column(name: str, flink_type: str, mart: Mart) -> tuple[str, str, str]:
    """An output's column in its mart: (name, DuckDB type, expression over the batch)."""
    column = dict(mart.renamed).get(name, name)
    sql_type = duckdb_type(flink_type)
    if sql_type == "BIGINT" and name.endswith("_ms") and name not in mart.spans:
        return column.removesuffix("_ms") + "_time", "TIMESTAMPTZ", instant(name)
    if flink_type.startswith("ARRAY<ROW<"):  # a list of records: DuckDB reads the JSON by its shape
        shape = json.dumps([{field: duckdb_type(t) for field, t in parse_columns(flink_type[10:-2])}],
                           separators=(",", ":"))
        return column, sql_type, f"try(from_json(doc->'$.{name}', '{shape}'))"
    if sql_type.endswith("[]"):
        return column, sql_type, f"TRY_CAST(doc->'$.{name}' AS {sql_type})"
    return column, sql_type, text(name) if sql_type == "VARCHAR" else typed(name, sql_type)


def _columns(columns: str) -> tuple[tuple[str, str, str], ...]:
    """Flink SQL ``columns`` as columns of a platform table, typed as a mart's are (``_column``)."""
    plain = Mart("")
    return tuple(_column(name, sql_type, plain) for name, sql_type in parse_columns(columns))


def _mart(outputs: list[Output], schema: str = "marts", landed: dict[str, str] | None = None) -> Table:
    """The table the outputs of one ``Mart`` land in, typed from the first one's columns. A
    store's changelog keeps the Kafka key as its key column (a tombstone has no value), and its
    table is ``<name>_changelog``: ``VIEWS`` gives its latest state the mart's name. ``landed``
    names the topic each output is read from instead of its own (a peer's)."""
    first = outputs[0]
    mart = first.mart
    assert mart is not None
    landed = landed or {}
    if any(output.columns != first.columns for output in outputs):
        raise ValueError(f"outputs of different columns share {schema}.{mart.name}: "
                         f"{', '.join(output.topic for output in outputs)}")
    columns = [_column(name, sql_type, mart) for name, sql_type in first.column_types()
               if not (first.compacted and name == first.key)]
    if first.compacted:
        columns.insert(0, (first.key, "VARCHAR", "try(decode(key))"))
    if mart.tag:
        tags = {landed.get(output.topic, output.topic): output.mart.tag[1]
                for output in outputs if output.mart and output.mart.tag}
        columns.insert(0, (mart.tag[0], "VARCHAR", _case(tags)))
    name = f"{mart.name}_changelog" if first.compacted else mart.name
    return Table(schema, name, tuple(landed.get(output.topic, output.topic) for output in outputs), tuple(columns))


def _by_mart(outputs: list[Output]) -> list[list[Output]]:
    grouped: dict[str, list[Output]] = {}
    for output in outputs:
        if output.mart is not None:
            grouped.setdefault(output.mart.name, []).append(output)
    return list(grouped.values())


def _late_events(schema: str, jobs: dict[str, str], origins: dict[str, str]) -> Table:
    """Every job's late records (``jobs``: late topic -> job); a late topic without an
    ``origin`` column holds its job's first input (``origins``), the stream it times."""
    return Table(schema, "late_events", tuple(jobs), (
        ("job", "VARCHAR", _case(jobs)),
        ("origin", "VARCHAR", f"coalesce({text('origin')}, {_case(origins)})"),
        *_columns("id STRING, ts_ms BIGINT"),
        ("missed_window_start", "TIMESTAMPTZ",
         f"coalesce({instant('missed_window_start_ms')}, {instant('missed_period_start_ms')})"),
        ("missed_window_end", "TIMESTAMPTZ",
         f"coalesce({instant('missed_window_end_ms')}, {instant('missed_period_end_ms')})"),
        *_columns("source_topic STRING, source_partition INT, source_offset BIGINT")))


def _dead_letters(schema: str, topic: str) -> Table:
    return Table(schema, "dead_letters", (topic,), (
        ("job", "VARCHAR", _header("dlq.job")),
        ("reason", "VARCHAR", _header("dlq.reason")),
        ("source_topic", "VARCHAR", _header("dlq.source.topic")),
        ("source_partition", "INTEGER", _header("dlq.source.partition", "INTEGER")),
        ("source_offset", "BIGINT", _header("dlq.source.offset", "BIGINT")),
        ("key", "VARCHAR", "try(decode(key))"),
        ("original", "BLOB", "value")))


# Every lesson's outputs (from its contract), then every job's late records and the dead letter.
MARTS = [*map(_mart, _by_mart([output for lesson in lessons.ALL for output in lesson.outputs])),
         _late_events("marts", LATE_JOB, LATE_ORIGIN), _dead_letters("marts", topics.DEAD_LETTER.name)]

# The Kafka Streams peers' outputs, in tables named and typed as their jobs' are, in ``peers``.
PEER_TOPIC = {output: topic for lesson in lessons.ALL if lesson.peer for output, topic in lesson.peer.topics}
PEER_LATE_JOB = {PEER_TOPIC[lesson.late.topic]: lesson.peer.job for lesson in lessons.ALL
                 if lesson.peer and lesson.late and lesson.late.topic in PEER_TOPIC}
PEERS = [*(_mart(outputs, "peers", PEER_TOPIC) for outputs in _by_mart(
             [output for lesson in lessons.ALL for output in lesson.outputs if output.topic in PEER_TOPIC])),
         _late_events("peers", PEER_LATE_JOB,
                      {PEER_TOPIC[topic]: origin for topic, origin in LATE_ORIGIN.items() if topic in PEER_TOPIC}),
         _dead_letters("peers", topics.PEER_DEAD_LETTER.name)]

TABLES = [*RAW, *MARTS, *PEERS]

# --8<-- [start:store_views]
# A store's current state, as a compacted topic keeps it: the newest value per key, minus tombstones.
VIEWS = {
    f"{table.schema}.{output.mart.name}": f"""CREATE OR REPLACE VIEW {table.schema}.{output.mart.name} AS
SELECT * EXCLUDE (kafka_topic, kafka_partition, kafka_offset, load_id) FROM {table.qualified}
QUALIFY row_number() OVER (PARTITION BY {output.key} ORDER BY kafka_offset DESC) = 1
  AND revenue_cents IS NOT NULL"""
    for lesson in lessons.ALL for output in lesson.outputs if output.compacted and output.mart
    for table in (*MARTS, *PEERS) if table.name == f"{output.mart.name}_changelog"
}
# --8<-- [end:store_views]

# What analysts query, and so what the expectation suites cover (a store as its latest state).
MART_NAMES = [t.qualified for t in MARTS if not t.name.endswith("_changelog")] + [
    name for name in VIEWS if name.startswith("marts.")]


def by_topic() -> dict[str, Table]:
    return {topic: table for table in TABLES for topic in table.topics}
