"""`make demo`'s command end to end on the session platform, twice (the second reuses its data
and keeps feeding live events); then the warehouse it loaded: planted bad rows, the analyst
guide's queries, the DAG."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import duckdb
import httpx
import pytest

from streamlab import lessons, warehouse
from streamlab.apps.demo import Steps
from streamlab.jobs import ops
from streamlab.runtime.airflow_rest import AirflowRest
from streamlab.warehouse import analyst, marts
from streamlab.wire import expectations
from conftest import REPO, VENV_BIN, env_for, run_dag, streamlab

pytestmark = pytest.mark.platform
GUIDE = REPO / "docs" / "guides" / "analyst.md"


def test_demo_reconciles_and_is_idempotent(platform, demo):
    first = demo
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "generating 20000 events" in first.stdout
    assert "RESULT: every output equals the oracle" in first.stdout
    assert "dead-letter" in first.stdout and "bots filtered" in first.stdout
    assert first.stdout.count("input and outputs balance") == 1  # lesson14-stateless's split adds up
    assert "DOES NOT balance" not in first.stdout
    assert "paid within 15 min" in first.stdout and "alerts: two-countries" in first.stdout
    assert "never fired" not in first.stdout
    assert "store customer-orders:" in first.stdout and "over customers = " in first.stdout
    for scenario in ("taskmanager-kill", "kstreams-instance-kill"):  # both models of Lesson 16
        assert re.search(rf"DRILL {scenario}: moved on after [\d.]+s, recovered in .* 0 missing, 0 unexpected "
                         "-> PASSED", first.stdout), scenario
    # Then the Kafka Streams peers, on the same topics and checked by the same oracles.
    assert "PEERS: every Kafka Streams output equals the oracle" in first.stdout
    # It ends with the warehouse: rows per table (the peers' too), and the clean data passes
    # every expectation.
    counts = dict(re.findall(r"^\s+((?:raw|marts|peers)\.\w+)\s+([\d,]+) rows$", first.stdout, re.M))
    assert all(int(n.replace(",", "")) > 0 for n in counts.values()), counts
    assert len([name for name in counts if name.startswith("peers.")]) == len(marts.PEERS) + len(
        [view for view in marts.VIEWS if view.startswith("peers.")]), counts
    assert len(counts) >= 25 + len(marts.PEERS), counts
    assert re.search(r"VALIDATION PASSED: (\d+) of \1 expectations met over 19 tables", first.stdout)
    # Each step's time, for a reader and for bench.demo (Steps).
    [steps] = [line for line in first.stdout.splitlines() if line.startswith(Steps.PREFIX)]
    assert list(Steps.parse(steps)) == ["up", "deploy", "generate", "check", "drills", "peers",
                                             "savepoints", "warehouse"], steps
    assert "(viewable offline)" in first.stdout  # Data Docs load nothing from a CDN

    assert f"Dashboard:     {platform.dashboard_url}" in first.stdout

    # The drill is the first run's. `--keep` (make demo KEEP=1) then feeds live events until
    # stopped, and the dashboard shows them.
    second = subprocess.Popen([str(VENV_BIN / "streamlab"), "demo", "--no-drill", "--keep", "--rate", "200"],
                              env=env_for(platform), cwd=REPO, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in second.stdout:
        lines.append(line)
        if line.startswith("-> live events"):
            break
    before = _newest_window(platform)
    deadline = time.monotonic() + 90
    while _newest_window(platform) <= before:  # a window of the live events reached the dashboard
        assert second.poll() is None and time.monotonic() < deadline, "".join(lines)
        time.sleep(0.5)
    second.terminate()  # what Ctrl-C does: the events stop, the platform stays
    out = "".join(lines) + second.stdout.read()
    assert second.wait(30) == 0, out[-3000:]
    assert "reusing them" in out and "DRILL" not in out
    assert "RESULT: every output equals the oracle" in out
    assert "PEERS: every Kafka Streams output equals the oracle" in out
    assert "VALIDATION PASSED" in out
    assert "live events stopped" in out
    assert httpx.get(f"{platform.dashboard_url}/api/health").json()["restored"]


def _newest_window(settings) -> int:
    categories = httpx.get(f"{settings.dashboard_url}/api/categories").json()
    return max(c["latest"]["window_start_ms"] for c in categories if c["latest"])


PLANTED = {  # rule class: (table, the bad row as an UPDATE of a copied row, the name a failure shows)
    "not_null": ("marts.revenue_1m", "revenue_cents = NULL, window_start_time = window_start_time - "
                 "INTERVAL 60 DAY, window_end_time = window_end_time - INTERVAL 60 DAY", None),
    "range": ("marts.alerts", "amount_cents = -5, alert_id = 'planted-range'", None),
    "order": ("marts.sessions", "first_activity_time = last_activity_time + INTERVAL 1 HOUR", None),
    "unique": ("marts.trading_periods", "orders = orders", None),  # an exact duplicate
    "allowed": ("marts.alerts", "rule = 'made-up', alert_id = 'planted-allowed'", None),
    "reconcile": ("marts.revenue_1m", "window_start_time = window_start_time - INTERVAL 30 DAY, "
                  "window_end_time = window_end_time - INTERVAL 30 DAY",
                  "revenue_1m revenue = valid orders - late orders"),
}


def test_validation_names_each_planted_bad_row(platform, demo, tmp_path):
    assert set(PLANTED) == set(expectations.RULE_CLASSES)  # one bad row per rule class
    copy = tmp_path / "planted.duckdb"
    shutil.copyfile(warehouse.replica_path(platform), copy)
    for offset, kind in enumerate(PLANTED, start=1):
        _plant(copy, kind, offset)
    result = streamlab(platform, "validate", "--file", str(copy), "--no-docs")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("VALIDATION FAILED")
    lines = result.stdout.splitlines()
    assert len([line for line in lines if "-- failed on" in line]) == len(PLANTED), result.stdout
    for offset, (kind, (table, _, name)) in enumerate(PLANTED.items(), start=1):
        shown = name or "row_id=planted:"  # the planted row's id (its Kafka origin), or the check
        reported = "reconciliation" if kind == "reconcile" else table
        found = [line for line in lines if line.strip().startswith(f"{reported}: [{kind}]") and shown in line
                 and (name or f"@-{offset}") in line]
        assert found, f"{kind} on {table} not reported:\n{result.stdout}"
    # Clean again, the same copy passes (the demo's own run passed on the published file).
    with duckdb.connect(str(copy)) as con:
        for table, _, _ in PLANTED.values():
            con.execute(f"DELETE FROM {table} WHERE kafka_topic = 'planted'")
    assert streamlab(platform, "validate", "--file", str(copy), "--no-docs").returncode == 0


def _guide_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", GUIDE.read_text(), re.S)


def test_every_query_of_the_analyst_guide_answers(platform, demo):
    queries = _guide_queries()
    assert len(queries) >= 10
    for sql in queries:
        columns, rows = analyst.run_query(platform, sql)
        assert rows, f"no rows from:\n{sql}"


def test_the_duckdb_cli_opens_the_warehouse_and_runs_a_guide_query(platform, demo):
    result = subprocess.run(
        [str(VENV_BIN / "duckdb"), "-readonly", "-csv", str(warehouse.replica_path(platform)),
         "-c", _guide_queries()[0]], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header == "hour,category,revenue_eur,orders" and len(rows) >= 3
    version = subprocess.run([str(VENV_BIN / "duckdb"), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("v1.")  # a 1.x CLI reads the file (storage v1.0.0)


def _plant(path, kind: str, offset: int = 1) -> None:
    table, change, _ = PLANTED[kind]
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TEMP TABLE planted AS SELECT * FROM {table} LIMIT 1")
        con.execute(f"UPDATE planted SET kafka_topic = 'planted', kafka_offset = -{offset}, {change}")
        con.execute(f"INSERT INTO {table} SELECT * FROM planted")


def test_the_demo_ran_each_operation_as_a_dag_run_through_the_scheduler(platform, demo):
    """Deploy, drill, backup and load were runs of the real scheduler and LocalExecutor, listed
    by Airflow's REST API as successful, each printed with its address in the UI."""
    client = AirflowRest(platform)
    try:
        for dag_id in ("deploy_streaming_jobs", "recovery_drill", "savepoint_backup", "load_and_validate"):
            runs = [run for run in client.runs(dag_id, limit=100) if run["run_type"] == "manual"]
            assert runs and all(run["state"] == "success" for run in runs), (dag_id, runs)
            assert client.run_url(dag_id, runs[-1]["dag_run_id"]) in demo.stdout, dag_id
            assert {task.state for task in client.tasks(dag_id, runs[-1]["dag_run_id"])} <= {"success", "skipped"}
    finally:
        client.close()
    # What the runs did is in the catalog: every job's savepoint (with the release it holds),
    # the drill, the validations.
    saved = ops.latest_savepoints(platform)
    assert set(saved) == set(lessons.BY_KEY)
    assert all(row["release"] for row in ops.savepoints(platform))
    drilled = ops.latest_drills(platform)
    assert drilled["taskmanager-kill"]["passed"] and drilled["kstreams-instance-kill"]["passed"]
    with warehouse.reader(platform) as con:
        runs = con.execute("SELECT count(DISTINCT run_id), bool_and(success) FROM ops.validations").fetchall()[0]
    assert runs[0] >= 2 and runs[1]  # the demo's two runs, both passed


def test_a_failed_expectation_fails_the_dag_run(dag_settings, airflow_db, demo, tmp_path, monkeypatch, capsys):
    """A warehouse of its own (the demo's, one bad row planted), loading from the same broker."""
    state = tmp_path / "state"
    (state / "warehouse").mkdir(parents=True)
    primary = state / "warehouse" / "primary.duckdb"
    shutil.copyfile(warehouse.replica_path(dag_settings), primary)
    _plant(primary, "allowed")
    monkeypatch.setenv("STREAMLAB_STATE_DIR", str(state))
    run = run_dag("load_and_validate", capsys)
    assert run.state == "failed"
    assert run.task_states == {"load": "success", "validate": "failed"}, run.errors
