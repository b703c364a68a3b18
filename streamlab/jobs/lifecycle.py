"""A job's life on the session cluster: find it, savepoint it, stop or cancel it, restore it.

The operations the DAGs and the CLI share. Each waits for Flink to finish what it asked (with
a timeout) and returns what an operator wants to know: where the savepoint is, how big it is,
how long it took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from streamlab import lessons
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.jobs import deploy, joblock, releases
from streamlab.runtime import flink_cluster
from streamlab.runtime.flink_rest import FlinkRest


@dataclass(frozen=True)
class Savepoint:
    job: str  # the lesson's key (streamlab.lessons)
    job_id: str
    path: Path
    size_bytes: int
    duration_s: float
    trigger: str  # "savepoint" or "stop"
    release: str = ""  # the release (fingerprint) whose state it holds: a rollback's target


def rest(settings: Settings) -> FlinkRest:
    return FlinkRest(settings.flink_rest_url)


def running_job_id(settings: Settings, key: str) -> str:
    """The id of the job's live run, or a one-line error saying how to start it."""
    job = rest(settings).running_job(lessons.get(key).name)
    if job is None:
        raise UserError(f"job {key} is not running: start it with `streamlab deploy {key}`")
    return job["jid"]


def savepoint_dir(settings: Settings, key: str) -> Path:
    return flink_cluster.flink_dir(settings) / "savepoints" / key


def savepoint(settings: Settings, key: str, timeout_s: float = 300.0) -> Savepoint:
    """Take a canonical savepoint of the running job; it keeps running."""
    with joblock.held(settings, key, "savepoint"):
        job_id = running_job_id(settings, key)
        target = savepoint_dir(settings, key)
        started = time.monotonic()
        trigger_id = rest(settings).trigger_savepoint(job_id, target.as_uri())
        return _completed(settings, key, job_id, trigger_id, started, timeout_s, "savepoint")


def stop_with_savepoint(settings: Settings, key: str, timeout_s: float = 300.0) -> Savepoint:
    """Stop the job after a final canonical savepoint (its state at the stop, for an upgrade)."""
    with joblock.held(settings, key, "stop"):
        job_id = running_job_id(settings, key)
        target = savepoint_dir(settings, key)
        started = time.monotonic()
        trigger_id = rest(settings).stop_with_savepoint(job_id, target.as_uri())
        result = _completed(settings, key, job_id, trigger_id, started, timeout_s, "stop")
        wait_gone(settings, key, timeout_s)
        return result


def cancel(settings: Settings, key: str, timeout_s: float = 120.0) -> None:
    """Cancel the job without a savepoint (its retained checkpoints stay)."""
    with joblock.held(settings, key, "cancel"):
        rest(settings).cancel(running_job_id(settings, key))
        wait_gone(settings, key, timeout_s)


def newest_savepoint(settings: Settings, key: str) -> Path:
    """The job's most recent savepoint in its savepoint directory."""
    found = sorted((p for p in savepoint_dir(settings, key).glob("savepoint-*") if (p / "_metadata").is_file()),
                   key=lambda p: (p / "_metadata").stat().st_mtime)
    if not found:
        raise UserError(f"no savepoint of {key} in {savepoint_dir(settings, key)}: "
                        f"take one with `streamlab savepoint {key}`")
    return found[-1]


def restore(settings: Settings, key: str, path: Path) -> str:
    """Submit the job from a savepoint or retained checkpoint; returns the new job id."""
    if not (path / "_metadata").is_file():
        raise UserError(f"{path} is not a savepoint or checkpoint (no _metadata file in it)")
    with joblock.held(settings, key, "restore"):
        if rest(settings).running_job(lessons.get(key).name) is not None:
            raise UserError(f"job {key} is running: stop it first with `streamlab stop {key}`")
        return deploy.deploy(settings, key, from_path=path)


def latest_checkpoint(settings: Settings, key: str) -> Path | None:
    """The newest retained checkpoint of the job's most recent run, for a last-state restore."""
    client = rest(settings)
    name = lessons.get(key).name
    for job in client.jobs():  # newest first
        if job["name"] != name:
            continue
        completed = (client.checkpoints(job["jid"]).get("latest") or {}).get("completed")
        if completed and completed.get("external_path"):
            path = _local_path(completed["external_path"])
            if (path / "_metadata").is_file():
                return path
    return None


def resume_point(settings: Settings, key: str) -> Path | None:
    """Where a stopped job carries on exactly: the newest of its retained checkpoints (of any
    run, also from before a cluster restart) and its savepoints. An older one would emit again
    what was committed after it."""
    checkpoints = flink_cluster.flink_dir(settings) / "checkpoints"
    candidates = [meta.parent for job_id in deploy.job_ids(settings, key)
                  for meta in (checkpoints / job_id).glob("chk-*/_metadata")]
    candidates += [meta.parent for meta in savepoint_dir(settings, key).glob("savepoint-*/_metadata")]
    return newest(candidates)


def newest(points: list[Path]) -> Path | None:
    """The checkpoint or savepoint of ``points`` whose ``_metadata`` was written last. A running
    job retires its old checkpoints as it goes: one deleted since it was listed is passed over."""
    written = []
    for point in points:
        try:
            written.append(((point / "_metadata").stat().st_mtime, point))
        except FileNotFoundError:
            continue
    return max(written)[1] if written else None


def checkpoint_history(settings: Settings, key: str) -> list[dict]:
    """The running job's recent checkpoints as Flink reports them (id, status, size, duration)."""
    return rest(settings).checkpoints(running_job_id(settings, key)).get("history", [])


def _completed(settings: Settings, key: str, job_id: str, trigger_id: str, started: float,
               timeout_s: float, trigger: str) -> Savepoint:
    client = rest(settings)
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        status = client.savepoint_status(job_id, trigger_id)
        if status["status"]["id"] == "COMPLETED":
            operation = status.get("operation", {})
            if "location" not in operation:
                cause = operation.get("failure-cause", {}).get("stack-trace", "unknown cause")
                raise UserError(f"savepoint of {key} failed: {cause.strip().splitlines()[0]}")
            path = _local_path(operation["location"])
            if not (path / "_metadata").is_file():
                raise UserError(f"savepoint of {key} reported at {path} has no _metadata file")
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            return Savepoint(key, job_id, path, size, round(time.monotonic() - started, 3), trigger,
                             deploy.fingerprint(client, job_id))
        time.sleep(0.5)
    raise UserError(f"savepoint of {key} did not complete within {timeout_s:.0f}s; see the Flink UI")


def wait_gone(settings: Settings, key: str, timeout_s: float = 120.0) -> None:
    name = lessons.get(key).name
    deadline = time.monotonic() + timeout_s
    while rest(settings).running_job(name) is not None:
        if time.monotonic() > deadline:
            raise UserError(f"job {key} still runs {timeout_s:.0f}s after it was asked to stop")
        time.sleep(0.5)


def _local_path(location: str) -> Path:
    """Flink reports ``file:/...`` URIs; the cluster shares this machine's file system."""
    parsed = urlparse(location)
    return Path(parsed.path if parsed.scheme == "file" else location)


def placement(settings: Settings, keys: list[str]) -> dict[str, list[str]]:
    """Each TaskManager's resource id with the running jobs of ``keys`` on it (an idle one too)."""
    client = rest(settings)
    placed: dict[str, list[str]] = {tm["id"]: [] for tm in client.taskmanagers()}
    for key in keys:
        job = client.running_job(lessons.get(key).name)
        for taskmanager in client.taskmanagers_of(job["jid"]) if job else ():
            placed.setdefault(taskmanager, []).append(key)
    return placed


def rebalance(settings: Settings, keys: list[str]) -> list[str]:
    """Spread the jobs over the TaskManagers again, as after a TaskManager came back empty: move
    one at a time from the busiest to the idlest (stop with a savepoint, restore the same release
    from it: exactly once, like an upgrade), until their job counts differ by one at most. Flink
    places a restored job on the TaskManager with the most free slots
    (``taskmanager.load-balance.mode: SLOTS``). Without it every job would sit on one TaskManager
    and the next kill would restart them all in a JVM that has run none. Returns the moved jobs."""
    moved: list[str] = []
    while True:
        placed = placement(settings, keys)
        busiest = max(placed, key=lambda tm: len(placed[tm]))
        idlest = min(placed, key=lambda tm: len(placed[tm]))
        movable = [key for key in placed[busiest] if key not in moved]
        if len(placed[busiest]) - len(placed[idlest]) <= 1 or not movable:
            return moved
        key = movable[0]
        with joblock.held(settings, key, "rebalance"):
            job_id = running_job_id(settings, key)
            release = releases.find(settings.state, key, lessons.get(key).script, deploy.fingerprint(rest(settings), job_id))
            if release is not None:  # a job whose release is gone stays: restoring other code is an upgrade
                point = stop_with_savepoint(settings, key)
                deploy.deploy(settings, key, from_path=point.path, code=release)
        moved.append(key)
