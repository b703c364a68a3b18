"""Kafka table DDL shared by the jobs: raw sources, exactly-once JSON sinks, the dead letter.

Sources read the value as raw bytes, so a job can dead-letter a malformed record with its
original bytes instead of failing on it. Sinks are transactional (exactly-once): consumers
see a record only after the checkpoint that covers it completes (``read_committed``).
"""

from __future__ import annotations

# Flink's Kafka producer holds a transaction open up to this long; must not exceed the
# broker's transaction.max.timeout.ms (15 min by default).
TRANSACTION_TIMEOUT_MS = 600_000


def _options(options: dict[str, str]) -> str:
    return ",\n  ".join(f"'{key}' = '{value}'" for key, value in options.items())


def raw_source(table: str, topic: str, bootstrap_servers: str, group_id: str) -> str:
    """A topic as (key, payload) bytes plus its origin, starting where the group left off."""
    return f"""
CREATE TABLE {table} (
  k BYTES,
  payload BYTES,
  src_topic STRING METADATA FROM 'topic' VIRTUAL,
  src_partition INT METADATA FROM 'partition' VIRTUAL,
  src_offset BIGINT METADATA FROM 'offset' VIRTUAL
) WITH (
  {_options({
      "connector": "kafka",
      "topic": topic,
      "properties.bootstrap.servers": bootstrap_servers,
      "properties.group.id": group_id,
      "properties.isolation.level": "read_committed",
      "properties.auto.offset.reset": "earliest",
      "scan.startup.mode": "group-offsets",
      "key.format": "raw",
      "key.fields": "k",
      "value.format": "raw",
      "value.fields-include": "EXCEPT_KEY",
  })}
)"""


def _exactly_once(topic: str, bootstrap_servers: str, transactional_prefix: str) -> dict[str, str]:
    return {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": bootstrap_servers,
        "properties.transaction.timeout.ms": str(TRANSACTION_TIMEOUT_MS),
        "sink.delivery-guarantee": "exactly-once",
        "sink.transactional-id-prefix": transactional_prefix,
    }


def json_sink(
    table: str, topic: str, columns: str, key_field: str, bootstrap_servers: str, job: str
) -> str:
    """A JSON-valued topic keyed by ``key_field`` (UTF-8), written exactly once."""
    return f"""
CREATE TABLE {table} (
  {columns}
) WITH (
  {_options({
      **_exactly_once(topic, bootstrap_servers, f"{job}-{topic}"),
      "key.format": "raw",
      "key.fields": key_field,
      "value.format": "json",
      "value.fields-include": "ALL",
  })}
)"""


def dead_letter_sink(table: str, topic: str, bootstrap_servers: str, job: str) -> str:
    """Original key and value bytes; the reason and origin travel in record headers."""
    return f"""
CREATE TABLE {table} (
  k BYTES,
  payload BYTES,
  headers MAP<STRING, BYTES> METADATA
) WITH (
  {_options({
      **_exactly_once(topic, bootstrap_servers, f"{job}-{topic}"),
      "key.format": "raw",
      "key.fields": "k",
      "value.format": "raw",
      "value.fields-include": "EXCEPT_KEY",
  })}
)"""


def dead_letter_select(source_view: str) -> str:
    """Rows of ``source_view`` whose ``reason`` is set, shaped for ``dead_letter_sink``."""
    return f"""
SELECT k, payload, MAP[
    'dlq.reason', CAST(reason AS BYTES),
    'dlq.source.topic', CAST(src_topic AS BYTES),
    'dlq.source.partition', CAST(CAST(src_partition AS STRING) AS BYTES),
    'dlq.source.offset', CAST(CAST(src_offset AS STRING) AS BYTES)
  ]
FROM {source_view}
WHERE reason IS NOT NULL"""
