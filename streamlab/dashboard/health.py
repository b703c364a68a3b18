"""Pipeline health for the page: each job's state, its last checkpoint and its consumer lag."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, IsolationLevel, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from streamlab import deploy
from streamlab.config import Settings
from streamlab.flink_rest import FlinkRest


class Health:
    """One admin client and one REST client, reused for every check (the page polls often)."""

    def __init__(self, settings: Settings) -> None:
        self.rest = FlinkRest(settings.flink_rest_url, timeout_s=5.0, retries=1)
        self.admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})

    def check(self) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        try:
            running = {job["name"]: job for job in self.rest.jobs() if job["state"] == "RUNNING"}
            flink_error = None
        except Exception as err:  # noqa: BLE001 - health reports, it does not fail
            running, flink_error = {}, str(err)
        jobs = []
        for spec in deploy.JOBS.values():
            job = running.get(spec.name)
            row: dict[str, Any] = {"job": spec.key, "name": spec.name, "state": "RUNNING" if job else "NOT RUNNING",
                                   "last_checkpoint": None, "lag": None}
            if job:
                done = self.rest.last_completed_checkpoint(job["jid"])
                if done:
                    row["last_checkpoint"] = {"id": done["id"], "age_s": round((now_ms - done["latest_ack_timestamp"]) / 1000, 1),
                                              "duration_ms": done.get("end_to_end_duration"),
                                              "size_bytes": done.get("state_size")}
                row["lag"] = self._lag(spec.name, list(spec.inputs))
            jobs.append(row)
        return {"checked_ms": now_ms, "flink_error": flink_error, "jobs": jobs}

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
