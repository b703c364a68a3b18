"""Is a job well? Its restarts and its last failure, as Flink reports them, and whether it is in
a restart loop: a job Flink keeps restarting still reads RUNNING most of the time, so its
state alone hides a poison record that fails it on every attempt."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from streamlab.runtime.flink_rest import ACTIVE_STATES, FlinkRest

# A loop: this many restarts, the last failure this recent (the restart strategy's delay grows
# from 1 s to 10 s, so a poison record keeps failing the job within this window), and no
# checkpoint completed since it. A job that recovered (a TaskManager killed, its restarts
# waiting for slots) checkpoints again within seconds; one that a record fails on every
# attempt fails on it again right after each restore, before any checkpoint.
LOOP_RESTARTS = 3
LOOP_WINDOW_S = 300.0


@dataclass(frozen=True)
class Failures:
    restarts: int
    last_failure: str | None  # the root cause line of the newest failure
    last_failure_ms: int | None
    last_checkpoint_ms: int | None = None  # when the newest completed checkpoint was acknowledged

    def age_s(self, now_ms: int | None = None) -> float | None:
        if self.last_failure_ms is None:
            return None
        return max(0.0, ((now_ms or int(time.time() * 1000)) - self.last_failure_ms) / 1000)

    def looping(self, now_ms: int | None = None) -> bool:
        age = self.age_s(now_ms)
        recovered = (self.last_checkpoint_ms is not None and self.last_failure_ms is not None
                     and self.last_checkpoint_ms > self.last_failure_ms)
        return self.restarts >= LOOP_RESTARTS and age is not None and age <= LOOP_WINDOW_S and not recovered


def blank_row(name: str, state: str = "NOT RUNNING", job_id: str | None = None) -> dict[str, Any]:
    """A job's row before anything is known of its checkpoints and failures."""
    return {"name": name, "state": state, "job_id": job_id, "last_checkpoint": None, "restarts": None,
            "last_failure": None, "last_failure_age_s": None, "restart_loop": False}


def job_row(rest: FlinkRest, job: dict[str, Any], now_ms: int | None = None) -> dict[str, Any]:
    """One job as ``streamlab status`` and the dashboard show it: its state, its newest completed
    checkpoint, and for a running job its restarts, last failure and whether it is looping."""
    now_ms = now_ms or int(time.time() * 1000)
    row = blank_row(job["name"], job["state"], job["jid"])
    if job["state"] not in ACTIVE_STATES:
        return row
    done = rest.last_completed_checkpoint(job["jid"])
    if done:
        row["last_checkpoint"] = {"id": done["id"],
                                  "age_s": round((now_ms - done["latest_ack_timestamp"]) / 1000, 1),
                                  "duration_ms": done.get("end_to_end_duration"),
                                  "size_bytes": done.get("state_size")}
    last = rest.last_failure(job["jid"])
    health = Failures(rest.restarts(job["jid"]), last[0] if last else None, last[1] if last else None,
                      done["latest_ack_timestamp"] if done else None)
    age = health.age_s(now_ms)
    row.update(restarts=health.restarts, last_failure=health.last_failure,
               last_failure_age_s=None if age is None else round(age, 1),
               restart_loop=health.looping(now_ms))
    return row
