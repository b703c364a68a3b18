"""The Kafka Streams peers as the platform runs them: started beside the PyFlink jobs on the
same raw topics, and checked with the same oracles (``check_peer`` of a lesson's oracle)."""

from __future__ import annotations

import shutil
import time

from confluent_kafka import OFFSET_END, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from streamlab import lessons
from streamlab.config import Settings
from streamlab.data import kafka_io, topics
from streamlab.errors import UserError
from streamlab.jobs import jobwatch
from streamlab.runtime import kafka_streams
from validation.oracle import TopicCheck


def start(settings: Settings, job: str, instances: int = 1, standby_replicas: int = 0) -> list[str]:
    """Create the peers' topics, then start ``instances`` instances of ``job``; returns their names."""
    kafka_streams.by_job(job)
    kafka_io.require_broker(settings.bootstrap_servers)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    topics.apply(admin, settings.replication_factor, settings.min_insync_replicas, catalog=topics.PEER_CATALOG)
    return [kafka_streams.start(settings, job, instance, standby_replicas).name for instance in range(instances)]


def check(settings: Settings, job: str, timeout_s: float = 300.0) -> list[TopicCheck]:
    """Wait until the peer has read its input to the end, then compare its topics with the
    lesson's oracle (retrying while its last transactions commit)."""
    lesson = kafka_streams.by_job(job)
    assert lesson.peer is not None
    jobwatch.wait_caught_up(settings, job, list(lesson.peer.inputs), timeout_s=timeout_s)
    check_peer = lessons.oracle(lesson.key).check_peer
    return list(jobwatch.wait_exact(lambda: check_peer(settings.bootstrap_servers), timeout_s=120))


def reset(settings: Settings, job: str, timeout_s: float = 60.0) -> list[str]:
    """What Kafka Streams' application reset tool and ``KafkaStreams#cleanUp()`` do together, so
    the peer's next start reads its inputs from the beginning into empty outputs: its instances
    stopped, its consumer group and internal topics deleted, its local state removed, and its
    output topics emptied. Emptied, not deleted: their records are deleted up to their ends, so
    offsets go on growing and the warehouse's loader resumes where it was. Returns the topics
    it deleted or emptied."""
    peer = kafka_streams.by_job(job).peer
    assert peer is not None
    kafka_io.require_broker(settings.bootstrap_servers)
    kafka_streams.stop(settings, job)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    _delete_group(admin, job, timeout_s)
    internal = [name for name in admin.list_topics(timeout=30).topics
                if name.startswith(f"{job}-") and name.endswith(("-changelog", "-repartition"))]
    if internal:
        for future in admin.delete_topics(internal, operation_timeout=30).values():
            future.result()
        _wait_gone(admin, internal, timeout_s)
    # The peers' dead letter is emptied with the one peer that judges raw input (Lesson 14's).
    outputs = [topic for _, topic in peer.topics] + ([topics.PEER_DEAD_LETTER.name] if peer.dead_letter else [])
    present = admin.list_topics(timeout=30).topics
    ends = [TopicPartition(topic, partition, OFFSET_END) for topic in outputs if topic in present
            for partition in present[topic].partitions]
    if ends:
        for future in admin.delete_records(ends, request_timeout=30).values():
            future.result()
    for state in (settings.state / "kafka-streams").glob(f"{job}-*"):
        if state.name.removeprefix(f"{job}-").isdigit():  # an instance's, not another peer's
            shutil.rmtree(state)
    return internal + [topic for topic in outputs if topic in present]


def _wait_gone(admin: AdminClient, names: list[str], timeout_s: float) -> None:
    """Until the broker lists none of ``names`` (a deletion completes after its call returns)."""
    deadline = time.monotonic() + timeout_s
    while set(names) & set(admin.list_topics(timeout=30).topics):
        if time.monotonic() > deadline:
            raise UserError(f"topics still listed {timeout_s:.0f}s after their deletion: {', '.join(names)}")
        time.sleep(0.2)


def _delete_group(admin: AdminClient, group: str, timeout_s: float) -> None:
    """Delete ``group`` once it is empty: Kafka Streams does not leave the group when it closes,
    so a stopped instance stays a member until its session times out (10 s, ``Main.java``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin.delete_consumer_groups([group], request_timeout=30)[group].result()
            return
        except KafkaException as error:
            code = error.args[0].code()
            if code == KafkaError.GROUP_ID_NOT_FOUND:
                return
            if code != KafkaError.NON_EMPTY_GROUP:
                raise
            if time.monotonic() > deadline:
                raise UserError(f"the group {group} still has members {timeout_s:.0f}s after its instances "
                                "stopped: is an instance running elsewhere?") from None
        time.sleep(0.5)
