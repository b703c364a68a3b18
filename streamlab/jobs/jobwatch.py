"""Waiting for a streaming job to catch up with its input, and for its output to settle."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from confluent_kafka import KafkaException, Producer

from streamlab.config import Settings
from streamlab.data import generator, kafka_io
from streamlab.data import producer as producer_lib
from streamlab.errors import UserError
from validation.oracle import TopicCheck

# --8<-- [start:keep_alive]
# Flink's Kafka source commits a checkpoint's offsets between two polls of the broker, and a
# poll of partitions with nothing new lasts 10 s (a constant in connector 5.0.0-2.2; FLINK-40367
# makes it configurable in a later release): a job that has read everything reported it up to
# 10 s late (a 3,000-event data set: caught up after 10-13 s, 1.3-2.6 s with the nudge). So,
# while waiting, every partition of the inputs gets an inert heartbeat each second, as a live
# feed's next event would end the poll: its event time is 0, which moves no stream time and no
# watermark, and every job and oracle skips heartbeats.
NUDGE_EVERY_S = 1.0
# --8<-- [end:keep_alive]


class _Nudge:
    """Sends the inert heartbeat to every partition of ``topics`` at most every ``NUDGE_EVERY_S``.

    Best effort: a nudge is not data, so it is queued and never waited for. A broker down in a
    drill must not hold the wait up or fail it (``producer.send`` would, after 60 s).
    """

    def __init__(self, bootstrap_servers: str) -> None:
        self.producer: Producer | None = None
        self.bootstrap_servers = bootstrap_servers
        self.last = time.monotonic()

    def __call__(self, topics: list[str]) -> None:
        if time.monotonic() - self.last < NUDGE_EVERY_S:
            return
        self.last = time.monotonic()
        self.producer = self.producer or producer_lib.make_producer(self.bootstrap_servers)
        beat = generator.heartbeat_value(0)
        try:
            for topic in topics:
                for partition in producer_lib.topic_partitions(self.producer, topic):
                    self.producer.produce(topic, beat, b"", partition=partition,
                                          headers=producer_lib.HEARTBEAT_HEADERS)
        except (KafkaException, BufferError):
            pass  # no metadata or a full queue: the next round tries again
        self.producer.poll(0)


def wait_caught_up(
    settings: Settings,
    group_id: str,
    input_topics: list[str],
    timeout_s: float = 300.0,
    echo: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
    poll_s: float = 1.0,
) -> None:
    """Until the job's group has committed the end offset of every input partition.

    Flink commits source offsets when a checkpoint completes, so this also means the
    outputs of everything read so far belong to a completed checkpoint. ``progress`` is told
    the input records committed so far at every poll (the benchmark times a drain with it).
    The inputs are nudged meanwhile (see ``NUDGE_EVERY_S``).
    """
    ends = kafka_io.end_offsets(settings.bootstrap_servers, input_topics)
    total = sum(ends.values())
    deadline = time.monotonic() + timeout_s
    last_report = 0.0
    nudge = _Nudge(settings.bootstrap_servers)
    while True:
        done = _committed(settings, group_id, ends)
        if progress:
            progress(done)
        if done >= total:
            return
        if echo and time.monotonic() - last_report > 5:
            echo(f"   processed {done}/{total} input records")
            last_report = time.monotonic()
        if time.monotonic() > deadline:
            raise UserError(
                f"{group_id} processed {done} of {total} input records in {timeout_s:.0f}s; "
                "check `streamlab status` and the Flink UI"
            )
        nudge(input_topics)
        time.sleep(poll_s)


def wait_all_caught_up(
    settings: Settings, groups: dict[str, list[str]], timeout_s: float = 300.0, poll_s: float = 0.2
) -> dict[str, float]:
    """Until every group (``group id: input topics``) has caught up, asking them all in each
    round and dropping each once done, so the wait ends within a poll of the last one. Returns
    when (``time.monotonic()``) each group was seen caught up.

    Waiting for one job after another instead asked every later job its end offsets and
    commits anew after the first was done: seven jobs read as caught up seconds late, which
    the benchmark's drains and drills counted as processing time.
    """
    ends = {group: kafka_io.end_offsets(settings.bootstrap_servers, topics) for group, topics in groups.items()}
    deadline = time.monotonic() + timeout_s
    caught_up: dict[str, float] = {}
    nudge = _Nudge(settings.bootstrap_servers)
    while True:
        for group in [g for g, group_ends in ends.items()
                      if _committed(settings, g, group_ends) >= sum(group_ends.values())]:
            caught_up[group] = time.monotonic()
            del ends[group]
        if not ends:
            return caught_up
        if time.monotonic() > deadline:
            raise UserError(
                f"{', '.join(sorted(ends))} did not process all input in {timeout_s:.0f}s; "
                "check `streamlab status` and the Flink UI"
            )
        nudge(sorted({topic for group in ends for topic in groups[group]}))
        time.sleep(poll_s)


def _committed(settings: Settings, group_id: str, ends: dict[tuple[str, int], int]) -> int:
    """Input records the group has committed, counted up to ``ends`` per partition."""
    committed = kafka_io.committed_offsets(settings.bootstrap_servers, group_id, sorted({t for t, _ in ends}))
    return sum(min(max(committed.get(tp, 0), 0), end) for tp, end in ends.items())


def wait_exact(
    check: Callable[[], Sequence[TopicCheck]], timeout_s: float = 60.0
) -> Sequence[TopicCheck]:
    """Re-check until every topic equals the oracle or time runs out; return the last checks.

    Retrying cannot hide a duplicate: a row written twice never disappears from a topic.
    It only waits for transactions that commit a moment after the source offsets.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        checks = check()
        if all(c.exact for c in checks) or time.monotonic() > deadline:
            return checks
        time.sleep(2.0)
