"""Reading topics back: whole topics as committed, end offsets, and group progress."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from streamlab.data import records
from streamlab.data.generator import FACT_TOPICS, GeneratorSpec
from streamlab.errors import UserError
from streamlab.wire import events

HOUR_MS = 3_600_000
COORDINATOR_WAIT_S = 60.0
_COORDINATOR_MOVING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
}


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    timestamp_ms: int = 0  # the record's Kafka timestamp (producer's create time by default)


def _consumer(bootstrap_servers: str, **extra: object) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"streamlab-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 10,
            "log_level": 0,
            **extra,
        }
    )


def _partitions(consumer: Consumer, topic: str) -> list[int]:
    """The topic's partitions, asked over a client already connected: a new client per
    question costs a connection and a close, which a poll loop pays on every round."""
    meta = consumer.list_topics(topic, timeout=10).topics[topic]
    if meta.error is not None:
        raise RuntimeError(f"topic {topic}: {meta.error}")
    return sorted(meta.partitions)


def partitions(bootstrap_servers: str, topic: str) -> list[int]:
    consumer = _consumer(bootstrap_servers)
    try:
        return _partitions(consumer, topic)
    finally:
        consumer.close()


def leader(bootstrap_servers: str, topic: str, partition: int = 0) -> int:
    """The broker (node id) leading a partition now."""
    consumer = _consumer(bootstrap_servers)
    try:
        return consumer.list_topics(topic, timeout=10).topics[topic].partitions[partition].leader
    finally:
        consumer.close()


def read_all(
    bootstrap_servers: str, topic: str, timeout_s: float = 60.0, limit: int | None = None
) -> list[Message]:
    """Every committed record of ``topic`` from the beginning to its current end (or the
    first ``limit`` records read, across partitions)."""
    consumer = _consumer(bootstrap_servers)
    try:
        parts = _partitions(consumer, topic)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        done: set[int] = set()
        out: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while len(done) < len(parts) and (limit is None or len(out) < limit):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end in {timeout_s}s")
            for msg in consumer.consume(1000, timeout=0.2):
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        done.add(msg.partition())
                        continue
                    raise RuntimeError(f"reading {topic}: {err}")
                out.append(
                    Message(
                        msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(),
                        {k: v for k, v in (msg.headers() or [])}, msg.timestamp()[1],
                    )
                )
        return out[:limit]
    finally:
        consumer.close()


LEADERSHIP_MOVING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                     KafkaError.REQUEST_TIMED_OUT, KafkaError._TRANSPORT}


def watermarks(consumer: Consumer, partition: TopicPartition, timeout_s: float = 30.0) -> tuple[int, int]:
    """A partition's (low, high) offsets, asked again while its leadership moves (a broker that
    rejoined takes its partitions back: the old leader answers NOT_LEADER meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return consumer.get_watermark_offsets(partition, timeout=10)
        except KafkaException as err:
            error = err.args[0]
            if not (error.retriable() or error.code() in LEADERSHIP_MOVING) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def end_offsets(bootstrap_servers: str, topics: list[str]) -> dict[tuple[str, int], int]:
    return _watermark(bootstrap_servers, topics, 1)


def start_offsets(bootstrap_servers: str, topics: list[str]) -> dict[tuple[str, int], int]:
    """Each partition's first offset still in the log (moved on by retention or a deletion of records)."""
    return _watermark(bootstrap_servers, topics, 0)


def _watermark(bootstrap_servers: str, topics: list[str], which: int) -> dict[tuple[str, int], int]:
    consumer = _consumer(bootstrap_servers)
    try:
        return {(topic, p): watermarks(consumer, TopicPartition(topic, p))[which]
                for topic in topics for p in _partitions(consumer, topic)}
    finally:
        consumer.close()


def committed_offsets(
    bootstrap_servers: str, group_id: str, topics: list[str]
) -> dict[tuple[str, int], int]:
    """Offsets the group has committed (Flink commits them when a checkpoint completes).

    On a multi-broker cluster the group's coordinator moves when a broker stops or its
    leadership rebalances; the broker then answers "not coordinator" until the client has
    looked the new one up, so those answers are retried rather than raised.
    """
    consumer = _consumer(bootstrap_servers, **{"group.id": group_id})
    try:
        wanted = [TopicPartition(t, p) for t in topics for p in _partitions(consumer, t)]
        deadline = time.monotonic() + COORDINATOR_WAIT_S
        while True:
            try:
                committed = consumer.committed(wanted, timeout=10)
            except KafkaException as exc:
                if exc.args[0].code() not in _COORDINATOR_MOVING or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                continue
            return {(tp.topic, tp.partition): tp.offset for tp in committed}
    finally:
        consumer.close()


def require_broker(bootstrap_servers: str, timeout_s: float = 5.0) -> None:
    """Fail fast with the fix, instead of a client retrying for minutes."""
    consumer = _consumer(bootstrap_servers)
    try:
        consumer.list_topics(timeout=timeout_s)
    except KafkaException:
        raise UserError(
            f"no Kafka broker answers at {bootstrap_servers}: run `streamlab up` "
            "(or set STREAMLAB_HOST / STREAMLAB_KAFKA_PORT to your broker)"
        ) from None
    finally:
        consumer.close()


def latest_event_time(bootstrap_servers: str, topics: list[str], tail: int = 50) -> int | None:
    """The largest trusted ``ts_ms`` (``events.trusted_time``) among the last ``tail`` records
    of each partition (None if empty): no record, however hostile, moves it anywhere else.

    The tail suffices: records are produced in arrival order, so the newest event times are
    at the end (a bounded data set even ends with heartbeats an hour past its last event).
    """
    consumer = _consumer(bootstrap_servers)
    latest: int | None = None
    try:
        for topic in topics:
            for p in _partitions(consumer, topic):
                low, high = watermarks(consumer, TopicPartition(topic, p))
                if high <= low:
                    continue
                consumer.assign([TopicPartition(topic, p, max(low, high - tail))])
                done = False
                while not done:
                    for msg in consumer.consume(tail, timeout=1.0):
                        if (msg.topic(), msg.partition()) != (topic, p):
                            continue  # left over from the partition read before: its end is not this one's
                        if msg.error() is not None:
                            done = msg.error().code() == KafkaError._PARTITION_EOF
                            continue
                        doc = records.json_object(msg.value()) or {}
                        ts = events.trusted_time(doc.get("ts_ms"), msg.timestamp()[1])
                        if ts is None:
                            continue  # malformed records carry no event time to believe
                        latest = ts if latest is None else max(latest, ts)
        return latest
    finally:
        consumer.close()


def next_start_ms(bootstrap_servers: str) -> int:
    """Where a new data set's event time starts: the whole hour after the newest event in the
    fact topics (so nothing in it is late by design), or the generator's default on empty topics."""
    newest = latest_event_time(bootstrap_servers, sorted(FACT_TOPICS))
    return GeneratorSpec.start_ms if newest is None else (newest // HOUR_MS + 1) * HOUR_MS

