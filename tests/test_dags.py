"""The Airflow DAGs: they load, and they run (``dag.test()``) against the real platform."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, STATE_ROOT, VENV_BIN, env_for, streamlab
from streamlab import deploy, ops

AIRFLOW_HOME = STATE_ROOT / "test-airflow"
# Airflow reads its configuration when first imported: point it at a home of its own first.
os.environ.update(
    AIRFLOW_HOME=str(AIRFLOW_HOME),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
)


@pytest.fixture(scope="module")
def airflow_db() -> None:
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(VENV_BIN / "airflow"), "db", "reset", "--yes"], env=os.environ,
                   check=True, capture_output=True, timeout=300)


def dag_bag():
    from airflow.models import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_every_dag_loads(airflow_db):
    bag = dag_bag()
    assert not bag.import_errors, bag.import_errors
    assert {"savepoint_backup", "recovery_drill"} <= set(bag.dags)


@pytest.mark.platform
def test_savepoint_backup_catalogues_and_enforces_retention(airflow_db, platform, monkeypatch):
    for name, value in env_for(platform).items():
        if name.startswith("STREAMLAB_"):
            monkeypatch.setenv(name, value)
    deploy.deploy(platform, "lesson14")
    dag = dag_bag().dags["savepoint_backup"]

    first = dag.test(run_conf={"max_count": 1})
    assert first.state == "success"
    [taken] = ops.savepoints(platform, "lesson14")
    assert (Path(taken["path"]) / "_metadata").is_file() and taken["size_bytes"] > 0

    second = dag.test(run_conf={"max_count": 1})
    assert second.state == "success"
    [newest] = ops.savepoints(platform, "lesson14")
    assert newest["path"] != taken["path"]
    [disposed] = [r for r in ops.savepoints(platform, "lesson14", status="DISPOSED")]
    assert disposed["path"] == taken["path"] and not Path(taken["path"]).exists()
    shown = streamlab(platform, "status").stdout
    assert "Savepoints" in shown and newest["path"] in shown
