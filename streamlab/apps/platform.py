"""`up` and `down` for the whole platform, in dependency order, with progress lines."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka.admin import AdminClient

from streamlab.apps import operations
from streamlab.apps.dashboard import service as dashboard
from streamlab.config import Settings
from streamlab.data import topics
from streamlab.errors import UserError
from streamlab.jobs import deploy
from streamlab.runtime import airflow_service, flink_cluster, jars, job_client, kafka_broker, kafka_streams, processes

Echo = Callable[[str], None]


def _step(echo: Echo, what: str, action: Callable[[], object]) -> object:
    started = time.monotonic()
    echo(f"-> {what} ...")
    result = action()
    echo(f"   ok ({time.monotonic() - started:.1f}s)")
    return result


def isolated(state_dir: Path, jars_dir: Path, airflow: bool = False, dashboard: bool = False,
             brokers: int = 1, taskmanagers: int = 2) -> Settings:
    """Settings for a platform of its own on ports free right now (tests, benchmarks), without
    Airflow's four processes or the dashboard unless asked for."""
    kafka = processes.free_port_block(2 * brokers)  # broker i: base + 2i, its controller base + 2i + 1
    queries = processes.free_port_block(2)  # a peer's two instances (the tests run two)
    while queries < kafka + 2 * brokers and kafka < queries + 2:
        queries = processes.free_port_block(2)
    rest, rpc, api, page = processes.free_ports(4)
    while any(base <= port < base + n for base, n in ((kafka, 2 * brokers), (queries, 2))
              for port in (rest, rpc, api, page)):
        rest, rpc, api, page = processes.free_ports(4)
    return Settings(state_dir=state_dir, jars_dir=jars_dir, kafka_port=kafka, kafka_controller_port=kafka + 1,
                    kafka_brokers=brokers, flink_taskmanagers=taskmanagers, flink_rest_port=rest,
                    flink_rpc_port=rpc, airflow=airflow, airflow_port=api, dashboard=dashboard, dashboard_port=page,
                    kstreams_http_port=queries)


SHAPE = ("kafka_brokers", "flink_taskmanagers")


def _shape_file(settings: Settings) -> Path:
    return settings.state / "platform.json"


def with_shape(settings: Settings, brokers: int | None = None, taskmanagers: int | None = None) -> Settings:
    """The platform's shape: what `up --brokers/--taskmanagers` chose is remembered in the state
    dir, so every later command (and Airflow's and the dashboard's) sees the same cluster; an
    explicit STREAMLAB_KAFKA_BROKERS / STREAMLAB_FLINK_TASKMANAGERS still wins."""
    recorded = json.loads(_shape_file(settings).read_text()) if _shape_file(settings).exists() else {}
    shape = {key: value for key, value in recorded.items()
             if key in SHAPE and f"STREAMLAB_{key.upper()}" not in os.environ}
    chosen = {"kafka_brokers": brokers, "flink_taskmanagers": taskmanagers}
    shape.update({key: value for key, value in chosen.items() if value is not None})
    return Settings(**{**settings.model_dump(exclude_unset=True), **shape}) if shape else settings


def record_shape(settings: Settings) -> None:
    path = _shape_file(settings)
    before = json.loads(path.read_text()) if path.exists() else {}
    if before.get("kafka_brokers", settings.kafka_brokers) != settings.kafka_brokers and \
            (settings.state / kafka_broker.NAME / "data").exists():
        raise UserError(f"{settings.state} holds a {before['kafka_brokers']}-broker Kafka cluster (its topics "
                        f"have that many replicas): use another STREAMLAB_STATE_DIR for "
                        f"{settings.kafka_brokers}, or `make clean` first")
    settings.state.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({key: getattr(settings, key) for key in SHAPE}) + "\n")


def up(settings: Settings, echo: Echo = print) -> None:
    """Start whatever is not running yet; safe to run again at any time."""
    record_shape(settings)
    _step(echo, "resolving jars", lambda: jars.ensure_jars(settings.jars, quiet=True))
    brokers = "Kafka broker" if settings.kafka_brokers == 1 else f"{settings.kafka_brokers} Kafka brokers"
    _step(echo, f"{brokers} on {settings.bootstrap_servers}", lambda: kafka_broker.start(settings))
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    _step(echo, f"topics ({len(topics.CATALOG)} in the catalog, {settings.replication_factor} replicas)",
          lambda: topics.apply(admin, settings.replication_factor, settings.min_insync_replicas))
    _step(echo, f"Flink cluster on {settings.flink_rest_url}", lambda: flink_cluster.start(settings))
    _step(echo, "Flink job client (plans and submits every job; warms up on the lessons' jobs meanwhile)",
          lambda: job_client.start(settings, deploy.warm_up_jobs(settings), wait=False))
    if settings.airflow:
        if _step(echo, f"Airflow on {settings.airflow_url}", lambda: airflow_service.start(settings)):
            echo("   (restarted: its settings changed since it started)")
        _step(echo, f"operations DAGs (schedules: STREAMLAB_SCHEDULE_*; watch {settings.airflow_url}, "
              "login in `streamlab status`)", lambda: operations.make_live(settings, echo))
    if settings.dashboard:
        _step(echo, f"dashboard on {settings.dashboard_url}", lambda: dashboard.start(settings))


def down(settings: Settings, echo: Echo = print) -> list[str]:
    """Stop exactly what `up` started (recorded pids): the dashboard and Airflow first (they
    read from and drive the rest), then the Kafka Streams peers and Flink, then Kafka."""
    stopped = [dashboard.NAME] if dashboard.stop(settings) else []
    stopped.extend(airflow_service.stop(settings))
    stopped.extend(kafka_streams.stop(settings))
    stopped.extend([job_client.NAME] if job_client.stop(settings) else [])
    stopped.extend(flink_cluster.stop(settings))
    stopped.extend(kafka_broker.stop(settings))
    for leftover in processes.all_recorded(settings.state):
        if processes.stop(settings.state, leftover.name):
            stopped.append(leftover.name)
    echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return stopped
