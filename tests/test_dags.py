"""The Airflow DAGs load, and the savepoint backup runs (``dag.test()``) against the real platform.
The deploy DAG runs in test_rollout, the drill DAG in test_recovery, the load DAG in test_demo."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from streamlab import lessons, warehouse
from streamlab.jobs import deploy, ops, releases
from streamlab.runtime import flink_cluster
from streamlab.runtime.flink_rest import FlinkRest
from conftest import REPO, run_dag, streamlab


def test_every_dag_loads(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors, bag.import_errors
    assert set(bag.dags) == {path.stem for path in (REPO / "dags").glob("*.py")}


@pytest.mark.platform
def test_savepoint_backup_catalogues_and_enforces_retention(airflow_db, dag_settings, capsys):
    platform = dag_settings
    deploy.deploy(platform, "lesson14-stateless")
    first = run_dag("savepoint_backup", capsys, {"max_count": 1})
    assert first.state == "success", first.errors
    [taken] = ops.savepoints(platform, "lesson14-stateless")
    assert (Path(taken["path"]) / "_metadata").is_file() and taken["size_bytes"] > 0

    planted = plant_stale(platform, "lesson14-stateless")
    second = run_dag("savepoint_backup", capsys, {"max_count": 1})
    assert second.state == "success", second.errors
    [newest] = ops.savepoints(platform, "lesson14-stateless")
    assert newest["path"] != taken["path"]
    [disposed] = [r for r in ops.savepoints(platform, "lesson14-stateless", status="DISPOSED")]
    assert disposed["path"] == taken["path"] and not Path(taken["path"]).exists()
    shown = streamlab(platform, "status").stdout
    assert "Savepoints" in shown and newest["path"] in shown
    # prune_disk removed what no restore or rollback can use, and nothing the job still needs.
    assert [p for p in planted["stale"] if p.exists()] == []
    assert all(p.exists() for p in planted["kept"])
    left = [p for p in releases.releases_dir(platform.state, "lesson14-stateless").iterdir() if not p.name.startswith(".")]
    assert len(left) == 3  # the newest three, the running one among them


def plant_stale(platform, key: str) -> dict[str, list[Path]]:
    """An older run's checkpoints, four week-old releases and a dead publisher's staging copy,
    beside the running job's own (which has completed a checkpoint: the older run is not needed)."""
    rest = FlinkRest(platform.flink_rest_url)
    job_id = rest.running_job(lessons.get(key).name)["jid"]
    deadline = time.monotonic() + 60
    while rest.last_completed_checkpoint(job_id) is None:
        assert time.monotonic() < deadline, "the job completed no checkpoint in 60 s"
        time.sleep(0.5)
    week_ago = time.time() - 7 * 86400
    flink = flink_cluster.flink_dir(platform)
    ids = flink / "job-ids" / key
    old_run = flink / "checkpoints" / ("0" * 32)
    (old_run / "chk-1").mkdir(parents=True)
    (old_run / "chk-1" / "_metadata").write_text("")
    os.utime(old_run / "chk-1" / "_metadata", (week_ago, week_ago))
    ids.write_text("0" * 32 + "\n" + ids.read_text())
    root = releases.releases_dir(platform.state, key)
    [running_release] = [p for p in root.iterdir() if p.name == deploy.fingerprint(rest, job_id)]
    old_releases = []
    for age in range(4):
        old = root / f"old{age}"
        old.mkdir()
        os.utime(old, (week_ago - age, week_ago - age))
        old_releases.append(old)
    staging = warehouse.directory(platform) / ".streamlab.duckdb.999999999"
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_text("")
    return {"stale": [old_run, old_releases[-1], staging], "kept": [flink / "checkpoints" / job_id, running_release]}
