"""`up` and `down` for the whole platform, in dependency order, with progress lines."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka.admin import AdminClient

from streamlab import flink_cluster, jars, kafka_broker, processes, topics
from streamlab.config import Settings

Echo = Callable[[str], None]


def _step(echo: Echo, what: str, action: Callable[[], object]) -> object:
    started = time.monotonic()
    echo(f"-> {what} ...")
    result = action()
    echo(f"   ok ({time.monotonic() - started:.1f}s)")
    return result


def up(settings: Settings, echo: Echo = print) -> None:
    """Start whatever is not running yet; safe to run again at any time."""
    settings.state.mkdir(parents=True, exist_ok=True)
    _step(echo, "resolving jars", lambda: jars.ensure_jars(settings.jars, quiet=True))
    _step(echo, f"Kafka broker on {settings.bootstrap_servers}", lambda: kafka_broker.start(settings))
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    _step(echo, f"topics ({len(topics.CATALOG)} in the catalog)", lambda: topics.apply(admin))
    _step(echo, f"Flink cluster on {settings.flink_rest_url}", lambda: flink_cluster.start(settings))


def down(settings: Settings, echo: Echo = print) -> list[str]:
    """Stop exactly what `up` started (recorded pids), Flink first, then Kafka."""
    stopped = flink_cluster.stop(settings)
    if kafka_broker.stop(settings):
        stopped.append(kafka_broker.NAME)
    for leftover in processes.all_recorded(settings.state):
        if processes.stop(settings.state, leftover.name):
            stopped.append(leftover.name)
    echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return stopped
