"""One real platform (Kafka broker + Flink session cluster) per test session, on free ports.

Its state lives under the project's own state dir (``.streamlab/test-session``), never in
shared /tmp defaults, and ``down`` runs when the session ends whatever the outcome.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlab import flink_cluster, generator, jobwatch, kafka_io, processes, producer
from streamlab import platform as platform_lib
from streamlab.config import Settings
from streamlab.flink_rest import FlinkRest

REPO = Path(__file__).resolve().parent.parent
STATE_ROOT = REPO / os.environ.get("STREAMLAB_STATE_DIR", ".streamlab")
VENV_BIN = Path(sys.executable).parent


def fresh_settings(name: str) -> Settings:
    """Settings for an isolated platform under ``<state>/<name>`` on free ports."""
    state = STATE_ROOT / name
    if state.exists():
        shutil.rmtree(state)
    kafka, controller, rest, rpc = processes.free_ports(4)
    return Settings(
        state_dir=state, jars_dir=STATE_ROOT / "jars", kafka_port=kafka,
        kafka_controller_port=controller, flink_rest_port=rest, flink_rpc_port=rpc,
    )


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment that points the `streamlab` CLI at ``settings``."""
    env = dict(os.environ)
    env.update(
        STREAMLAB_STATE_DIR=str(settings.state_dir),
        STREAMLAB_JARS_DIR=str(settings.jars),
        STREAMLAB_KAFKA_PORT=str(settings.kafka_port),
        STREAMLAB_KAFKA_CONTROLLER_PORT=str(settings.kafka_controller_port),
        STREAMLAB_FLINK_REST_PORT=str(settings.flink_rest_port),
        STREAMLAB_FLINK_RPC_PORT=str(settings.flink_rpc_port),
    )
    env.update(extra)
    return env


def streamlab(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "streamlab"), *args], env=env_for(settings, **env),
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )


def assert_exact(checks) -> None:
    wrong = [c for c in checks if not c.exact]
    assert not wrong, "\n".join(
        f"{c.topic}: expected {c.expected}, got {c.actual}; {c.missing} missing, "
        f"{c.unexpected} unexpected, e.g. {c.sample}" for c in wrong
    )


def kill_taskmanager_mid_run(settings: Settings, job_name: str, inputs: list[str],
                             more: generator.GeneratorSpec) -> None:
    """Produce ``more``, kill -9 the TaskManager once the job is part-way through it (state
    and open transactions are lost), start a new one and wait until the same job caught up."""
    rest = FlinkRest(settings.flink_rest_url)
    job_id = rest.running_job(job_name)["jid"]
    before = kafka_io.committed_offsets(settings.bootstrap_servers, job_name, inputs)
    producer.produce(generator.generate(more), settings.bootstrap_servers, progress=False)
    deadline = time.monotonic() + 120
    while kafka_io.committed_offsets(settings.bootstrap_servers, job_name, inputs) == before:
        assert time.monotonic() < deadline, "job made no progress on the new input"
        time.sleep(0.2)
    taskmanager = processes.running(settings.state, flink_cluster.TASKMANAGER)
    processes.kill(taskmanager)
    committed = kafka_io.committed_offsets(settings.bootstrap_servers, job_name, inputs)
    ends = kafka_io.end_offsets(settings.bootstrap_servers, inputs)
    assert sum(committed.values()) < sum(ends.values()), "killed after the job had finished"
    while taskmanager.alive():
        time.sleep(0.1)
    flink_cluster.restart_taskmanager(settings)
    jobwatch.wait_caught_up(settings, job_name, inputs, timeout_s=600)
    # Flink does not checkpoint watermarks: a partition read to its end before the crash has
    # none after the restore until a record comes. A live store keeps sending; here the data
    # set's final heartbeats are sent again so every window can close.
    beats = [record for record in generator.generate(more) if record.kind == "heartbeat"]
    producer.produce(beats, settings.bootstrap_servers, progress=False)
    jobwatch.wait_caught_up(settings, job_name, inputs, timeout_s=600)
    # It really was a failover of the same job onto a new TaskManager, not a fresh job.
    assert rest.running_job(job_name)["jid"] == job_id
    assert processes.running(settings.state, flink_cluster.TASKMANAGER).pid != taskmanager.pid


@pytest.fixture(scope="session")
def platform() -> Iterator[Settings]:
    settings = fresh_settings("test-session")
    try:
        platform_lib.up(settings, echo=lambda _: None)
        yield settings
    finally:
        platform_lib.down(settings, echo=lambda _: None)
