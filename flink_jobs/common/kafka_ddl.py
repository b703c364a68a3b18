"""Kafka table DDL shared by the jobs: raw sources, exactly-once JSON sinks, the dead letter.

Sources read the value as raw bytes, so a job can dead-letter a malformed record with its
original bytes instead of failing on it. Sinks are transactional (exactly-once): consumers
see a record only after the checkpoint that covers it completes (``read_committed``).

When ``JobArgs.local_dir`` is set (an exercise's local check) every table is a JSON-lines
directory instead (``local_files``): the same columns, so the job's SQL is the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyflink.table import TableEnvironment

from flink_jobs.common import local_files
from flink_jobs.common.runner import JobArgs
from streamlab.wire.contract import Output
from streamlab.wire.events import MAX_AHEAD_MS
from streamlab.wire.headers import HEARTBEAT_HEADER

# Flink's Kafka producer holds a transaction open up to this long; must not exceed the
# broker's transaction.max.timeout.ms (15 min by default).
TRANSACTION_TIMEOUT_MS = 600_000


def interval(seconds: int) -> str:
    """A SQL interval literal for any number of seconds (``INTERVAL '120' SECOND`` is refused:
    the leading field holds two digits)."""
    return f"INTERVAL '{seconds // 60}:{seconds % 60:02d}' MINUTE TO SECOND"


# --8<-- [start:trusted_time]
def trusted(ts: str = "ts") -> str:
    """``ts``, or epoch 0 when it is further ahead of the record's Kafka timestamp (the broker's
    append time) than clock skew allows: a time no record can have had yet moves no clock."""
    return (f"CASE WHEN {ts} <= src_timestamp + {interval(MAX_AHEAD_MS // 1000)} THEN {ts} "
            "ELSE TO_TIMESTAMP_LTZ(0, 3) END")
# --8<-- [end:trusted_time]


def _options(options: dict[str, str]) -> str:
    return ",\n  ".join(f"'{key}' = '{value}'" for key, value in options.items())


def raw_source(table: str, topic: str, args: JobArgs, watermark_delay_s: int | None = None) -> str:
    """A topic as (key, payload) bytes plus its origin, starting where the group left off.

    ``heartbeat`` marks the generator's end-of-data records (see streamlab.data.generator):
    jobs skip them; they exist only to move event time forward.

    With ``watermark_delay_s`` the table gets an event-time column ``ts`` (from the payload's
    ``ts_ms``, read by ``JSON_FIELDS``; epoch 0 unless it is an integer, so a bad record can never
    hold event time back), a processing-time column ``proc`` (to order per-partition state, see
    ``streams.create_stream_time_view``) and a watermark that trails the largest ``trusted``
    ``ts`` seen by that delay (a far-future time cannot push it forward), emitted on every
    event so windows fire as soon as they can.
    """
    # --8<-- [start:event_time_watermark]
    event_time = ""
    watermark_options: dict[str, str] = {}
    if watermark_delay_s is not None:
        ts_ms = "TRY_CAST(REGEXP_EXTRACT(JSON_FIELDS(payload, 'ts_ms').ts_ms, '^([0-9]{1,15})$', 1) AS BIGINT)"
        event_time = (
            f",\n  ts AS COALESCE(TO_TIMESTAMP_LTZ({ts_ms}, 3), TO_TIMESTAMP_LTZ(0, 3)),"
            "\n  proc AS PROCTIME(),"
            f"\n  WATERMARK FOR ts AS {trusted()} - {interval(watermark_delay_s)}"
        )
        # The watermark is the minimum over partitions, and a backlog is read one partition's
        # batch at a time, so it says little about a single record: jobs judge lateness on
        # per-partition stream time instead. Split alignment did not help and drained 8x slower.
        watermark_options = {"scan.watermark.emit.strategy": "on-event"}
    # --8<-- [end:event_time_watermark]
    if args.local_dir:
        return local_files.raw_source(table, topic, args.local_dir, event_time)
    # --8<-- [start:raw_source_table]
    return f"""
CREATE TABLE {table} (
  k BYTES,
  payload BYTES,
  src_topic STRING METADATA FROM 'topic' VIRTUAL,
  src_partition INT METADATA FROM 'partition' VIRTUAL,
  src_offset BIGINT METADATA FROM 'offset' VIRTUAL,
  src_headers MAP<STRING, BYTES> METADATA FROM 'headers' VIRTUAL,
  src_timestamp TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  heartbeat AS src_headers['{HEARTBEAT_HEADER}'] IS NOT NULL{event_time}
) WITH (
  {_options({
      "connector": "kafka",
      "topic": topic,
      "properties.bootstrap.servers": args.bootstrap_servers,
      "properties.group.id": args.group_id,
      "properties.isolation.level": "read_committed",
      "properties.auto.offset.reset": "earliest",
      "scan.startup.mode": "group-offsets",
      "key.format": "raw",
      "key.fields": "k",
      "value.format": "raw",
      "value.fields-include": "EXCEPT_KEY",
      **watermark_options,
  })}
)"""
    # --8<-- [end:raw_source_table]


# --8<-- [start:exactly_once]
def _exactly_once(topic: str, bootstrap_servers: str, transactional_prefix: str) -> dict[str, str]:
    return {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": bootstrap_servers,
        "properties.transaction.timeout.ms": str(TRANSACTION_TIMEOUT_MS),
        "sink.delivery-guarantee": "exactly-once",
        "sink.transactional-id-prefix": transactional_prefix,
        # A few transactional ids reused from a pool, and on restore the broker's list of open
        # transactions tells what to abort. The default (INCREMENTING) names one id per
        # checkpoint and, on restore, probes them one by one: after a redeploy from scratch it
        # walked every id an earlier deployment had used, 10 s of a TaskManager drill's recovery.
        "sink.transaction-naming-strategy": "POOLING",
    }
# --8<-- [end:exactly_once]


# --8<-- [start:json_sink]
def json_sink(table: str, topic: str, columns: str, key_field: str, args: JobArgs) -> str:
    """A JSON-valued topic keyed by ``key_field`` (UTF-8), written exactly once."""
    if args.local_dir:
        return local_files.sink(table, topic, columns, args.local_dir, "json")
    return f"""
CREATE TABLE {table} (
  {columns}
) WITH (
  {_options({
      **_exactly_once(topic, args.bootstrap_servers, f"{args.name}-{topic}"),
      "key.format": "raw",
      "key.fields": key_field,
      "value.format": "json",
      "value.fields-include": "ALL",
  })}
)"""
# --8<-- [end:json_sink]


# --8<-- [start:upsert_sink]
def upsert_sink(table: str, topic: str, columns: str, key_field: str, args: JobArgs) -> str:
    """A changelog as a compacted topic: the latest JSON value per ``key_field`` (a deleted row
    becomes a tombstone), written exactly once — a state store's changelog."""
    if args.local_dir:
        return local_files.sink(table, topic, f"{columns},\n  PRIMARY KEY ({key_field}) NOT ENFORCED",
                                args.local_dir, "debezium-json")
    return f"""
CREATE TABLE {table} (
  {columns},
  PRIMARY KEY ({key_field}) NOT ENFORCED
) WITH (
  {_options({
      **_exactly_once(topic, args.bootstrap_servers, f"{args.name}-{topic}"),
      "connector": "upsert-kafka",
      "key.format": "raw",
      "value.format": "json",
      "value.fields-include": "ALL",
  })}
)"""
# --8<-- [end:upsert_sink]


# --8<-- [start:dead_letter_sink]
def dead_letter_sink(table: str, topic: str, args: JobArgs) -> str:
    """Original key and value bytes; the reason and origin travel in record headers."""
    if args.local_dir:
        return local_files.sink(table, topic, "k BYTES, payload BYTES, headers MAP<STRING, BYTES>",
                                args.local_dir, "json")
    return f"""
CREATE TABLE {table} (
  k BYTES,
  payload BYTES,
  headers MAP<STRING, BYTES> METADATA
) WITH (
  {_options({
      **_exactly_once(topic, args.bootstrap_servers, f"{args.name}-{topic}"),
      "key.format": "raw",
      "key.fields": "k",
      "value.format": "raw",
      "value.fields-include": "EXCEPT_KEY",
  })}
)"""
# --8<-- [end:dead_letter_sink]


# --8<-- [start:dead_letter_insert]
def dead_letter_select(source_view: str, job: str) -> str:
    """Rows of ``source_view`` whose ``reason`` is set, shaped for ``dead_letter_sink``.

    ``dlq.job`` names the job that judged the record: Lesson 14, which validates every raw
    topic, so the dead letter holds each rejected record once (the other jobs skip them).
    """
    return f"""
SELECT k, payload, MAP[
    'dlq.job', CAST('{job}' AS BYTES),
    'dlq.reason', CAST(reason AS BYTES),
    'dlq.source.topic', CAST(src_topic AS BYTES),
    'dlq.source.partition', CAST(CAST(src_partition AS STRING) AS BYTES),
    'dlq.source.offset', CAST(CAST(src_offset AS STRING) AS BYTES)
  ]
FROM {source_view}
WHERE reason IS NOT NULL"""


def dead_letter_insert(checked_views: list[str], job: str, table: str = "dead_letter") -> str:
    """One INSERT that dead-letters the rejects of every view (one sink, one transaction)."""
    selects = "\nUNION ALL".join(dead_letter_select(view, job) for view in checked_views)
    return f"INSERT INTO {table} {selects}"
# --8<-- [end:dead_letter_insert]


def create_sinks(env: TableEnvironment, outputs: Iterable[Output], args: JobArgs) -> None:
    """A sink table per output of the job's contract: JSON, or a store's upserts when compacted."""
    for output in outputs:
        sink = upsert_sink if output.compacted else json_sink
        env.execute_sql(sink(output.table, output.topic, output.columns, output.key, args))
