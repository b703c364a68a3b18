"""Scale out by configuration alone: a 3-broker KRaft quorum (3 replicas, 2 in sync for the
outputs) and a Flink cluster of two TaskManagers run the same jobs, the same Lesson 15 oracle
tests, and survive losing the leader broker of an output partition or one TaskManager with
nothing lost and nothing twice — and a whole Flink cluster restart, after which the job carries
on from its state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from streamlab import lessons
from streamlab.apps import platform as platform_lib
from streamlab.config import Settings
from streamlab.data import generator, producer, topics
from streamlab.jobs import drills, jobwatch, ops, rollout
from streamlab.runtime import flink_cluster, kafka_broker, processes
from streamlab.runtime.flink_rest import FlinkRest
from conftest import fresh_settings, streamlab

# The Lesson 15 windows tests themselves, collected again here on the cluster: the module's
# `platform` fixture below stands in for the session's one-broker platform.
from test_lesson15_windows import (  # noqa: F401
    test_counted_plus_late_equals_produced,
    test_only_records_that_arrived_late_are_called_late,
    test_windows_equal_the_oracle,
    windows_run,
)

pytestmark = pytest.mark.platform

DRILL_JOBS = ["lesson15-windows"]  # one job, so the TaskManager kill moves it to the other


@pytest.fixture(scope="module")
def platform() -> Iterator[Settings]:
    settings = fresh_settings("test-cluster", brokers=3, taskmanagers=2)
    try:
        platform_lib.up(settings, echo=lambda _: None)
        yield settings
    finally:
        platform_lib.down(settings, echo=lambda _: None)


def test_up_starts_a_quorum_of_three_and_two_taskmanagers(platform):
    admin = AdminClient({"bootstrap.servers": platform.bootstrap_servers, "log_level": 0})
    metadata = admin.list_topics(timeout=10)
    assert sorted(metadata.brokers) == [1, 2, 3]
    assert all(len(p.replicas) == 3 for t in topics.CATALOG for p in metadata.topics[t.name].partitions.values())
    [configs] = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "l15-revenue-1m")]).values()
    assert configs.result()["min.insync.replicas"].value == "2"
    assert FlinkRest(platform.flink_rest_url).overview()["taskmanagers"] == 2
    shown = streamlab(platform, "status").stdout
    assert all(f"broker {node} running" in shown for node in (1, 2, 3)) and shown.count("taskmanager pid") == 2


@pytest.mark.parametrize("scenario", ["broker-kill", "taskmanager-kill"])
def test_the_cluster_loses_a_node_mid_stream_and_nothing_else(platform, windows_run, scenario):
    before = {name: processes.running(platform.state, name).pid
              for name in [*map(kafka_broker.node_name, kafka_broker.nodes(platform)),
                           *flink_cluster.taskmanagers(platform)]}
    rest = FlinkRest(platform.flink_rest_url)
    job_ids = {key: rest.running_job(lessons.get(key).name)["jid"] for key in DRILL_JOBS}
    result = drills.run(platform, scenario, count=8_000, jobs=DRILL_JOBS)
    assert drills.record(platform, result, 300), result.describe(300)
    assert result.exact and sum(c.expected for c in result.checks) > 1000
    after = {name: processes.running(platform.state, name) for name in before}
    replaced = {name for name, proc in after.items() if proc.pid != before[name]}
    assert all(after.values()) and len(replaced) == 1, replaced  # exactly one node was lost, and is back
    assert replaced <= ({"kafka", "kafka-2", "kafka-3"} if scenario == "broker-kill" else
                        set(flink_cluster.taskmanagers(platform)))
    assert ops.latest_drills(platform)[scenario]["recovery_s"] == result.recovery_s
    # A failover of the same job from its checkpoint, not a new submission.
    assert {key: rest.running_job(lessons.get(key).name)["jid"] for key in DRILL_JOBS} == job_ids


def test_a_restarted_flink_cluster_resumes_the_job_from_its_state(platform, windows_run):
    """The restart comes half-way through a data set, with windows and sessions open: without
    its state the job would lose what they had summed so far, and the oracle would see it."""
    [key] = DRILL_JOBS
    spec = lessons.get(key)
    data = list(generator.generate(drills.next_data_set(platform, seed=1817, count=4_000)))
    half = len(data) // 2
    producer.produce(data[:half], platform.bootstrap_servers, progress=False)
    jobwatch.wait_caught_up(platform, spec.name, list(spec.inputs), timeout_s=600)
    flink_cluster.stop(platform)  # as `streamlab down` does: no savepoint
    flink_cluster.start(platform)
    outcome = rollout.roll_out(platform, key)
    assert outcome.action == "resumed" and "/checkpoints/" in str(outcome.state_from), outcome.describe()
    producer.produce(data[half:], platform.bootstrap_servers, progress=False)
    jobwatch.wait_caught_up(platform, spec.name, list(spec.inputs), timeout_s=600)
    result = jobwatch.wait_exact(lambda: lessons.oracle(key).check(platform.bootstrap_servers))
    assert all(c.exact for c in result), [(c.topic, c.missing, c.unexpected) for c in result]
