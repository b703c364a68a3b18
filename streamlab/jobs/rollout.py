"""Roll the checkout's code out to the cluster, one job at a time, idempotently.

Not running → submit. Running the same release → nothing. Running another release → upgrade
by the job's upgrade mode (see ``streamlab.wire.contract.UpgradeMode``), and when the new code does not start
from that state, start the previous release from the very same state again: the job is never
left stopped, and an upgrade that rolled back still fails loudly (``UpgradeRolledBack``).
The new code counts as healthy at its first completed checkpoint, and its exactly-once output
commits only at checkpoints, so a rollback from the same state repeats nothing it wrote.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from streamlab import lessons
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.jobs import deploy, joblock, lifecycle, ops, releases
from streamlab.runtime.flink_rest import FlinkRest
from streamlab.wire.contract import UpgradeMode


@dataclass(frozen=True)
class Outcome:
    job: str
    action: str  # submitted, resumed (from its newest state), unchanged, upgraded
    job_id: str
    fingerprint: str
    previous: str | None = None  # the fingerprint it upgraded from
    state_from: Path | None = None  # the savepoint or checkpoint the new code started from
    duration_s: float = 0.0

    def describe(self) -> str:
        text = f"{self.job}: {self.action} ({self.fingerprint})"
        if self.previous:
            text += f" from {self.previous} by {lessons.get(self.job).upgrade_mode}"
        if self.state_from:
            text += f", state from {self.state_from}"
        return text + f" in {self.duration_s:.1f}s"


class UpgradeRolledBack(UserError):
    """The new code did not start; the previous release runs again from the same state."""


# --8<-- [start:roll_out]
def roll_out(settings: Settings, key: str) -> Outcome:
    with joblock.held(settings, key, "deploy"):
        return _roll_out(settings, key)


def _roll_out(settings: Settings, key: str) -> Outcome:
    started = time.monotonic()
    new = deploy.release(settings, key)
    rest = FlinkRest(settings.flink_rest_url)
    running = rest.running_job(lessons.get(key).name)
    if running is None:
        # A job stopped by a cluster restart or a cancel carries on from its newest state;
        # submitted without it, its windows and aggregates would start again from nothing.
        state = lifecycle.resume_point(settings, key)
        job_id = deploy.deploy(settings, key, from_path=state, code=new)
        return Outcome(key, "resumed" if state else "submitted", job_id, new.fingerprint, state_from=state,
                       duration_s=time.monotonic() - started)
    current = deploy.fingerprint(rest, running["jid"])
    if current == new.fingerprint:
        return Outcome(key, "unchanged", running["jid"], current, duration_s=time.monotonic() - started)
    state = _take_down(settings, key)
    try:
        job_id = deploy.deploy(settings, key, from_path=state, code=new)
        confirm_healthy(rest, job_id)
    except UserError as failure:
        if rest.running_job(lessons.get(key).name) is not None:
            lifecycle.cancel(settings, key)
        previous = releases.find(settings.state, key, lessons.get(key).script, current)
        if previous is None:
            raise UserError(f"upgrade of {key} failed and release {current or '(unknown)'} is not on "
                            f"disk to roll back to; the job is stopped, its state is {state}: {failure}") from None
        deploy.deploy(settings, key, from_path=state, code=previous)
        raise UpgradeRolledBack(f"upgrade of {key} to {new.fingerprint} failed ({failure}); rolled back "
                                f"to {current} from {state}") from None
    return Outcome(key, "upgraded", job_id, new.fingerprint, current, state, time.monotonic() - started)
# --8<-- [end:roll_out]


@dataclass(frozen=True)
class Plan:
    due: list[str]  # jobs to roll out: not running, or running other code than the checkout's
    left: list[str]  # the others, each with why


def plan(settings: Settings, keys: list[str]) -> Plan:
    """Which of ``keys`` a rollout would change: the deploy DAG runs often and deploys only
    these. A release job_health rolled back from is left out until the code changes again."""
    rest = FlinkRest(settings.flink_rest_url)
    due, left = [], []
    for key in keys:
        new = deploy.release(settings, key).fingerprint
        running = rest.running_job(lessons.get(key).name)
        if running is not None and deploy.fingerprint(rest, running["jid"]) == new:
            left.append(f"{key}: runs release {new}, the checkout's")
        elif new in ops.rolled_back_releases(settings, key):
            left.append(f"{key}: release {new} was rolled back by job_health (ops.health); a new release, "
                        f"or `streamlab deploy {key}` by hand, rolls out again")
        else:
            due.append(key)
    return Plan(due, left)


def confirm_healthy(rest: FlinkRest, job_id: str, timeout_s: float = 120.0) -> None:
    """Healthy = a checkpoint completed with no failure before it: the operators took the state
    and processed records (running tasks alone prove neither)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        failure = rest.failure(job_id)
        if failure:
            raise UserError(f"the new code failed after it started: {failure}")
        if rest.checkpoints(job_id)["counts"]["completed"] > 0:
            return
        time.sleep(0.5)
    raise UserError(f"the new code completed no checkpoint within {timeout_s:.0f}s")


# --8<-- [start:take_down]
def _take_down(settings: Settings, key: str) -> Path | None:
    """Stop the running job the way its upgrade mode says; return the state to start from."""
    match lessons.get(key).upgrade_mode:
        case UpgradeMode.SAVEPOINT:
            return ops.backup(settings, key, stop=True).path
        case UpgradeMode.LAST_STATE:
            lifecycle.cancel(settings, key)
            checkpoint = lifecycle.latest_checkpoint(settings, key)
            if checkpoint is None:
                raise UserError(f"{key} has no retained checkpoint to upgrade from; it is cancelled: "
                                f"start it with `streamlab deploy {key}`")
            return checkpoint
        case UpgradeMode.STATELESS:
            lifecycle.cancel(settings, key)
            return None
# --8<-- [end:take_down]
