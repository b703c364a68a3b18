"""Following topics from the beginning in a background thread (the Kafka client blocks).

Reads committed records only (``read_committed``): the jobs write transactionally, so what
the dashboard shows was committed at a checkpoint and will not be taken back after a crash.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from streamlab.data import kafka_io

Batch = list[kafka_io.Message]


class Feed(threading.Thread):
    """Calls ``on_batch`` with each batch of records, and ``on_restored`` once every partition
    reached the end offset it had at start (the views are then as fresh as the topics)."""

    def __init__(self, bootstrap_servers: str, topics: list[str], on_batch: Callable[[Batch], None],
                 on_restored: Callable[[float], None]) -> None:
        super().__init__(name="dashboard-feed", daemon=True)
        self.bootstrap_servers, self.topics = bootstrap_servers, topics
        self.on_batch, self.on_restored = on_batch, on_restored
        self.error: str | None = None
        self.next_offsets: dict[tuple[str, int], int] = {}  # where to go on after an error
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._follow()
            except Exception as err:  # noqa: BLE001 - a broker restart must not end the dashboard
                self.error = f"{type(err).__name__}: {err}"
                time.sleep(2.0)

    # --8<-- [start:follow]
    def _follow(self) -> None:
        started = time.monotonic()
        consumer = Consumer({
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": f"streamlab-dashboard-{uuid.uuid4().hex[:8]}",  # never commits: a restart restores
            "enable.auto.commit": False, "isolation.level": "read_committed",
            "fetch.wait.max.ms": 50, "log_level": 0,
        })
        try:
            ends = kafka_io.end_offsets(self.bootstrap_servers, self.topics)
            consumer.assign([TopicPartition(t, p, self.next_offsets.get((t, p), OFFSET_BEGINNING)) for t, p in ends])
            behind = {tp for tp, end in ends.items() if end > 0}
            if not behind:
                self.on_restored(time.monotonic() - started)
            while not self._stopping.is_set():
                batch: Batch = []
                for msg in consumer.consume(500, timeout=0.1):
                    err = msg.error()
                    if err is not None:
                        if err.code() != KafkaError._PARTITION_EOF:
                            self.error = err.str()
                        continue
                    batch.append(kafka_io.Message(msg.topic(), msg.partition(), msg.offset(), msg.key(),
                                                  msg.value(), {}, msg.timestamp()[1]))
                if batch:
                    self.on_batch(batch)
                    self.next_offsets.update({(m.topic, m.partition): m.offset + 1 for m in batch})
                    self.error = None
                if behind:
                    # Transaction markers take offsets too: compare positions, not record offsets.
                    positions = consumer.position([TopicPartition(t, p) for t, p in behind])
                    behind = {(tp.topic, tp.partition) for tp in positions if tp.offset < ends[(tp.topic, tp.partition)]}
                    if not behind:
                        self.on_restored(time.monotonic() - started)
        finally:
            consumer.close()
    # --8<-- [end:follow]
