"""Topics as JSON-lines directories: what a job reads and writes in a local check (no Kafka).

An exercise's check runs the real job on a small data set in a local PyFlink environment.
Each topic is the directory ``<local_dir>/<topic>``: ``streamlab.data.topic_files`` writes a raw
topic's records there (one partition, in offset order) and reads back what the sinks wrote.
A raw source has the Kafka source's columns, its origin as plain fields instead of metadata,
so every view and rule of the job runs unchanged. Sinks write the row as JSON (the value a
Kafka sink would write); a store's upserts go out as a changelog (``debezium-json``), because
a file, unlike a compacted topic, cannot be updated in place.
"""

from __future__ import annotations

from pathlib import Path

from streamlab.wire.headers import HEARTBEAT_HEADER


def _options(topic: str, local_dir: str, file_format: str) -> str:
    return (f"'connector' = 'filesystem', 'path' = '{(Path(local_dir) / topic).as_uri()}', "
            f"'format' = '{file_format}'")


def raw_source(table: str, topic: str, local_dir: str, event_time: str) -> str:
    """``topic``'s records with the columns of ``kafka_ddl.raw_source`` (``event_time``: its
    computed time columns and watermark)."""
    return f"""
CREATE TABLE {table} (
  k BYTES,
  payload BYTES,
  src_topic STRING,
  src_partition INT,
  src_offset BIGINT,
  src_headers MAP<STRING, BYTES>,
  src_timestamp TIMESTAMP_LTZ(3),
  heartbeat AS src_headers['{HEARTBEAT_HEADER}'] IS NOT NULL{event_time}
) WITH ({_options(topic, local_dir, "json")})"""


def sink(table: str, topic: str, columns: str, local_dir: str, file_format: str) -> str:
    """A sink of ``columns`` writing ``topic``'s directory in ``file_format``."""
    return f"CREATE TABLE {table} (\n  {columns}\n) WITH ({_options(topic, local_dir, file_format)})"
