"""Waiting for jobs to catch up, against a real broker: groups' commits decide, not time, and
idle inputs are nudged meanwhile."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from streamlab.data import kafka_io
from streamlab.errors import UserError
from streamlab.jobs import jobwatch
from streamlab.wire.headers import HEARTBEAT_HEADER

pytestmark = pytest.mark.platform


def _commit(bootstrap: str, group: str, offsets: dict[tuple[str, int], int]) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
    finally:
        consumer.close()


@pytest.fixture()
def topic(platform) -> str:
    name = f"jobwatch-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": platform.bootstrap_servers})
    admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])[name].result(timeout=30)
    producer = Producer({"bootstrap.servers": platform.bootstrap_servers})
    for i in range(10):
        producer.produce(name, value=b"x", partition=i % 2)
    producer.flush(30)
    return name


def test_all_caught_up_waits_for_every_group_and_names_the_one_behind(platform, topic):
    bootstrap = platform.bootstrap_servers
    ends = kafka_io.end_offsets(bootstrap, [topic])
    assert sum(ends.values()) == 10
    _commit(bootstrap, "jobwatch-ahead", ends)
    _commit(bootstrap, "jobwatch-behind", {**ends, (topic, 1): ends[(topic, 1)] - 1})
    groups = {"jobwatch-ahead": [topic], "jobwatch-behind": [topic]}
    with pytest.raises(UserError, match="^jobwatch-behind did not process all input"):
        jobwatch.wait_all_caught_up(platform, groups, timeout_s=jobwatch.NUDGE_EVERY_S + 0.6)
    # While it waited, each partition of the input was nudged with an inert heartbeat
    nudges = [m for m in kafka_io.read_all(bootstrap, topic) if HEARTBEAT_HEADER in m.headers]
    assert {m.partition for m in nudges} == {0, 1}
    assert all(json.loads(m.value) == {"heartbeat": True, "ts_ms": 0} for m in nudges)
    ends = kafka_io.end_offsets(bootstrap, [topic])  # the nudges are records too
    for group in groups:
        _commit(bootstrap, group, ends)
    jobwatch.wait_all_caught_up(platform, groups, timeout_s=10)
