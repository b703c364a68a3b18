"""Roll the checkout's jobs out to the Flink cluster: submit what is missing, leave what runs
the same code alone, upgrade what changed by its upgrade mode (rolling back a failed upgrade
from the same state). Safe to run at any time: it reconciles, like a Kubernetes operator."""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from streamlab import lessons
from streamlab.config import Settings
from streamlab.jobs import ops, rollout


@dag(
    schedule="*/15 * * * *",
    **ops.DAG_DEFAULTS,
    params={
        "jobs": Param(list(lessons.BY_KEY), type="array", items={"type": "string", "enum": list(lessons.BY_KEY)},
                      description="which jobs of the catalog to roll out"),
    },
)
def deploy_streaming_jobs():
    @task
    def selected_jobs() -> list[str]:
        return list(get_current_context()["params"]["jobs"])

    @task(max_active_tis_per_dag=2)  # each `flink run` compiles its plan in Python: 2 cores here
    def roll_out(job: str) -> dict:
        outcome = rollout.roll_out(Settings(), job)
        print(outcome.describe())
        return {"job": job, "action": outcome.action, "fingerprint": outcome.fingerprint,
                "previous": outcome.previous, "job_id": outcome.job_id}

    roll_out.expand(job=selected_jobs())


deploy_streaming_jobs()
