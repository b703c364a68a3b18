"""`up` and `down` for the whole platform, in dependency order, with progress lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka.admin import AdminClient

from streamlab import airflow_service, flink_cluster, jars, kafka_broker, processes, topics
from streamlab.config import Settings
from streamlab.dashboard import service as dashboard

Echo = Callable[[str], None]


def _step(echo: Echo, what: str, action: Callable[[], object]) -> object:
    started = time.monotonic()
    echo(f"-> {what} ...")
    result = action()
    echo(f"   ok ({time.monotonic() - started:.1f}s)")
    return result


def isolated(state_dir: Path, jars_dir: Path, airflow: bool = False, dashboard: bool = False) -> Settings:
    """Settings for a platform of its own on ports free right now (tests, benchmarks), without
    Airflow's four processes or the dashboard unless asked for."""
    kafka, controller, rest, rpc, api, page = processes.free_ports(6)
    return Settings(state_dir=state_dir, jars_dir=jars_dir, kafka_port=kafka, kafka_controller_port=controller,
                    flink_rest_port=rest, flink_rpc_port=rpc, airflow=airflow, airflow_port=api,
                    dashboard=dashboard, dashboard_port=page)


def up(settings: Settings, echo: Echo = print) -> None:
    """Start whatever is not running yet; safe to run again at any time."""
    settings.state.mkdir(parents=True, exist_ok=True)
    _step(echo, "resolving jars", lambda: jars.ensure_jars(settings.jars, quiet=True))
    _step(echo, f"Kafka broker on {settings.bootstrap_servers}", lambda: kafka_broker.start(settings))
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    _step(echo, f"topics ({len(topics.CATALOG)} in the catalog)", lambda: topics.apply(admin))
    _step(echo, f"Flink cluster on {settings.flink_rest_url}", lambda: flink_cluster.start(settings))
    if settings.airflow:
        _step(echo, f"Airflow on {settings.airflow_url}", lambda: airflow_service.start(settings))
    if settings.dashboard:
        _step(echo, f"dashboard on {settings.dashboard_url}", lambda: dashboard.start(settings))


def down(settings: Settings, echo: Echo = print) -> list[str]:
    """Stop exactly what `up` started (recorded pids): the dashboard and Airflow first (they
    read from and drive the rest), then Flink, then Kafka."""
    stopped = [dashboard.NAME] if dashboard.stop(settings) else []
    stopped.extend(airflow_service.stop(settings))
    stopped.extend(flink_cluster.stop(settings))
    if kafka_broker.stop(settings):
        stopped.append(kafka_broker.NAME)
    for leftover in processes.all_recorded(settings.state):
        if processes.stop(settings.state, leftover.name):
            stopped.append(leftover.name)
    echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return stopped
