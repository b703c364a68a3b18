"""The Airflow DAGs load, and the savepoint backup runs (``dag.test()``) against the real platform.
The deploy DAG runs in test_rollout, the drill DAG in test_recovery, the load DAG in test_demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, run_dag, streamlab
from streamlab import deploy, ops


def test_every_dag_loads(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors, bag.import_errors
    assert set(bag.dags) == {path.stem for path in (REPO / "dags").glob("*.py")}


@pytest.mark.platform
def test_savepoint_backup_catalogues_and_enforces_retention(airflow_db, dag_settings, capsys):
    platform = dag_settings
    deploy.deploy(platform, "lesson14")
    first = run_dag("savepoint_backup", capsys, {"max_count": 1})
    assert first.state == "success", first.errors
    [taken] = ops.savepoints(platform, "lesson14")
    assert (Path(taken["path"]) / "_metadata").is_file() and taken["size_bytes"] > 0

    second = run_dag("savepoint_backup", capsys, {"max_count": 1})
    assert second.state == "success", second.errors
    [newest] = ops.savepoints(platform, "lesson14")
    assert newest["path"] != taken["path"]
    [disposed] = [r for r in ops.savepoints(platform, "lesson14", status="DISPOSED")]
    assert disposed["path"] == taken["path"] and not Path(taken["path"]).exists()
    shown = streamlab(platform, "status").stdout
    assert "Savepoints" in shown and newest["path"] in shown
