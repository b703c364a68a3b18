"""The Airflow DAGs load, and the savepoint backup runs (``dag.test()``) against the real platform.
The deploy DAG runs in test_rollout, the drill DAG in test_recovery, the load DAG in test_demo."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from streamlab import lessons, warehouse
from streamlab.jobs import deploy, ops, releases, schedules
from streamlab.runtime import flink_cluster
from streamlab.runtime.flink_rest import FlinkRest
from conftest import REPO, VENV_BIN, run_dag, streamlab


def test_every_dag_loads(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors, bag.import_errors
    assert set(bag.dags) == {path.stem for path in (REPO / "dags").glob("*.py")}


def test_each_dag_runs_on_the_schedule_its_setting_names(airflow_db, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    assert set(schedules.DAGS) == {path.stem for path in (REPO / "dags").glob("*.py")}
    monkeypatch.setenv("STREAMLAB_SCHEDULE_LOAD_AND_VALIDATE", "*/30 * * * *")
    monkeypatch.setenv("STREAMLAB_SCHEDULE_RECOVERY_DRILL", "none")
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.dags["load_and_validate"].timetable.expression == "*/30 * * * *"
    assert bag.dags["recovery_drill"].schedule is None  # only when triggered
    assert bag.dags["savepoint_backup"].timetable.expression == "0 * * * *"  # the default, @hourly
    assert all(dag.max_active_runs == 1 and not dag.catchup for dag in bag.dags.values())


def test_a_scheduled_run_long_after_its_slot_is_skipped_a_manual_one_never():
    slot = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
    assert schedules.missed_slot("scheduled", slot, now=slot + timedelta(minutes=59)) is None
    assert "h ago" in schedules.missed_slot("scheduled", slot, now=slot + timedelta(hours=13))
    assert schedules.missed_slot("manual", slot, now=slot + timedelta(days=3)) is None


def test_a_schedule_that_is_not_cron_is_refused_in_one_line():
    result = subprocess.run([str(VENV_BIN / "streamlab"), "status"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "STREAMLAB_SCHEDULE_JOB_HEALTH": "every hour"})
    assert result.returncode != 0
    assert "STREAMLAB_SCHEDULE_JOB_HEALTH" in result.stderr and "neither a cron expression" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


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
