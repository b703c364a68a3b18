"""The platform's warm Flink client (``flink_jobs/common/job_client.py``) as a process.

Every submission (deploy, upgrade, rollback, restore, drills, tests, the benchmark) goes
through it: the job's release in, a running job's id out. It answers on a Unix socket under
the state dir, readable by this user alone, because what it runs is a release's Python code.
A submitter that finds it not running starts it, so a killed client comes back by itself.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import flink_cluster, processes

NAME = "flink-job-client"
# The client JVM plans one job at a time; its heap holds a planner, not data.
JVM_ARGS = "-Xmx512m -XX:+UseSerialGC"
SOCKET_PATH_MAX = 107  # sun_path's size on Linux, less its terminating NUL
# The server's script, found without importing it (it imports PyFlink, which no caller needs).
SERVER = importlib.util.find_spec("flink_jobs.common.job_client").origin


def socket_path(settings: Settings) -> Path:
    return flink_cluster.flink_dir(settings) / "job-client.sock"


@dataclass(frozen=True)
class Job:
    """What the client needs of a job: its release (or checkout) and its arguments."""
    root: Path
    script: Path
    name: str
    argv: list[str]


def start(settings: Settings, warm_up: Sequence[Job] = (), wait: bool = True) -> processes.ManagedProcess:
    """Start the client unless it runs, planning the ``warm_up`` jobs first (for at most
    ``job_client.WARM_UP_S`` of the server's), and wait until it answers unless told not to (one starter at a time:
    Airflow runs two submissions at once)."""
    path = socket_path(settings)
    if len(str(path)) > SOCKET_PATH_MAX:
        raise UserError(f"the job client's socket path {path} is longer than {SOCKET_PATH_MAX} characters: "
                        "choose a shorter STREAMLAB_STATE_DIR")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        existing = processes.running(settings.state, NAME)
        if existing is not None and path.exists():
            return existing
        proc = existing  # still warming up: its socket comes when it is done
        if proc is None:
            path.unlink(missing_ok=True)  # a killed client's: the new one binds afresh
            warm_up_file = path.with_suffix(".warm-up.json")
            warm_up_file.write_text(json.dumps([_request(settings, job, {}) for job in warm_up]))
            proc = processes.spawn(
                settings.state, NAME, [sys.executable, "-P", SERVER, str(path), str(warm_up_file)],
                flink_cluster.flink_env(settings) | {"JVM_ARGS": JVM_ARGS},
                _log(settings), cwd=flink_cluster.flink_dir(settings),
            )
        if not wait:
            return proc
        return processes.wait_started(proc, path.exists, settings.startup_timeout_s, "the Flink job client")


def _log(settings: Settings) -> Path:
    return settings.state / "logs" / f"{NAME}.log"


def stop(settings: Settings) -> bool:
    return processes.stop(settings.state, NAME)


def _connect(settings: Settings, timeout_s: float) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(timeout_s)
    try:
        conn.connect(str(socket_path(settings)))
    except OSError:
        conn.close()
        raise
    return conn


def _connected(settings: Settings, timeout_s: float) -> socket.socket:
    """A connection to the client, started first if it does not run. One that died since it
    was last seen (nothing was sent to it yet) is started again, once."""
    start(settings)
    try:
        return _connect(settings, timeout_s)
    except (ConnectionRefusedError, FileNotFoundError):
        processes.stop(settings.state, NAME)
        start(settings)
    try:
        return _connect(settings, timeout_s)
    except OSError as exc:
        raise UserError(f"the Flink job client does not answer ({exc}): see {_log(settings)}") from None


def _request(settings: Settings, job: Job, options: dict[str, str]) -> dict:
    rest = urlparse(settings.flink_rest_url)
    return {"root": str(job.root), "script": str(job.script), "name": job.name, "argv": job.argv,
            "options": {"execution.target": "remote", "rest.address": rest.hostname or settings.host,
                        "rest.port": str(rest.port), **options}}


def submit(settings: Settings, job: Job, options: dict[str, str], timeout_s: float) -> str:
    """Plan and submit ``job`` (``runner.run``'s work) with Flink ``options`` over the cluster's;
    the Flink job id, or a UserError with the root cause."""
    name = job.name
    request = _request(settings, job, options)
    with _connected(settings, timeout_s) as conn:
        try:
            conn.sendall(json.dumps(request).encode() + b"\n")
            line = conn.makefile().readline()
        except TimeoutError:
            raise UserError(f"submitting {name} took over {timeout_s:.0f}s: see {_log(settings)}") from None
        except OSError as exc:
            raise UserError(f"the Flink job client did not answer ({exc}): run `streamlab up`") from None
    if not line:
        raise UserError(f"the Flink job client exited while submitting {name}: see {_log(settings)}")
    answer = json.loads(line)
    if "error" in answer:
        raise UserError(f"submitting {name} failed: {answer['error']}")
    return answer["job_id"]
