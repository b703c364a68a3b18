"""Recovery drills on the real platform, run by the recovery_drill DAG: each fault in turn is
injected while all stateful jobs (Lessons 15 and 16) work through new data (the windows job, which reads the most,
is part-way through it); after it every output of every job still equals its oracle — nothing
lost, nothing twice, the same late records — and each drill is recorded in ``ops.drills``."""

from __future__ import annotations

import pytest

from streamlab.apps import demo as demo_lib
from streamlab.jobs import drills, ops
from conftest import run_dag, streamlab

pytestmark = pytest.mark.platform


def test_drill_dag_runs_the_chosen_scenarios_without_loss_or_duplicates(airflow_db, dag_settings, demo, capsys):
    # The demo on this platform drilled the TaskManager and a Kafka Streams instance already
    # (recorded in ops.drills): the DAG runs the other faults, so every fault is proven here once.
    chosen = [scenario for scenario in drills.scenarios_for(dag_settings) if scenario not in demo_lib.DRILLS]
    run = run_dag("recovery_drill", capsys, {"events": 12_000, "max_recovery_s": 300, "scenarios": chosen})
    assert run.state == "success", run.errors
    assert sorted(task for task in run.task_states if task.startswith("drill[")) == [
        f"drill[{index}]" for index in range(len(chosen))]
    latest = ops.latest_drills(dag_settings)
    assert set(latest) == set(drills.scenarios_for(dag_settings))
    for scenario, row in latest.items():
        assert row["passed"] and row["missing"] == 0 and row["unexpected"] == 0, (scenario, row)
        assert row["rows_checked"] > 1000 and 0 < row["recovery_s"] <= 300, (scenario, row)
    shown = streamlab(dag_settings, "status").stdout
    assert all(f"{scenario}" in shown for scenario in latest) and "PASSED" in shown
