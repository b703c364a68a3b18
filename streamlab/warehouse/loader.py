"""`streamlab load`: every topic into the warehouse, exactly once.

A batch is one warehouse transaction: the rows of every topic read since the last batch *and*
the offsets to resume from (``ops.load_offsets``) commit together, so whatever point a load
dies at, the next one resumes exactly after the last committed row. The offsets are read from
the primary under the writer lock, never from the replica (which may lag a crashed load).
Kafka's consumer group ``streamlab-warehouse`` gets the same offsets afterwards, only so
that lag shows up in Kafka tools; it is never read back.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from streamlab import warehouse
from streamlab.config import Settings
from streamlab.data import kafka_io
from streamlab.warehouse import marts

GROUP = "streamlab-warehouse"
# Crash the loader (SIGKILL, as the OOM killer would) at one step of a batch: the recovery test.
CRASH_ENV = "STREAMLAB_LOAD_CRASH_AT"
STEPS = ("fetched", "inserted", "committed", "published")
Echo = Callable[[str], None]

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS peers;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.load_offsets (
  topic VARCHAR NOT NULL,
  "partition" INTEGER NOT NULL,
  next_offset BIGINT NOT NULL,       -- the first offset the next batch reads
  load_id BIGINT NOT NULL,
  PRIMARY KEY (topic, "partition")
);
CREATE TABLE IF NOT EXISTS ops.loads (
  load_id BIGINT PRIMARY KEY,
  started_at TIMESTAMPTZ NOT NULL,
  committed_at TIMESTAMPTZ NOT NULL,
  records BIGINT NOT NULL,           -- rows this batch added, over all tables
  per_topic JSON NOT NULL
);
"""

BATCH_SCHEMA = pa.schema([
    ("topic", pa.string()), ("partition", pa.int32()), ("offset", pa.int64()),
    ("timestamp_ms", pa.int64()), ("key", pa.binary()), ("value", pa.binary()), ("headers", pa.string()),
])


@dataclass
class LoadReport:
    batches: int = 0
    records: int = 0
    seconds: float = 0.0
    per_topic: dict[str, int] = field(default_factory=dict)


def _crash_if(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)
    for table in marts.TABLES:
        con.execute(table.ddl())
    for view in marts.VIEWS.values():
        con.execute(view)


def _consumer(settings: Settings) -> Consumer:
    return Consumer({
        "bootstrap.servers": settings.bootstrap_servers, "group.id": GROUP,
        "enable.auto.commit": False, "enable.auto.offset.store": False,
        "isolation.level": "read_committed", "enable.partition.eof": True, "fetch.wait.max.ms": 10,
        "log_level": 0,
    })


def _fetch(consumer: Consumer, start: dict[tuple[str, int], int], limit: int) -> tuple[list[tuple], dict]:
    """Records from ``start`` (per topic-partition) to the end, or about ``limit`` of them; and
    where each partition's next batch starts."""
    consumer.assign([TopicPartition(t, p, start.get((t, p), OFFSET_BEGINNING)) for t, p in start])
    done: set[tuple[str, int]] = set()
    rows: list[tuple] = []
    deadline = time.monotonic() + 120
    while len(done) < len(start) and len(rows) < limit:
        if time.monotonic() > deadline:
            raise TimeoutError("the topics' ends were not reached within 120s")
        for msg in consumer.consume(min(2000, limit - len(rows)), timeout=0.2):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    done.add((msg.topic(), msg.partition()))
                    continue
                raise RuntimeError(f"reading {msg.topic()}: {err}")
            headers = {k: (v.decode("utf-8", "replace") if v is not None else None)
                       for k, v in (msg.headers() or [])}
            rows.append((msg.topic(), msg.partition(), msg.offset(), msg.timestamp()[1], msg.key(),
                         msg.value(), json.dumps(headers)))
    positions = {}
    for tp in consumer.position([TopicPartition(t, p) for t, p in start]):
        if tp.offset >= 0:
            positions[(tp.topic, tp.partition)] = tp.offset
        elif (tp.topic, tp.partition) in start and start[(tp.topic, tp.partition)] >= 0:
            positions[(tp.topic, tp.partition)] = start[(tp.topic, tp.partition)]
    return rows, positions


def _stored_offsets(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], int]:
    rows = con.execute('SELECT topic, "partition", next_offset FROM ops.load_offsets').fetchall()
    return {(topic, partition): offset for topic, partition, offset in rows}


def _batch(settings: Settings, consumer: Consumer, limit: int) -> tuple[int, dict[str, int], dict]:
    """One batch: fetch, insert and record offsets in one transaction, publish; returns the
    records loaded, per topic, and the offsets committed."""
    started = datetime.now(timezone.utc)
    with warehouse.writer(settings, after_commit=lambda: _crash_if("committed")) as con:
        ensure_schema(con)
        stored = _stored_offsets(con)
        present = consumer.list_topics(timeout=10).topics
        wanted = {(topic, p): stored.get((topic, p), OFFSET_BEGINNING)
                  for topic in marts.by_topic() if topic in present
                  for p in present[topic].partitions}
        rows, positions = _fetch(consumer, wanted, limit)
        _crash_if("fetched")
        per_topic: dict[str, int] = {}
        for row in rows:
            per_topic[row[0]] = per_topic.get(row[0], 0) + 1
        changed = {tp: o for tp, o in positions.items() if stored.get(tp) != o}
        if rows or changed:
            load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM ops.loads").fetchall()[0][0]
            columns = list(zip(*rows)) if rows else [[] for _ in BATCH_SCHEMA.names]
            con.register("batch", pa.Table.from_arrays(
                [pa.array(c, type=f.type) for c, f in zip(columns, BATCH_SCHEMA)], schema=BATCH_SCHEMA))
            con.execute("""CREATE OR REPLACE TEMP VIEW batch_docs AS
                SELECT * EXCLUDE (txt, headers), headers::JSON AS headers,
                       CASE WHEN json_valid(txt) THEN txt::JSON END AS doc
                FROM (SELECT *, try(decode(value)) AS txt FROM batch)""")
            for table in marts.TABLES:
                if any(topic in per_topic for topic in table.topics):
                    con.execute(table.insert(load_id))
            _crash_if("inserted")
            con.executemany(
                'INSERT OR REPLACE INTO ops.load_offsets VALUES (?, ?, ?, ?)',
                [[t, p, o, load_id] for (t, p), o in changed.items()])
            con.execute("INSERT INTO ops.loads VALUES (?, ?, ?, ?, ?)",
                        [load_id, started, datetime.now(timezone.utc), len(rows), json.dumps(per_topic)])
    _crash_if("published")
    return len(rows), per_topic, positions


def load(settings: Settings, batch_records: int = 100_000, echo: Echo | None = None) -> LoadReport:
    """Load batches until every topic is read to its end (as committed when each batch began)."""
    kafka_io.require_broker(settings.bootstrap_servers)
    report = LoadReport()
    started = time.monotonic()
    consumer = _consumer(settings)
    try:
        while True:
            count, per_topic, positions = _batch(settings, consumer, batch_records)
            if positions:
                consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in positions.items()],
                                asynchronous=False)
            if not count:
                break
            report.batches += 1
            report.records += count
            for topic, n in per_topic.items():
                report.per_topic[topic] = report.per_topic.get(topic, 0) + n
            if echo:
                echo(f"   batch {report.batches}: {count:,} records committed "
                     f"({report.records:,} so far, {time.monotonic() - started:.1f}s)")
            if count < batch_records:
                break
    finally:
        consumer.close()
    report.seconds = time.monotonic() - started
    return report


def table_counts(settings: Settings) -> dict[str, int]:
    """Rows per warehouse table (and store view), as published."""
    with warehouse.reader(settings) as con:
        names = [t.qualified for t in marts.TABLES] + list(marts.VIEWS)
        return {name: con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
                for name in names if warehouse.has_table(con, *name.split("."))}
