"""Submit the project's PyFlink jobs to the session cluster with `flink run -py`."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from streamlab import flink_cluster
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.flink_rest import FlinkRest

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class JobSpec:
    key: str
    name: str  # the Flink job name (pipeline.name)
    script: Path
    summary: str
    inputs: tuple[str, ...]  # the topics it consumes (its consumer group commits offsets on them)


JOBS = {
    spec.key: spec
    for spec in [
        JobSpec(
            "lesson14",
            "streamlab-lesson14",
            REPO_ROOT / "flink_jobs" / "lesson14_stateless" / "job.py",
            "stateless topology: filter, map, flatMap, branch, dead letter",
            ("clicks", "orders"),
        ),
        JobSpec(
            "lesson15-windows",
            "streamlab-lesson15-windows",
            REPO_ROOT / "flink_jobs" / "lesson15_windows" / "job.py",
            "tumbling, hopping and session windows with late data",
            ("clicks", "orders"),
        ),
        JobSpec(
            "lesson15-joins",
            "streamlab-lesson15-joins",
            REPO_ROOT / "flink_jobs" / "lesson15_joins" / "job.py",
            "interval join (paid / unpaid orders), temporal joins with customers and products",
            ("orders", "payments", "customers", "products"),
        ),
        JobSpec(
            "lesson15-aggregations",
            "streamlab-lesson15-aggregations",
            REPO_ROOT / "flink_jobs" / "lesson15_aggregations" / "job.py",
            "statistics, a top-3 UDAF and a CUBE over category x region x tier in windows",
            ("orders", "customers"),
        ),
        JobSpec(
            "lesson15-trading-periods",
            "streamlab-lesson15-trading-periods",
            REPO_ROOT / "flink_jobs" / "lesson15_trading_periods" / "job.py",
            "custom window: revenue per category and trading period of the store",
            ("orders",),
        ),
        JobSpec(
            "lesson15-alerts",
            "streamlab-lesson15-alerts",
            REPO_ROOT / "flink_jobs" / "lesson15_alerts" / "job.py",
            "fraud alerts: two countries, rapid payments (MATCH_RECOGNIZE), amount spikes",
            ("payments",),
        ),
    ]
}


def job_spec(key: str) -> JobSpec:
    if key not in JOBS:
        raise UserError(f"unknown job '{key}': choose one of {', '.join(JOBS)}")
    return JOBS[key]


def deploy(settings: Settings, key: str, timeout_s: float = 180.0, from_path: Path | None = None) -> str:
    """Submit the job unless it already runs (from a savepoint or retained checkpoint when
    ``from_path`` is given); return its Flink job id once it is RUNNING."""
    spec = job_spec(key)
    rest = FlinkRest(settings.flink_rest_url)
    try:
        running = rest.running_job(spec.name)
    except Exception:  # noqa: BLE001 - any connection failure means the same to the user
        raise UserError(
            f"no Flink cluster answers at {settings.flink_rest_url}: run `streamlab up` first"
        ) from None
    if running is None:
        argv = [
            str(flink_cluster.FLINK_HOME / "bin" / "flink"), "run", "-d",
            *(["-s", str(from_path)] if from_path else []),
            "-py", str(spec.script),
            "-pyclientexec", sys.executable,
            "-pyexec", sys.executable,
            "--bootstrap-servers", settings.bootstrap_servers,
        ]
        result = subprocess.run(
            argv, env=flink_cluster.flink_env(settings), cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=timeout_s,
        )
        if result.returncode != 0:
            raise UserError(f"`flink run` failed for {key}: {_root_cause(result.stdout + result.stderr)}")
    return wait_running(rest, spec.name, timeout_s)


def _root_cause(output: str) -> str:
    """The most specific exception message in a Java/Python stack trace dump."""
    causes = [
        line.strip() for line in output.splitlines()
        if ("Exception: " in line or "Error: " in line) and not line.lstrip().startswith("at ")
        and "Python process exits" not in line and "ProgramAbortException" not in line
    ]
    return causes[-1] if causes else "\n".join(output.splitlines()[-20:])


def wait_running(rest: FlinkRest, name: str, timeout_s: float) -> str:
    """Wait until the job and all of its tasks run (sources are then reading)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = rest.running_job(name)
        if job is not None and job["state"] == "RUNNING":
            detail = rest.job(job["jid"])
            if all(v["status"] == "RUNNING" for v in detail["vertices"]):
                return job["jid"]
        time.sleep(0.5)
    raise UserError(f"job {name} did not reach RUNNING within {timeout_s:.0f}s; see the Flink UI")
