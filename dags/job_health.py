"""Watch the jobs: one restarting in a loop, or whose last checkpoint is too old, is reported
(ops.health, the dashboard's alerts, the webhook) and, where STREAMLAB_HEALTH_ROLLBACK names it,
rolled back to its last good release from that release's newest savepoint."""

from __future__ import annotations

from dataclasses import asdict

from airflow.sdk import dag, task

from streamlab.config import Settings
from streamlab.jobs import healing, schedules


@dag(**schedules.dag_args("job_health"))
def job_health():
    @task
    def unwell_jobs() -> list[dict]:
        found = healing.examine(Settings())
        print(f"{len(found)} unwell job(s)" + "".join(f"\n  {f.job}: {f.kind}, {f.detail}" for f in found))
        return [asdict(finding) for finding in found]

    @task(max_active_tis_per_dag=1, map_index_template=schedules.MAP_LABEL)  # a rollback resubmits a job: one at a time
    def respond(finding: dict) -> dict:
        schedules.label(finding["job"])
        action = healing.respond(Settings(), healing.Finding(**finding))
        print(action.describe())
        if action.action == "rollback-failed":
            raise RuntimeError(action.describe())
        return {"job": action.job, "finding": action.finding, "action": action.action,
                "rolled_back_to": action.rolled_back_to}

    respond.expand(finding=unwell_jobs())


job_health()
