"""The runtime supervisor: idempotent up, topics as code, status, and a down that stops
exactly what up started."""

from __future__ import annotations

import json
import subprocess
import uuid

import psutil
import pytest
from confluent_kafka.admin import AdminClient

from streamlab.data import topics
from streamlab.runtime import airflow_service, flink_cluster, job_client, kafka_broker, processes
from conftest import fresh_settings, streamlab

pytestmark = pytest.mark.platform


def test_topics_apply_is_idempotent(platform):
    admin = AdminClient({"bootstrap.servers": platform.bootstrap_servers, "log_level": 0})
    assert set(topics.apply(admin).values()) == {"up to date"}
    metadata = admin.list_topics(timeout=10).topics
    for topic in topics.CATALOG:
        assert len(metadata[topic.name].partitions) == topic.partitions


def test_status_shows_broker_topics_and_cluster(platform):
    result = streamlab(platform, "status")
    assert result.returncode == 0, result.stderr
    assert f"{platform.bootstrap_servers}  running" in result.stdout
    for topic in topics.CATALOG:
        assert topic.name in result.stdout
    assert "taskmanagers 2" in result.stdout  # one the other's spare
    assert "job client pid" in result.stdout


def test_up_twice_and_down_stops_exactly_what_up_started():
    settings = fresh_settings("test-updown", airflow=True, dashboard=True)
    bystander = subprocess.Popen(["sleep", "300"])  # not ours: must survive `down`
    try:
        first = streamlab(settings, "up")
        assert first.returncode == 0, first.stderr
        started = {p.name: p for p in processes.all_recorded(settings.state)}
        assert set(started) == {"kafka", "flink-jobmanager", *flink_cluster.taskmanagers(settings),
                                job_client.NAME, *airflow_service.COMPONENTS, "dashboard"}
        shown = streamlab(settings, "status").stdout
        assert f"Airflow   {settings.airflow_url}" in shown and airflow_service.password(settings) in shown
        assert f"Dashboard {settings.dashboard_url}  running (pid {started['dashboard'].pid})" in shown
        again = streamlab(settings, "up")  # idempotent: nothing new, nothing fails
        assert again.returncode == 0, again.stderr
        assert {p.name: p.pid for p in processes.all_recorded(settings.state)} == {
            name: p.pid for name, p in started.items()}
        members = [m for p in started.values() for m in processes.group_members(p)]
        down = streamlab(settings, "down")
        assert down.returncode == 0, down.stderr
        assert "kafka" in down.stdout and "airflow-scheduler" in down.stdout and "dashboard" in down.stdout
        for proc in started.values():
            assert not proc.alive(), proc
        assert not any(m.is_running() and m.status() != psutil.STATUS_ZOMBIE for m in members)
        state = str(settings.state)
        leftovers = [p for p in psutil.process_iter(["cmdline"])
                     if state in " ".join(p.info["cmdline"] or [])]
        assert not leftovers, leftovers
        assert bystander.poll() is None
        assert streamlab(settings, "down").stdout.strip() == "stopped: nothing was running"
    finally:
        streamlab(settings, "down")
        bystander.kill()


def test_generate_continues_event_time_after_the_data_already_there(platform):
    first = streamlab(platform, "generate", "--count", "50", "--no-progress")
    assert first.returncode == 0, first.stderr
    assert "heartbeats" in first.stdout
    second = streamlab(platform, "generate", "--count", "50", "--no-progress")
    assert second.returncode == 0, second.stderr
    starts = [line.split()[-1] for result in (first, second) for line in result.stdout.splitlines()
              if line.startswith("event time starts at")]
    assert len(starts) == 2 and starts[1] > starts[0], starts
    explicit = streamlab(platform, "generate", "--count", "5", "--start", "2030-01-01T00:00:00Z",
                         "--no-progress")
    assert "event time starts at 2030-01-01T00:00:00Z" in explicit.stdout


def test_read_prints_committed_records_as_json_lines(platform):
    assert streamlab(platform, "generate", "--count", "20", "--no-progress").returncode == 0
    result = streamlab(platform, "read", "clicks", "--limit", "2")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    assert all(line["key"] and line["value"] and isinstance(line["headers"], dict) for line in lines)
    unknown = streamlab(platform, "read", "no-such-topic")
    assert unknown.returncode != 0 and "unknown topic 'no-such-topic'" in unknown.stderr


def test_storage_format_takes_an_id_that_starts_with_a_dash(monkeypatch):
    """A random cluster id is base64 and may start with "-" (seen failing once in CI)."""
    settings = fresh_settings("test-format")
    settings.state.joinpath("kafka").mkdir(parents=True)
    props = settings.state / "kafka" / "server.properties"
    props.write_text(kafka_broker.server_properties(settings))
    dash_first = next(u for u in (uuid.UUID(int=i << 120) for i in range(256))
                      if kafka_broker._cluster_id(u).startswith("-"))
    monkeypatch.setattr(kafka_broker.uuid, "uuid4", lambda: dash_first)
    kafka_broker._format_storage(settings, 1, props)
    assert (settings.state / "kafka" / "data" / "meta.properties").exists()
