"""Savepoint every running job, verify and catalogue it, then dispose of expired savepoints."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task

from streamlab import ops
from streamlab.config import Settings


@dag(
    schedule="@hourly",
    **ops.DAG_DEFAULTS,
    params={
        "max_count": Param(5, type="integer", minimum=1, description="savepoints kept per job"),
        "max_age_hours": Param(168, type="integer", minimum=1, description="older ones are disposed of"),
    },
)
def savepoint_backup():
    @task
    def running_jobs() -> list[str]:
        return ops.running_jobs(Settings())

    @task
    def take_savepoint(job: str) -> str:
        point = ops.backup(Settings(), job)
        print(f"{job}: {point.path} ({point.size_bytes} bytes, {point.duration_s}s)")
        return str(point.path)

    @task
    def enforce_retention(taken: list[str]) -> list[str]:
        params = get_current_context()["params"]
        retention = ops.Retention(params["max_count"], timedelta(hours=params["max_age_hours"]))
        return ops.enforce_retention(Settings(), retention)

    enforce_retention(take_savepoint.expand(job=running_jobs()))


savepoint_backup()
