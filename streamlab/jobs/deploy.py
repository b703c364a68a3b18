"""Submit the lessons' PyFlink jobs (``streamlab.lessons``) to the session cluster through the
platform's warm Flink client (``streamlab.runtime.job_client``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from streamlab import lessons
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.jobs import releases
from streamlab.runtime import flink_cluster, job_client
from streamlab.runtime.flink_rest import FlinkRest


def job_args(settings: Settings) -> list[str]:
    return ["--bootstrap-servers", settings.bootstrap_servers]


def warm_up_jobs(settings: Settings) -> list[job_client.Job]:
    """Every lesson's job as the checkout has it, for the job client to plan once as it starts."""
    argv = [*job_args(settings), "--fingerprint", "warm-up"]
    return [job_client.Job(settings.code, spec.script, spec.name, argv) for spec in lessons.ALL]


def release(settings: Settings, key: str) -> releases.Release:
    """The job's code as it is now in the checkout, frozen (see streamlab.jobs.releases)."""
    spec = lessons.get(key)
    return releases.build(settings.state, key, settings.code, spec.script, job_args(settings))


# The job client plans one job at a time (see its docstring); two submissions at once overlap
# one job's planning with the other's start on the cluster (wait_started).
SUBMITS_AT_ONCE = 2
T = TypeVar("T")


def for_each_job(keys: Iterable[str], submit: Callable[[str], T]) -> dict[str, T]:
    """``submit(key)`` for every job, ``SUBMITS_AT_ONCE`` at a time; the results by key, in order."""
    keys = list(keys)
    with ThreadPoolExecutor(SUBMITS_AT_ONCE) as pool:
        return dict(zip(keys, pool.map(submit, keys)))


def deploy_all(settings: Settings, keys: Iterable[str]) -> dict[str, str]:
    """``deploy`` each job, a few at a time; their Flink job ids by key."""
    return for_each_job(keys, lambda key: deploy(settings, key))


def deploy(settings: Settings, key: str, timeout_s: float = 180.0, from_path: Path | None = None,
           code: releases.Release | None = None, options: dict[str, str] | None = None) -> str:
    """Submit the job unless it already runs — the checkout's code unless ``code`` names a
    release, from a savepoint or retained checkpoint when ``from_path`` is given, with Flink
    ``options`` over the cluster's for this job alone — and return its Flink job id once it runs."""
    spec = lessons.get(key)
    rest = FlinkRest(settings.flink_rest_url)
    try:
        running = rest.running_job(spec.name)
    except Exception:  # noqa: BLE001 - any connection failure means the same to the user
        raise UserError(
            f"no Flink cluster answers at {settings.flink_rest_url}: run `streamlab up` first"
        ) from None
    if running is not None:
        return wait_running(rest, spec.name, timeout_s)
    code = code or release(settings, key)
    argv = [*job_args(settings), "--fingerprint", code.fingerprint]
    if from_path:
        options = {"execution.state-recovery.path": str(from_path), **(options or {})}
    job_id = job_client.submit(settings, job_client.Job(code.root, code.script, spec.name, argv), options or {}, timeout_s)
    _record_job_id(settings, key, job_id)
    return wait_started(rest, job_id, timeout_s)


def _job_ids_file(settings: Settings, key: str) -> Path:
    return flink_cluster.flink_dir(settings) / "job-ids" / key


def _record_job_id(settings: Settings, key: str, job_id: str) -> None:
    """Checkpoints live under the Flink job id; after a cluster restart only this list says
    which ids were this job's."""
    path = _job_ids_file(settings, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(job_id + "\n")


def job_ids(settings: Settings, key: str) -> list[str]:
    """Every Flink job id this job ran under on this platform, oldest first."""
    path = _job_ids_file(settings, key)
    return path.read_text().split() if path.exists() else []


def fingerprint(rest: FlinkRest, job_id: str) -> str:
    """The release a running job was deployed from ('' when deployed some other way)."""
    user_config = rest.job_config(job_id).get("execution-config", {}).get("user-config", {})
    return user_config.get("streamlab.fingerprint", "")


def wait_started(rest: FlinkRest, job_id: str, timeout_s: float) -> str:
    """Wait until the submitted job runs all its tasks; a job that fails first (say its state
    does not fit the code) is an error with Flink's reason, at once rather than at the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        detail = rest.job(job_id)
        if detail["state"] in ("FAILED", "CANCELED", "FINISHED"):
            raise UserError(f"job {detail['name']} {detail['state']} on start: {rest.failure(job_id)}")
        if detail["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in detail["vertices"]):
            return job_id
        time.sleep(0.5)
    raise UserError(f"job {job_id} did not reach RUNNING within {timeout_s:.0f}s; see the Flink UI")


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
