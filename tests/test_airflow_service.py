"""The embedded Airflow 3, started alone (it needs neither Kafka nor Flink): healthy, bound to the
configured host, logged in to with the generated password, parsing the repo's DAGs, running a
task with the platform's settings, writing nothing outside the state dir, and stopped with every
process it started."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import psutil
import pytest

from streamlab.apps import operations, status
from streamlab.config import Settings
from streamlab.jobs import schedules
from streamlab.runtime import airflow_service, processes
from streamlab.runtime.airflow_rest import AirflowRest
from conftest import fresh_settings

pytestmark = pytest.mark.platform

T = TypeVar("T")
DAGS = set(schedules.DAGS)


@pytest.fixture(scope="module")
def airflow() -> Iterator[Settings]:
    # The shipped schedules (the tasks fail here, with no Flink: test_a_task_runs_... relies on it).
    shipped = {f"schedule_{dag_id}": Settings.model_fields[f"schedule_{dag_id}"].default for dag_id in schedules.DAGS}
    settings = fresh_settings("test-airflow-service", airflow=True, **shipped)
    try:
        airflow_service.start(settings)
        yield settings
    finally:
        airflow_service.stop(settings)


def poll(what: str, probe: Callable[[], T | None], timeout_s: float = 120) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout_s:.0f}s")


def login(settings: Settings, password: str) -> httpx.Response:
    return httpx.post(f"{settings.airflow_url}/auth/token",
                      json={"username": airflow_service.USER, "password": password}, timeout=10)


def api(settings: Settings) -> httpx.Client:
    token = login(settings, airflow_service.password(settings)).json()["access_token"]
    return httpx.Client(base_url=f"{settings.airflow_url}/api/v2", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


def airflow_line(report: str) -> str:
    return next(line for line in report.splitlines() if line.startswith("Airflow"))


def spawned(settings: Settings) -> list[psutil.Process]:
    """Every process of the components: their groups, and descendants in groups of their own."""
    found: dict[int, psutil.Process] = {}
    for proc in airflow_service.running(settings).values():
        found.update((p.pid, p) for p in processes.group_members(proc))
        found.update((p.pid, p) for p in psutil.Process(proc.pid).children(recursive=True))
    return list(found.values())


def test_all_components_are_healthy_and_the_api_listens_on_the_configured_host(airflow):
    health = httpx.get(f"{airflow.airflow_url}/api/v2/monitor/health", timeout=10).json()
    assert {part: health[part]["status"] for part in health} == {
        "metadatabase": "healthy", "scheduler": "healthy", "dag_processor": "healthy",
        "triggerer": "healthy"}
    api_server = airflow_service.running(airflow)[airflow_service.API_SERVER]
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(api_server.pid).net_connections()
                 if c.status == psutil.CONN_LISTEN}
    assert listening == {(airflow.host, airflow.airflow_port)}


def test_the_generated_password_is_private_logs_in_and_status_shows_it(airflow):
    password = airflow_service.password(airflow)
    path = airflow_service.password_file(airflow)
    assert password and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert login(airflow, password).status_code == 201
    assert login(airflow, password + "x").status_code == 401
    report = status.report(airflow)
    assert f"user admin, password {password} (stored in {path}, mode 0600)" in report
    line = airflow_line(report)
    assert "api-server pid" in line and "triggerer pid" in line and "not running" not in line


def test_the_repo_dags_are_parsed_without_import_errors(airflow):
    with api(airflow) as client:
        def parsed() -> set[str] | None:
            ids = {dag["dag_id"] for dag in client.get("/dags").json()["dags"]}
            return ids if DAGS <= ids else None

        poll("the repo's DAGs listed", parsed)
        assert client.get("/importErrors").json()["total_entries"] == 0


def test_up_makes_every_dag_live_on_its_schedule_and_a_pause_sticks(airflow):
    shown: list[str] = []
    operations.make_live(airflow, shown.append)
    with api(airflow) as client:
        dags = {dag["dag_id"]: dag for dag in client.get("/dags").json()["dags"]}
        for dag_id in schedules.DAGS:
            cron = schedules.schedule(airflow, dag_id)
            assert not dags[dag_id]["is_paused"], dag_id
            assert dags[dag_id]["timetable_summary"] == {"@hourly": "0 * * * *"}.get(cron, cron), dag_id
            assert any(line.split()[0] == dag_id and line.endswith(f"{schedules.in_words(cron)}, live")
                       for line in shown), shown
        assert client.patch("/dags/load_and_validate", json={"is_paused": True}).is_success
        again: list[str] = []
        operations.make_live(airflow, again.append)
        assert client.get("/dags/load_and_validate").json()["is_paused"]
        assert any(line.split()[0] == "load_and_validate" and "PAUSED" in line for line in again), again
        assert client.patch("/dags/load_and_validate", json={"is_paused": False}).is_success


def test_the_connections_come_from_the_config(airflow):
    # The REST API lists only connections stored in the database, not environment ones: ask
    # Airflow itself, in the running scheduler's environment, what it makes of them.
    scheduler = airflow_service.running(airflow)[airflow_service.SCHEDULER]
    env = psutil.Process(scheduler.pid).environ()

    def connection(conn_id: str) -> dict:
        result = subprocess.run([str(airflow_service.AIRFLOW_BIN), "connections", "get", conn_id,
                                 "-o", "json"], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]

    kafka = connection("streamlab_kafka")
    assert kafka["extra_dejson"] == {"bootstrap.servers": airflow.bootstrap_servers}
    flink = connection("streamlab_flink")
    assert (flink["host"], int(flink["port"])) == (airflow.host, airflow.flink_rest_port)


def test_a_task_runs_with_the_platform_settings(airflow):
    """No Flink runs here, so the backup DAG's first task fails saying so: that it names this
    platform's Flink URL shows the task ran (scheduler, executor, Execution API) with our config."""
    with api(airflow) as client:
        poll("savepoint_backup parsed",
             lambda: client.get("/dags/savepoint_backup").is_success or None)
        assert client.patch("/dags/savepoint_backup", json={"is_paused": False}).is_success
        run = client.post("/dags/savepoint_backup/dagRuns", json={"logical_date": None}).json()
        task = f"/dags/savepoint_backup/dagRuns/{run['dag_run_id']}/taskInstances/running_jobs"

        def finished() -> str | None:
            state = client.get(task).json().get("state")
            return state if state in ("success", "failed") else None

        assert poll("running_jobs finished", finished) == "failed"
        log = client.get(f"{task}/logs/1").text
    assert f"no Flink cluster answers at {airflow.flink_rest_url}" in log
    rest = AirflowRest(airflow)  # what the demo prints for a failed run: the task and its error
    try:
        [failed] = rest.failures("savepoint_backup", run["dag_run_id"])
    finally:
        rest.close()
    assert failed.startswith("running_jobs: FlinkRestError: no Flink cluster answers"), failed
    written = list(airflow_service.log_dir(airflow).glob(
        f"dag_id=savepoint_backup/run_id={run['dag_run_id']}/task_id=running_jobs/attempt=1.log"))
    assert written, "the task log is not under the state dir"


def test_nothing_is_written_outside_the_state_dir(airflow):
    state = str(airflow.state)
    running = airflow_service.running(airflow)
    # Not the API server's: its process title (setproctitle) overwrites its environment block.
    for component in (running[name] for name in (airflow_service.SCHEDULER,
                                                 airflow_service.DAG_PROCESSOR,
                                                 airflow_service.TRIGGERER)):
        env = psutil.Process(component.pid).environ()
        for name in ("AIRFLOW_HOME", "TMPDIR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                     "AIRFLOW__LOGGING__BASE_LOG_FOLDER",
                     "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY",
                     "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH",
                     "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
            assert state in env[name], (component.name, name)
        assert env["STREAMLAB_STATE_DIR"] == state
    tmp = tempfile.gettempdir()
    for proc in spawned(airflow):
        try:
            cwd, files = proc.cwd(), [f.path for f in proc.open_files()]
        except psutil.NoSuchProcess:  # a short-lived DAG parser
            continue
        assert cwd.startswith(state), (proc, cwd)
        # (a checkout may itself live under the temp dir: its state dir is still ours)
        assert not [f for f in files if f.startswith(tmp) and not f.startswith(state)], (proc, files)
    since = min(p.create_time for p in running.values())
    touched = [p for p in Path(tmp).iterdir()
               if "airflow" in p.name.lower() and p.stat().st_mtime >= since]
    assert not touched, touched


def test_stop_ends_every_process_it_started_also_mid_task(airflow):
    """A task process runs in a process group of its own (Airflow puts it there): stopping the
    components' groups alone would leave it behind."""
    with api(airflow) as client:
        run = client.post("/dags/savepoint_backup/dagRuns", json={"logical_date": None}).json()
        task = f"/dags/savepoint_backup/dagRuns/{run['dag_run_id']}/taskInstances/running_jobs"
        poll("running_jobs running", lambda: client.get(task).json().get("state") == "running" or None)
    started = spawned(airflow)
    leaders = {proc.pid for proc in airflow_service.running(airflow).values()}
    assert [p for p in started if p.pid not in leaders and os.getpgid(p.pid) == p.pid]
    assert len(leaders) == len(airflow_service.COMPONENTS)
    assert set(airflow_service.stop(airflow)) == set(airflow_service.COMPONENTS)
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, alive
    assert not airflow_service.running(airflow)
    assert airflow_line(status.report(airflow)) == f"Airflow   {airflow.airflow_url}  not running"
    assert airflow_service.stop(airflow) == []
