"""KRaft Kafka under the state dir: one node, or a quorum of up to five (each node a broker and a
controller in one JVM, as a small cluster runs them). Node 1 keeps the single-node names
(process ``kafka``, dir ``kafka/``), so a one-broker platform looks as it always did."""

from __future__ import annotations

import base64
import os
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from confluent_kafka.admin import AdminClient

from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import jars as jarlib
from streamlab.runtime import processes

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


def nodes(settings: Settings) -> list[int]:
    return list(range(1, settings.kafka_brokers + 1))


def node_name(node: int) -> str:
    return NAME if node == 1 else f"{NAME}-{node}"


def ports(settings: Settings, node: int) -> tuple[int, int]:
    """The node's client and controller ports."""
    return settings.kafka_port + 2 * (node - 1), settings.kafka_controller_port + 2 * (node - 1)


def _dir(settings: Settings, node: int = 1) -> Path:
    return settings.state / node_name(node)


def server_properties(settings: Settings, node: int = 1) -> str:
    host = settings.host
    port, controller = ports(settings, node)
    voters = ",".join(f"{n}@{host}:{ports(settings, n)[1]}" for n in nodes(settings))
    replicas, isr = settings.replication_factor, settings.min_insync_replicas
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node}",
            f"controller.quorum.voters={voters}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={_dir(settings, node) / 'data'}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            f"default.replication.factor={replicas}",
            f"offsets.topic.replication.factor={replicas}",
            f"transaction.state.log.replication.factor={replicas}",
            f"transaction.state.log.min.isr={isr}",
            f"share.coordinator.state.topic.replication.factor={replicas}",
            f"share.coordinator.state.topic.min.isr={isr}",
            "group.initial.rebalance.delay.ms=0",
            # Flink's exactly-once sink keeps transactions open up to this long.
            "transaction.max.timeout.ms=900000",
            "",
        ]
    )


def _java_argv(settings: Settings, node: int, main: str, *args: str) -> list[str]:
    kdir = _dir(settings, node)
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


def _cluster_id_of(settings: Settings) -> str:
    """One id for every node of the cluster, chosen once."""
    path = settings.state / "kafka-cluster-id"
    if not path.exists():
        path.write_text(_cluster_id(uuid.uuid4()))
    return path.read_text().strip()


def _format_storage(settings: Settings, node: int, props: Path) -> None:
    """Format the log dir once; a formatted dir keeps its cluster id across restarts."""
    data = _dir(settings, node) / "data"
    if (data / "meta.properties").exists():
        return
    result = subprocess.run(
        # "=" form: a random id may start with "-" and would otherwise read as an option.
        _java_argv(settings, node, "kafka.tools.StorageTool", "format",
                   f"--cluster-id={_cluster_id_of(settings)}", f"--config={props}"),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise UserError(f"Formatting Kafka storage failed: {result.stderr.strip()[-500:]}")


def _log(settings: Settings, node: int) -> Path:
    return settings.state / "logs" / f"{node_name(node)}.log"


def _spawn(settings: Settings, node: int) -> processes.ManagedProcess:
    port, controller = ports(settings, node)
    suffix = "" if node == 1 else f" (broker {node}: STREAMLAB_KAFKA_PORT + {2 * (node - 1)})"
    processes.require_free_port(settings.host, port, "Kafka" + suffix, "STREAMLAB_KAFKA_PORT")
    processes.require_free_port(settings.host, controller, "Kafka controller" + suffix,
                                "STREAMLAB_KAFKA_CONTROLLER_PORT")
    kdir = _dir(settings, node)
    (kdir / "tmp").mkdir(parents=True, exist_ok=True)
    _log(settings, node).parent.mkdir(parents=True, exist_ok=True)
    (kdir / "log4j2.properties").write_text(LOG4J2.format(log=_log(settings, node)))
    props = kdir / "server.properties"
    props.write_text(server_properties(settings, node))
    _format_storage(settings, node, props)
    return processes.spawn(
        settings.state,
        node_name(node),
        _java_argv(settings, node, "kafka.Kafka", str(props)),
        os.environ,
        settings.state / "logs" / f"{node_name(node)}.out",
        cwd=kdir,
    )


def start(settings: Settings) -> list[processes.ManagedProcess]:
    """Start every node that is not running (all at once: a quorum elects when most are up)
    and wait until all of them answer as brokers."""
    running = {node: processes.running(settings.state, node_name(node)) for node in nodes(settings)}
    procs = [proc or _spawn(settings, node) for node, proc in running.items()]
    wait_ready(settings, procs)
    return procs


def wait_ready(settings: Settings, procs: list[processes.ManagedProcess]) -> None:
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    deadline = time.monotonic() + settings.startup_timeout_s
    while time.monotonic() < deadline:
        for node, proc in zip(nodes(settings), procs):
            if not proc.alive():
                raise UserError(
                    f"Kafka broker {node} exited during startup; last log lines:\n"
                    + processes.tail(_log(settings, node)) + "\n" + processes.tail(proc.log)
                )
        try:
            if len(admin.list_topics(timeout=2).brokers) == len(procs):
                return
        except Exception:  # noqa: BLE001 - not up yet; retried until the deadline
            pass
        time.sleep(0.5)
    raise UserError(
        f"Kafka not ready after {settings.startup_timeout_s:.0f}s "
        f"(raise STREAMLAB_STARTUP_TIMEOUT_S?); last log lines:\n" + processes.tail(_log(settings, 1))
    )


def kill(settings: Settings, node: int) -> None:
    """kill -9 one node (a crash: no controlled shutdown, no leadership handed over)."""
    proc = processes.running(settings.state, node_name(node))
    if proc is None:
        raise UserError(f"Kafka broker {node} is not running")
    processes.kill(proc)
    while proc.alive():
        time.sleep(0.1)


def stop(settings: Settings) -> list[str]:
    """Stop every node this platform started, all at once: one by one, the last would wait
    for a quorum that is gone."""
    names = [p.name for p in processes.all_recorded(settings.state) if p.name == NAME or p.name.startswith(NAME + "-")]
    with ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
        stopped = list(pool.map(lambda name: processes.stop(settings.state, name), names))
    return [name for name, was_running in zip(names, stopped) if was_running]
