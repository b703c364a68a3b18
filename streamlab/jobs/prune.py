"""Bounded disk: what no restore, rollback or reader can need any more, and its removal.

Savepoints have their own catalogue and retention (``ops.enforce_retention``). Three more things
grow with every deploy and every crash, and nothing else removes them:

- **checkpoints of old job ids**: each run of a job checkpoints under its own Flink job id and
  keeps its last checkpoints when it is cancelled. A job restored from one takes a full
  checkpoint of its own first (Flink's default NO_CLAIM restore), so once a newer run of the job
  has a completed checkpoint, an older run's directory is referenced by nothing;
- **old releases**: every code change freezes a new copy of the job's code;
- **staging files**: a copy of the warehouse being published, or a release being built, whose
  writer died before the rename.

Kept, per job: every run Flink still has active, the newest run with a completed checkpoint (a
last-state restore's source) and the run holding the job's resume point; the releases that run
plus the ``keep_releases`` newest. The choices are pure functions of what is on disk and what
runs, so the tests state them exactly.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import psutil

from streamlab import lessons, warehouse
from streamlab.config import Settings
from streamlab.jobs import deploy, joblock, lifecycle, releases
from streamlab.runtime import flink_cluster
from streamlab.runtime.flink_rest import ACTIVE_STATES, FlinkRest

KEEP_RELEASES = 3  # per job, besides the ones running: the rollback targets of recent upgrades
PARTIAL_AGE_S = 3600.0  # a release still being built after this long was abandoned


def stale_checkpoints(checkpoints: Path, runs: Iterable[str], active: set[str], resume_point: Path | None) -> list[Path]:
    """The checkpoint directories of a job's runs (``runs``: its job ids, oldest first) that no
    restore can use any more."""
    runs = list(runs)
    completed = [job_id for job_id in runs if any((checkpoints / job_id).glob("chk-*/_metadata"))]
    keep = set(active) | set(completed[-1:])
    if resume_point is not None and resume_point.parent.parent == checkpoints:
        keep.add(resume_point.parent.name)
    return [checkpoints / job_id for job_id in dict.fromkeys(runs)
            if job_id not in keep and (checkpoints / job_id).is_dir()]


def stale_releases(root: Path, running: set[str], keep: int = KEEP_RELEASES, now: float | None = None) -> list[Path]:
    """A job's releases beyond the ``keep`` newest that no run of it uses, and builds abandoned
    half-way."""
    if not root.is_dir():
        return []
    now = now or time.time()
    built = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    partial = [p for p in root.glob(".*.partial") if now - p.stat().st_mtime > PARTIAL_AGE_S]
    return [p for p in built[keep:] if p.name not in running] + partial


def stale_staging(directory: Path) -> list[Path]:
    """Warehouse copies a publisher left when it died (named by its pid) before its rename."""
    return [p for p in directory.glob(".streamlab.duckdb.*")
            if not p.name.rsplit(".", 1)[-1].isdigit() or not psutil.pid_exists(int(p.name.rsplit(".", 1)[-1]))]


def _active_runs(settings: Settings) -> Mapping[str, list[dict]]:
    rest = FlinkRest(settings.flink_rest_url)
    by_name: dict[str, list[dict]] = {}
    for job in rest.jobs():
        if job["state"] in ACTIVE_STATES:
            by_name.setdefault(job["name"], []).append(job)
    return by_name


def _stale_of_job(settings: Settings, key: str, runs: list[dict]) -> list[Path]:
    rest = FlinkRest(settings.flink_rest_url)
    checkpoints = flink_cluster.flink_dir(settings) / "checkpoints"
    return (stale_checkpoints(checkpoints, deploy.job_ids(settings, key), {job["jid"] for job in runs},
                              lifecycle.resume_point(settings, key))
            + stale_releases(releases.releases_dir(settings.state, key),
                             {deploy.fingerprint(rest, job["jid"]) for job in runs}))


def prune(settings: Settings, dry_run: bool = False) -> list[Path]:
    """Remove what no restore, rollback or reader can need (or with ``dry_run`` only list it);
    returns the paths. Each job's part holds the job's lock, so no deploy or restore is choosing
    its state from the same directories meanwhile. Flink must answer: what runs decides."""
    gone: list[Path] = []
    for key, spec in lessons.BY_KEY.items():
        with joblock.held(settings, key, "prune"):  # what runs is read under it: no deploy starts meanwhile
            found = _stale_of_job(settings, key, _active_runs(settings).get(spec.name, []))
            if not dry_run:
                _remove(found)
        gone += found
    staging = stale_staging(warehouse.directory(settings))
    if not dry_run:
        _remove(staging)
    return gone + staging


def _remove(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
