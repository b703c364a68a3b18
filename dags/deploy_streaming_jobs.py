"""Roll the checkout's jobs out to the Flink cluster when their code or config changed: submit
what is missing, upgrade what changed by its upgrade mode (rolling back a failed upgrade from
the same state), leave the rest alone. It runs every few minutes and does nothing when nothing
changed: it reconciles, like a Kubernetes operator."""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from streamlab import lessons
from streamlab.config import Settings
from streamlab.jobs import deploy, rollout, schedules


@dag(
    **schedules.dag_args("deploy_streaming_jobs"),
    params={
        "jobs": Param(list(lessons.BY_KEY), type="array", items={"type": "string", "enum": list(lessons.BY_KEY)},
                      description="which jobs of the catalog to roll out"),
    },
)
def deploy_streaming_jobs():
    @task
    def changed_jobs() -> list[str]:
        """The selected jobs whose code or config differs from what runs, or that do not run."""
        plan = rollout.plan(Settings(), list(get_current_context()["params"]["jobs"]))
        for line in plan.left:
            print("left alone:", line)
        return plan.due

    # The job client plans one job at a time; two overlap one's planning with the other's start.
    # The grid names each by its job.
    @task(max_active_tis_per_dag=deploy.SUBMITS_AT_ONCE, map_index_template=schedules.MAP_LABEL)
    def roll_out(job: str) -> dict:
        schedules.label(job)
        outcome = rollout.roll_out(Settings(), job)
        print(outcome.describe())
        return {"job": job, "action": outcome.action, "fingerprint": outcome.fingerprint,
                "previous": outcome.previous, "job_id": outcome.job_id, "duration_s": outcome.duration_s,
                "state_from": str(outcome.state_from) if outcome.state_from else None}

    roll_out.expand(job=changed_jobs())


deploy_streaming_jobs()
