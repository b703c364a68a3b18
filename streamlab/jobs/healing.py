"""What the job_health DAG does: find a job that is unwell, say so, and where configured roll
it back.

Unwell is a restart loop (``jobhealth``: Flink restarts it over and over, though it reads
RUNNING most of the time) or a stale checkpoint: none completed for
``STREAMLAB_HEALTH_STALE_CHECKPOINTS`` intervals, so its exactly-once output stands still.

The rollback is the Kubernetes operator's, triggered by health instead of only by a failed
upgrade: the job goes back to its last good release (the newest one with a completed savepoint
that is not the unwell one) from that release's newest savepoint. Rolled back from, a release
is not rolled out again by the deploy DAG; a fix (a new release) or `streamlab deploy` is.
Each finding is recorded once per Flink job in ``ops.health``; the dashboard raises it as an
alert and its notifier sends it to the webhook.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from streamlab import lessons
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.jobs import deploy, jobhealth, joblock, lifecycle, ops, releases, rollout
from streamlab.jobs.ops import HealthAction
from streamlab.runtime.flink_rest import FlinkRest


@dataclass(frozen=True)
class Finding:
    job: str  # the lesson's key
    job_id: str
    kind: str  # restart-loop, stale-checkpoint
    detail: str
    release: str


def rollback_jobs(settings: Settings) -> set[str]:
    """The jobs STREAMLAB_HEALTH_ROLLBACK names (``all``: every one); an unknown key is an error."""
    named = {part.strip() for part in settings.health_rollback.split(",") if part.strip()}
    if named == {"all"}:
        return set(lessons.BY_KEY)
    unknown = named - set(lessons.BY_KEY)
    if unknown:
        raise UserError(f"STREAMLAB_HEALTH_ROLLBACK names no job {', '.join(sorted(unknown))}: "
                        f"one of {', '.join(lessons.BY_KEY)}, or all")
    return named


def examine(settings: Settings, now_ms: int | None = None) -> list[Finding]:
    """Every lesson job that runs and is unwell, but not one an operation holds (a drill kills
    its TaskManager, an upgrade stops it: it restarts on purpose; the next run judges it)."""
    rest = FlinkRest(settings.flink_rest_url)
    now_ms = now_ms or int(time.time() * 1000)
    stale_after_s = settings.health_stale_checkpoints * settings.checkpoint_interval_ms / 1000
    found = []
    for key, spec in lessons.BY_KEY.items():
        job = rest.running_job(spec.name)
        if job is None or joblock.busy(settings, key) is not None:
            continue
        row = jobhealth.job_row(rest, job, now_ms)
        release = deploy.fingerprint(rest, job["jid"])
        if row["restart_loop"]:
            found.append(Finding(key, job["jid"], "restart-loop",
                                 f"restarted {row['restarts']} times; last failure: {row['last_failure']}", release))
            continue
        checkpoint_age_s = (row["last_checkpoint"]["age_s"] if row["last_checkpoint"]
                            else (now_ms - job["start-time"]) / 1000)
        if checkpoint_age_s > stale_after_s:
            found.append(Finding(key, job["jid"], "stale-checkpoint",
                                 f"no checkpoint completed for {checkpoint_age_s:.0f}s "
                                 f"(more than {settings.health_stale_checkpoints} intervals)", release))
    return found


def last_good(settings: Settings, key: str, unwell: str) -> tuple[releases.Release, Path] | None:
    """The newest savepoint of another release than ``unwell`` (and than any rolled back from),
    whose state and code are both still on disk: where a rollback starts."""
    bad = ops.rolled_back_releases(settings, key) | {unwell}
    for row in ops.savepoints(settings, key):
        if not row["release"] or row["release"] in bad or not (Path(row["path"]) / "_metadata").is_file():
            continue
        release = releases.find(settings.state, key, lessons.get(key).script, row["release"])
        if release is not None:
            return release, Path(row["path"])
    return None


def respond(settings: Settings, finding: Finding) -> HealthAction:
    """Alert, and roll back where configured; recorded in ``ops.health`` once per Flink job and
    finding (the DAG runs every few minutes; a job stays unwell for a while)."""
    done = [a for a in ops.health_actions(settings)
            if (a.job_id, a.finding) == (finding.job_id, finding.kind)]
    if done:
        return done[0]
    action = HealthAction(finding.job, finding.job_id, finding.kind, finding.detail, "alerted", finding.release)
    if finding.job in rollback_jobs(settings):
        action = _roll_back(settings, finding, action)
    ops.record_health(settings, action)
    return action


def _roll_back(settings: Settings, finding: Finding, alerted: HealthAction) -> HealthAction:
    target = last_good(settings, finding.job, finding.release)
    if target is None:
        return replace(alerted, action="rollback-failed",
                       detail=alerted.detail + "; no savepoint of an earlier release to roll back to")
    release, savepoint = target
    try:
        with joblock.held(settings, finding.job, "rollback"):
            FlinkRest(settings.flink_rest_url).cancel(finding.job_id)
            lifecycle.wait_gone(settings, finding.job)
            job_id = deploy.deploy(settings, finding.job, from_path=savepoint, code=release)
        rollout.confirm_healthy(FlinkRest(settings.flink_rest_url), job_id)
    except UserError as failure:
        return replace(alerted, action="rollback-failed",
                       detail=f"{alerted.detail}; rollback to {release.fingerprint} failed: {failure}")
    return replace(alerted, action="rolled-back", rolled_back_to=release.fingerprint, savepoint=str(savepoint))
