"""Prove recovery on a schedule: each fault in turn while the stateful jobs run, reconciled
with the oracle and recorded in ops.drills; the run fails on any lost or duplicated row or a
recovery slower than its threshold."""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from streamlab.config import Settings
from streamlab.jobs import drills, schedules


@dag(
    **schedules.dag_args("recovery_drill"),
    params={
        "events": Param(15_000, type="integer", minimum=1000, description="fact events per drill"),
        "max_recovery_s": Param(180, type="integer", minimum=1, description="slower recovery fails"),
        "scenarios": Param([], type="array", items={"enum": list(drills.FAULTS)},
                           description="which faults to inject (default: every one this platform's shape "
                           "can take; broker-kill needs 3 brokers)"),
    },
)
def recovery_drill():
    @task
    def scenarios() -> list[str]:
        context = get_current_context()
        run = context["dag_run"]
        late = schedules.missed_slot(run.run_type, run.logical_date)
        if late:  # a drill kills processes: only at its hour, never as a catch-up
            raise AirflowSkipException(late)
        return context["params"]["scenarios"] or drills.scenarios_for(Settings())

    @task(max_active_tis_per_dag=1, map_index_template=schedules.MAP_LABEL)  # one fault at a time
    def drill(scenario: str) -> dict:
        schedules.label(scenario)
        params = get_current_context()["params"]
        settings = Settings()
        result = drills.run(settings, scenario, count=params["events"])
        passed = drills.record(settings, result, params["max_recovery_s"])
        print(result.describe(params["max_recovery_s"]))
        if not passed:
            raise RuntimeError("drill " + result.describe(params["max_recovery_s"]))
        return {"scenario": scenario, "recovery_s": result.recovery_s, "missing": result.missing,
                "unexpected": result.unexpected, "line": result.describe(params["max_recovery_s"])}

    drill.expand(scenario=scenarios())


recovery_drill()
