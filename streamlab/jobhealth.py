"""Is a job well? Its restarts and its last failure, as Flink reports them, and whether it is in
a restart loop: a job Flink keeps restarting still reads RUNNING most of the time, so its
state alone hides a poison record that fails it on every attempt."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from streamlab.flink_rest import FlinkRest

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

    def as_dict(self, now_ms: int | None = None) -> dict[str, Any]:
        age = self.age_s(now_ms)
        return {**asdict(self), "last_failure_age_s": None if age is None else round(age, 1),
                "restart_loop": self.looping(now_ms)}


def failures(rest: FlinkRest, job_id: str) -> Failures:
    last = rest.last_failure(job_id)
    done = rest.last_completed_checkpoint(job_id) if last else None
    return Failures(rest.restarts(job_id), last[0] if last else None, last[1] if last else None,
                    done["latest_ack_timestamp"] if done else None)
