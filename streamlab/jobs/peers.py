"""The Kafka Streams peers as the platform runs them: started beside the PyFlink jobs on the
same raw topics, and checked with the same oracles (``check_peer`` of a lesson's oracle)."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient

from streamlab import lessons
from streamlab.config import Settings
from streamlab.data import kafka_io, topics
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
