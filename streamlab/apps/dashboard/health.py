"""Pipeline health for the page: each job's state, its last checkpoint, its consumer lag, its
restarts and last failure, and the alert a restart loop raises."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, IsolationLevel, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from streamlab import lessons
from streamlab.config import Settings
from streamlab.jobs import jobhealth
from streamlab.jobs.ops import HealthAction
from streamlab.runtime.flink_rest import ACTIVE_STATES, FlinkRest
from streamlab.wire.contract import Lesson


class Health:
    """One admin client and one REST client, reused for every check (the page polls often)."""

    def __init__(self, settings: Settings) -> None:
        self.rest = FlinkRest(settings.flink_rest_url, timeout_s=5.0, retries=1)
        self.admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})

    def check(self) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        try:
            running = {job["name"]: job for job in self.rest.jobs() if job["state"] in ACTIVE_STATES}
            flink_error = None
        except Exception as err:  # noqa: BLE001 - health reports, it does not fail
            running, flink_error = {}, str(err)
        # Every lesson's job, running or not, then any other job the cluster runs (whoever
        # submitted it, a job in a restart loop starves the lessons' jobs of the same slots).
        catalog = {spec.name: spec for spec in lessons.BY_KEY.values()}
        others = sorted(name for name in running if name not in catalog)
        jobs = [self._row(name, catalog.get(name), running.get(name), now_ms) for name in [*catalog, *others]]
        return {"checked_ms": now_ms, "flink_error": flink_error, "jobs": jobs}

    def _row(self, name: str, spec: Lesson | None, job: dict[str, Any] | None, now_ms: int) -> dict[str, Any]:
        row = jobhealth.job_row(self.rest, job, now_ms) if job else jobhealth.blank_row(name)
        return {"job": spec.key if spec else None, **row,
                "lag": self._lag(spec.name, list(spec.inputs)) if spec and job else None}

    def _lag(self, group: str, topics: list[str]) -> int | None:
        """Records the job's group has not committed yet (Flink commits at each checkpoint)."""
        try:
            committed = self.admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(10)
            mine = {(tp.topic, tp.partition): tp.offset for tp in committed.topic_partitions if tp.topic in topics}
            if not mine:
                return None
            ends = self.admin.list_offsets({TopicPartition(t, p): OffsetSpec.latest() for t, p in mine},
                                           isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=10)
            return sum(max(0, ends[TopicPartition(t, p)].result().offset - max(0, offset))
                       for (t, p), offset in mine.items())
        except Exception:  # noqa: BLE001 - no lag is shown rather than a broken page
            return None


def restart_loop_alert(row: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """The alert for a job ``check`` found in a restart loop: one per job id (a redeploy, with
    a new id, alerts again if it loops again)."""
    return {"alert_id": f"restart-loop:{row['name']}:{row['job_id']}", "rule": "restart-loop",
            "severity": "high", "card_id": "", "job": row["name"], "ts_ms": now_ms,
            "restarts": row["restarts"],
            "detail": f"{row['name']} restarted {row['restarts']} times; last failure: {row['last_failure']}"}


def health_action_alert(action: HealthAction) -> dict[str, Any]:
    """The alert for what the job_health DAG found (``ops.health``). A restart loop has the id
    ``restart_loop_alert`` gives it, so the webhook hears of one loop once, whoever saw it first."""
    spec = lessons.BY_KEY.get(action.job)  # a lesson renamed since keeps its old key in the catalog
    name = spec.name if spec else action.job
    detail = f"{name} {action.finding}: {action.detail}; job_health {action.action}"
    if action.rolled_back_to:
        detail += f" from release {action.release} to {action.rolled_back_to}"
    return {"alert_id": f"{action.finding}:{name}:{action.job_id}", "rule": action.finding,
            "severity": "high", "card_id": "", "job": name, "ts_ms": int(action.found_at.timestamp() * 1000),
            "action": action.action, "detail": detail}
