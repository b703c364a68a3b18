"""A single-node KRaft Kafka broker (broker and controller in one JVM) under the state dir."""

from __future__ import annotations

import os
import subprocess
import base64
import time
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from streamlab import jars as jarlib
from streamlab import processes
from streamlab.config import Settings
from streamlab.errors import UserError

NAME = "kafka"

LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.controller.name = org.apache.kafka
logger.controller.level = WARN
"""


def _dir(settings: Settings) -> Path:
    return settings.state / "kafka"


def server_properties(settings: Settings) -> str:
    host = settings.host
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{host}:{settings.kafka_controller_port}",
            f"listeners=PLAINTEXT://{host}:{settings.kafka_port},"
            f"CONTROLLER://{host}:{settings.kafka_controller_port}",
            f"advertised.listeners=PLAINTEXT://{host}:{settings.kafka_port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={_dir(settings) / 'data'}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            # Flink's exactly-once sink keeps transactions open up to this long.
            "transaction.max.timeout.ms=900000",
            "",
        ]
    )


def _java_argv(settings: Settings, main: str, *args: str) -> list[str]:
    kdir = _dir(settings)
    return [
        jarlib.require_java(),
        f"-Xmx{settings.kafka_heap}",
        f"-Xms{settings.kafka_heap}",
        "-XX:+UseG1GC",
        f"-Djava.io.tmpdir={kdir / 'tmp'}",
        f"-Dlog4j2.configurationFile={kdir / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={settings.state / 'logs'}",
        "-cp",
        jarlib.kafka_classpath(settings.jars),
        main,
        *args,
    ]


def _cluster_id(value: uuid.UUID) -> str:
    """A KRaft cluster id: the UUID in URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def _format_storage(settings: Settings, props: Path) -> None:
    """Format the log dir once; a formatted dir keeps its cluster id across restarts."""
    data = _dir(settings) / "data"
    if (data / "meta.properties").exists():
        return
    cluster_id = _cluster_id(uuid.uuid4())
    result = subprocess.run(
        # "=" form: a random id may start with "-" and would otherwise read as an option.
        _java_argv(settings, "kafka.tools.StorageTool", "format",
                   f"--cluster-id={cluster_id}", f"--config={props}"),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise UserError(f"Formatting Kafka storage failed: {result.stderr.strip()[-500:]}")


def start(settings: Settings) -> processes.ManagedProcess:
    """Start the broker unless it already runs; wait until it answers metadata requests."""
    existing = processes.running(settings.state, NAME)
    if existing is not None:
        return existing
    processes.require_free_port(settings.host, settings.kafka_port, "Kafka", "STREAMLAB_KAFKA_PORT")
    processes.require_free_port(
        settings.host, settings.kafka_controller_port, "Kafka controller",
        "STREAMLAB_KAFKA_CONTROLLER_PORT",
    )
    kdir = _dir(settings)
    (kdir / "tmp").mkdir(parents=True, exist_ok=True)
    log = settings.state / "logs" / "kafka.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    (kdir / "log4j2.properties").write_text(LOG4J2.format(log=log))
    props = kdir / "server.properties"
    props.write_text(server_properties(settings))
    _format_storage(settings, props)
    proc = processes.spawn(
        settings.state,
        NAME,
        _java_argv(settings, "kafka.Kafka", str(props)),
        os.environ,
        settings.state / "logs" / "kafka.out",
        cwd=kdir,
    )
    wait_ready(settings, proc)
    return proc


def wait_ready(settings: Settings, proc: processes.ManagedProcess) -> None:
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    deadline = time.monotonic() + settings.startup_timeout_s
    while time.monotonic() < deadline:
        if not proc.alive():
            raise UserError(
                "Kafka broker exited during startup; last log lines:\n"
                + processes.tail(settings.state / "logs" / "kafka.log")
                + "\n"
                + processes.tail(proc.log)
            )
        try:
            metadata = admin.list_topics(timeout=2)
            if metadata.brokers:
                return
        except Exception:  # noqa: BLE001 - not up yet; retried until the deadline
            pass
        time.sleep(0.5)
    raise UserError(
        f"Kafka broker not ready after {settings.startup_timeout_s:.0f}s "
        f"(raise STREAMLAB_STARTUP_TIMEOUT_S?); last log lines:\n"
        + processes.tail(settings.state / "logs" / "kafka.log")
    )


def stop(settings: Settings) -> bool:
    return processes.stop(settings.state, NAME)
