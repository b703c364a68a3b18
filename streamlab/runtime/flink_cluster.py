"""A standalone Flink session cluster run from the apache-flink pip package's distribution.

The distribution is used read-only: the cluster gets its own conf dir, a lib dir of links
(the distribution's jars plus the Kafka connector), and its own log, pid and tmp dirs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pyflink

from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import jars as jarlib
from streamlab.runtime import processes
from streamlab.runtime.flink_rest import FlinkRest

JOBMANAGER = "flink-jobmanager"
TASKMANAGER = "flink-taskmanager"
FLINK_HOME = Path(pyflink.__file__).resolve().parent


def flink_dir(settings: Settings) -> Path:
    return settings.state / "flink"


# --8<-- [start:flink_config]
def flink_config(settings: Settings) -> dict[str, object]:
    fdir = flink_dir(settings)
    host = settings.host
    return {
        "jobmanager.rpc.address": host,
        "jobmanager.bind-host": host,
        "jobmanager.rpc.port": settings.flink_rpc_port,
        "jobmanager.memory.process.size": settings.flink_jobmanager_memory,
        "jobmanager.execution.failover-strategy": "region",
        "taskmanager.host": host,
        "taskmanager.bind-host": host,
        "taskmanager.numberOfTaskSlots": settings.flink_taskmanager_slots,
        "taskmanager.memory.process.size": settings.flink_taskmanager_memory,
        # Every submitted job's generated code loads into metaspace and is not all freed: the
        # benchmark's 21st PyFlink submission on one TaskManager died of the default 256 MB.
        "taskmanager.memory.jvm-metaspace.size": "768m",
        "parallelism.default": 1,
        "rest.address": host,
        "rest.bind-address": host,
        "rest.port": settings.flink_rest_port,
        # Flame graphs in the web UI (a job vertex's "Flame Graph" tab): sampled only when asked.
        "rest.flamegraph.enabled": True,
        "rest.flamegraph.refresh-interval": "10s",
        "state.backend.type": "rocksdb",
        # Timers (windows, joins, the trading-period window) in a heap queue instead of RocksDB:
        # every timer registered or fired would otherwise be a RocksDB write and a seek.
        "state.backend.rocksdb.timer-service.factory": "HEAP",
        # --8<-- [start:checkpointing]
        "execution.checkpointing.incremental": True,
        "execution.checkpointing.dir": (fdir / "checkpoints").as_uri(),
        "execution.checkpointing.savepoint-dir": (fdir / "savepoints").as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": 3,
        "execution.checkpointing.interval": f"{settings.checkpoint_interval_ms}ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.unaligned.enabled": True,
        # --8<-- [end:checkpointing]
        # --8<-- [start:local_recovery]
        # Task-local recovery: each checkpoint also stays on the TaskManager's disk, so a job
        # restarting on a TaskManager that survived (a task or Kafka failure) reads its state
        # locally instead of from checkpoint storage.
        "execution.checkpointing.local-backup.enabled": True,
        "execution.state-recovery.from-local": True,
        "taskmanager.state.local.root-dirs": str(fdir / "local-state"),
        # --8<-- [end:local_recovery]
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": "1s",
        "restart-strategy.exponential-delay.max-backoff": "10s",
        # A killed TaskManager is noticed through failed heartbeat RPCs: two in a row
        # (heartbeat.rpc-failure-threshold) at this interval. Only an RPC that fails counts, not
        # a slow answer (that is heartbeat.timeout's), so a busy TaskManager raises no false alarm.
        "heartbeat.interval": "1s",
        "heartbeat.timeout": "20s",
        # Jobs spread over the TaskManagers instead of filling the first: a kill -9 restarts
        # only the jobs of one, in another that already runs jobs like them (its JVM has loaded
        # RocksDB and the connector), while the rest go on untouched.
        "taskmanager.load-balance.mode": "SLOTS",
        "io.tmp.dirs": str(fdir / "tmp"),
        # The REST API has no authentication: jobs are submitted by the job client (a JobGraph),
        # never as jars uploaded through the web UI, which would run any code sent to it.
        "web.submit.enable": False,
        "web.tmpdir": str(fdir / "web-tmp"),
        "web.upload.dir": str(fdir / "web-upload"),
        "env.pid.dir": str(fdir / "pids"),
        "env.log.dir": str(settings.state / "logs"),
        "env.java.opts.all": _java_opts(),
        # The JobManager coordinates (RPC, scheduling, checkpoints, REST), which code compiled by
        # C1 alone serves well; its C2 compiler spent 3.5 s of CPU in a 48 s all-jobs drain on two
        # cores, time the TaskManager's tasks were waiting for.
        "env.java.opts.jobmanager": "-XX:TieredStopAtLevel=1",
        "python.client.executable": sys.executable,
        "python.executable": sys.executable,
    }
# --8<-- [end:flink_config]


def _java_opts() -> str:
    """The distribution's JVM flags for Java 17 (module opens), kept as shipped."""
    shipped = (FLINK_HOME / "conf" / "config.yaml").read_text()
    for line in shipped.splitlines():
        if line.strip().startswith("all:") and "--add-" in line:
            return line.split("all:", 1)[1].strip()
    return ""


def flink_env(settings: Settings) -> dict[str, str]:
    """Environment for the distribution's scripts (cluster and `flink` CLI) to use our dirs."""
    fdir = flink_dir(settings)
    env = dict(os.environ)
    env.update(
        FLINK_HOME=str(FLINK_HOME),
        FLINK_CONF_DIR=str(fdir / "conf"),
        FLINK_LIB_DIR=str(fdir / "lib"),
        FLINK_LOG_DIR=str(settings.state / "logs"),
        FLINK_PID_DIR=str(fdir / "pids"),
    )
    return env


def write_layout(settings: Settings) -> None:
    fdir = flink_dir(settings)
    for sub in ("conf", "lib", "tmp", "web-tmp", "web-upload", "pids", "checkpoints", "savepoints"):
        (fdir / sub).mkdir(parents=True, exist_ok=True)
    (settings.state / "logs").mkdir(parents=True, exist_ok=True)
    conf = fdir / "conf"
    # JSON is YAML: Flink reads the flat keys as they are.
    (conf / "config.yaml").write_text(json.dumps(flink_config(settings), indent=2) + "\n")
    for name in ("log4j.properties", "log4j-console.properties", "log4j-cli.properties"):
        (conf / name).write_text((FLINK_HOME / "conf" / name).read_text())
    lib = fdir / "lib"
    for link in lib.iterdir():
        link.unlink()
    connector = jarlib.flink_connector_jars(settings.jars)
    if not connector:
        raise UserError(f"Flink Kafka connector jar missing under {settings.jars}: run `streamlab setup`")
    for jar in [*sorted((FLINK_HOME / "lib").glob("*.jar")), *connector]:
        (lib / jar.name).symlink_to(jar)


def taskmanagers(settings: Settings) -> list[str]:
    """The TaskManagers' process names: the first keeps the one-TaskManager name."""
    return [TASKMANAGER] + [f"{TASKMANAGER}-{i}" for i in range(2, settings.flink_taskmanagers + 1)]


def _start_daemon(settings: Settings, name: str, script: str, *args: str) -> processes.ManagedProcess:
    existing = processes.running(settings.state, name)
    if existing is not None:
        return existing
    return processes.spawn(
        settings.state,
        name,
        ["bash", str(FLINK_HOME / "bin" / script), "start-foreground", *args],
        flink_env(settings),
        settings.state / "logs" / f"{name}.out",
        cwd=flink_dir(settings),
    )


def _start_taskmanager(settings: Settings, name: str) -> processes.ManagedProcess:
    # The resource id names the process, so a job's TaskManager can be told from the others
    # (a restarted one gets a new id: the JobManager must not take it for the dead one).
    return _start_daemon(settings, name, "taskmanager.sh", f"-Dtaskmanager.resource-id={name}_{time.time_ns()}")


def start(settings: Settings) -> None:
    """Start the JobManager and the TaskManagers (each only if not running) and wait for slots."""
    jarlib.require_java()
    if processes.running(settings.state, JOBMANAGER) is None:
        processes.require_free_port(
            settings.host, settings.flink_rest_port, "Flink REST", "STREAMLAB_FLINK_REST_PORT"
        )
        processes.require_free_port(
            settings.host, settings.flink_rpc_port, "Flink RPC", "STREAMLAB_FLINK_RPC_PORT"
        )
        write_layout(settings)
    _start_daemon(settings, JOBMANAGER, "jobmanager.sh")
    for name in taskmanagers(settings):
        _start_taskmanager(settings, name)
    wait_ready(settings)


def wait_ready(settings: Settings) -> None:
    rest = FlinkRest(settings.flink_rest_url, retries=0)  # this loop is the retry
    deadline = time.monotonic() + settings.startup_timeout_s
    while time.monotonic() < deadline:
        for name in (JOBMANAGER, *taskmanagers(settings)):
            if processes.running(settings.state, name) is None:
                proc = processes.recorded(settings.state, name)
                raise UserError(
                    f"Flink {name} exited during startup; last log lines:\n"
                    + (processes.tail(proc.log) if proc else "")
                )
        try:
            overview = rest.overview()
            if overview["taskmanagers"] >= settings.flink_taskmanagers and overview["slots-total"] > 0:
                return
        except Exception:  # noqa: BLE001 - not up yet; retried until the deadline
            pass
        time.sleep(0.5)
    raise UserError(
        f"Flink cluster not ready after {settings.startup_timeout_s:.0f}s; see logs in "
        f"{settings.state / 'logs'}"
    )


def restart_taskmanagers(settings: Settings) -> None:
    """Bring back TaskManagers that died (standalone mode has no resource manager to do it)."""
    for name in taskmanagers(settings):
        _start_taskmanager(settings, name)
    wait_ready(settings)


def stop(settings: Settings) -> list[str]:
    """Every TaskManager this platform started (also beyond the configured number), then the JobManager."""
    names = [p.name for p in processes.all_recorded(settings.state) if p.name.startswith(TASKMANAGER)]
    return [name for name in [*names, JOBMANAGER] if processes.stop(settings.state, name)]
