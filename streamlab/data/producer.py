"""Write generated records to Kafka: keyed, idempotent, ``acks=all``, errors surfaced."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from confluent_kafka import KafkaError, Message, Producer
from tqdm import tqdm

from streamlab.data.generator import Record
from streamlab.errors import UserError
from streamlab.wire.headers import HEARTBEAT_HEADER

# What marks a record as the generator's heartbeat (see streamlab.data.generator), on every partition.
HEARTBEAT_HEADERS = [(HEARTBEAT_HEADER, b"1")]


def make_producer(bootstrap_servers: str, **extra: object) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "compression.type": "lz4",
            "log_level": 0,
            **extra,
        }
    )


def topic_partitions(producer: Producer, topic: str) -> list[int]:
    return sorted(producer.list_topics(topic, timeout=10).topics[topic].partitions)


def _send(producer: Producer, record: Record, on_delivery, **extra) -> None:
    while True:
        try:
            producer.produce(record.topic, record.value, record.key, on_delivery=on_delivery, **extra)
            return
        except BufferError:
            producer.poll(0.1)  # local queue full: let deliveries drain


def produce(
    records: Iterable[Record],
    bootstrap_servers: str,
    total: int | None = None,
    rate: float = 0.0,
    progress: bool = True,
) -> Counter[str]:
    """Produce every record in order; ``rate`` > 0 paces to that many records per second.

    Returns the count per ``topic`` and per ``topic:kind``. Raises if any delivery failed.
    """
    return send(make_producer(bootstrap_servers), records, total, rate, progress)


def send(
    producer: Producer,
    records: Iterable[Record],
    total: int | None = None,
    rate: float = 0.0,
    progress: bool = True,
) -> Counter[str]:
    """``produce`` through a given producer, e.g. a transactional one whose caller commits."""
    failures: list[str] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failures.append(f"{msg.topic()}: {err.str()}")

    counts: Counter[str] = Counter()
    started = time.monotonic()
    bar = tqdm(total=total, unit="ev", disable=not progress, desc="producing", leave=False)
    try:
        for i, record in enumerate(records):
            if rate > 0:
                ahead = started + i / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            if record.kind == "heartbeat":  # one to every partition: event time moves everywhere
                partitions = topic_partitions(producer, record.topic)
                for partition in partitions:
                    _send(producer, record, on_delivery, partition=partition,
                          headers=HEARTBEAT_HEADERS)
                sent = len(partitions)
            else:
                _send(producer, record, on_delivery)
                sent = 1
            producer.poll(0)
            counts[record.topic] += sent
            counts[f"{record.topic}:{record.kind.split(':')[0]}"] += sent
            bar.update()
            if failures:
                break
    finally:
        bar.close()
        remaining = producer.flush(60)
    if failures or remaining:
        detail = failures[0] if failures else f"{remaining} records still undelivered after 60s"
        raise UserError(f"producing to Kafka failed: {detail}")
    return counts
