"""Savepoint every running job, verify and catalogue it, dispose of expired savepoints, then
remove what no restore or rollback can need any more (old runs' checkpoints, old releases)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task

from streamlab.config import Settings
from streamlab.jobs import ops, prune, schedules


@dag(
    **schedules.dag_args("savepoint_backup"),
    params={
        "max_count": Param(5, type="integer", minimum=1, description="savepoints kept per job"),
        "max_age_hours": Param(168, type="integer", minimum=1, description="older ones are disposed of"),
    },
)
def savepoint_backup():
    @task
    def running_jobs() -> list[str]:
        return ops.running_jobs(Settings())

    @task(map_index_template=schedules.MAP_LABEL)
    def take_savepoint(job: str) -> str:
        schedules.label(job)
        point = ops.backup(Settings(), job)
        print(f"{job}: {point.path} ({point.size_bytes} bytes, {point.duration_s}s)")
        return str(point.path)

    @task
    def enforce_retention(taken: list[str]) -> list[str]:
        params = get_current_context()["params"]
        retention = ops.Retention(params["max_count"], timedelta(hours=params["max_age_hours"]))
        return ops.enforce_retention(Settings(), retention)

    @task
    def prune_disk(disposed: list[str]) -> list[str]:
        return [str(path) for path in prune.prune(Settings())]

    prune_disk(enforce_retention(take_savepoint.expand(job=running_jobs())))


savepoint_backup()
