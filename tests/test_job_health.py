"""A job that fails on every attempt cannot hide: planted on the session platform, its restart
loop shows on `streamlab status` (and `--json`), on the dashboard's /api/health, in its alert
feed, and reaches the webhook, within a minute (issue 17, acceptance 3). A lesson's release that
loops is rolled back by the job_health DAG (issue 19)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from streamlab import lessons, warehouse
from streamlab.apps import operations
from streamlab.config import Settings
from streamlab.data import generator, producer
from streamlab.jobs import deploy, drills, jobhealth, ops, releases, rollout
from streamlab.runtime import flink_cluster, processes
from streamlab.runtime.flink_rest import FlinkRest
from conftest import REPO, VENV_BIN, assert_equals_oracle, env_for, run_job, streamlab

pytestmark = pytest.mark.platform
SHOWN_WITHIN_S = 60
NAME = "streamlab-test-crash-loop"
# Every record fails the cast, so every attempt fails: a poison record that never goes away.
CRASH_LOOP_JOB = f"""
from pyflink.table import EnvironmentSettings, TableEnvironment
env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
env.get_config().set("pipeline.name", "{NAME}")
env.execute_sql("CREATE TABLE numbers (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '5')")
env.execute_sql("CREATE TABLE nowhere (n INT) WITH ('connector' = 'blackhole')")
env.execute_sql("INSERT INTO nowhere SELECT CAST(CAST(n AS STRING) || ' is no number' AS INT) FROM numbers")
"""


class Webhook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        Webhook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def crash_loop(platform, tmp_path):
    script = tmp_path / "crash_loop.py"
    script.write_text(CRASH_LOOP_JOB)
    result = subprocess.run(
        [str(flink_cluster.FLINK_HOME / "bin" / "flink"), "run", "-d", "-py", str(script),
         "-pyclientexec", sys.executable, "-pyexec", sys.executable],
        env=flink_cluster.flink_env(platform), capture_output=True, text=True, timeout=180)
    job_id = re.search(r"JobID ([0-9a-f]{32})", result.stdout)
    assert job_id, result.stdout + result.stderr
    yield job_id.group(1), time.monotonic()
    FlinkRest(platform.flink_rest_url).cancel(job_id.group(1))


@contextmanager
def dashboard_with_webhook(platform, state: Path) -> Iterator[tuple[Settings, subprocess.Popen]]:
    """A dashboard of its own, its state (the alerts it sent, the warehouse it reads the ops
    catalog from) under ``state``, whose alerts go to ``Webhook``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = platform.model_copy(update={"state_dir": state, "dashboard_port": processes.free_ports(1)[0],
                                           "webhook_url": f"http://127.0.0.1:{server.server_port}/alerts"})
    page = subprocess.Popen([str(VENV_BIN / "streamlab"), "dashboard"],
                            env=env_for(settings, STREAMLAB_WEBHOOK_URL=settings.webhook_url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield settings, page
    finally:
        page.terminate()
        page.wait(30)
        server.shutdown()


def wait_for_alert(alert_id: str, page: subprocess.Popen, since: float) -> dict:
    while not (sent := [a for a in Webhook.received if a["alert_id"] == alert_id]):
        assert time.monotonic() - since < SHOWN_WITHIN_S, f"alert {alert_id} did not reach the webhook"
        assert page.poll() is None, "the dashboard exited"
        time.sleep(0.5)
    return sent[0]


def test_a_restart_loop_shows_on_status_health_and_the_dashboard_and_raises_an_alert(platform, demo, crash_loop,
                                                                                      tmp_path):
    job_id, submitted = crash_loop
    with dashboard_with_webhook(platform, tmp_path / "state") as (settings, page):
        wait_for_alert(f"restart-loop:{NAME}:{job_id}", page, submitted)
        health = httpx.get(f"{settings.dashboard_url}/api/health", timeout=10).json()
        row = next(r for r in health["jobs"] if r["job_id"] == job_id)
        assert row["restart_loop"] and row["restarts"] >= 3, row
        assert "NumberFormatException" in row["last_failure"] or "is no number" in row["last_failure"], row
        feed = httpx.get(f"{settings.dashboard_url}/api/alerts", timeout=10).json()
        assert any(a["rule"] == "restart-loop" and a["job"] == NAME for a in feed), feed

    shown = json.loads(streamlab(platform, "status", "--json").stdout)
    row = next(r for r in shown["flink"]["jobs"] if r["job_id"] == job_id)
    assert row["restart_loop"] and row["last_failure"], row
    text = streamlab(platform, "status").stdout
    assert "RESTART LOOP" in text and "last failure" in text, text
    # The lessons' jobs on the same cluster are well, and say so.
    assert all(not r["restart_loop"] for r in shown["flink"]["jobs"] if r["name"] != NAME)


# The bad release: the clicks' branch casts each user id to a number, which fails on every click,
# so the job fails on the first click it reads and again after every restart.
CLICKS_OUT = '"INSERT INTO clicks_out SELECT * FROM clicks_clean"'
POISON = ('"INSERT INTO clicks_out SELECT event_id, CAST(CAST(user_id || \' is no number\' AS INT) AS STRING), '
          'page_type, path, product_id, device, ts_ms FROM clicks_clean"')
HEALED = "lesson14-stateless"


def bad_release(platform, tmp_path) -> releases.Release:
    code = tmp_path / "code"
    shutil.copytree(REPO / "flink_jobs", code / "flink_jobs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "streamlab", code / "streamlab", ignore=shutil.ignore_patterns("__pycache__"))
    spec = lessons.get(HEALED)
    job = code / spec.script
    source = job.read_text()
    assert CLICKS_OUT in source
    job.write_text(source.replace(CLICKS_OUT, POISON, 1))
    return releases.build(platform.state, HEALED, code, spec.script, deploy.job_args(platform))


def test_the_health_dag_rolls_a_crash_looping_release_back_and_the_outputs_equal_the_oracle(platform, demo, tmp_path):
    """Issue 19, acceptance 3: a release that passed its start and then fails on every click,
    found by a job_health run of the real scheduler, rolled back to the release before it from
    the savepoint it was upgraded from; the job then processes the clicks, exactly."""
    spec, rest = lessons.get(HEALED), FlinkRest(platform.flink_rest_url)
    good = deploy.fingerprint(rest, rest.running_job(spec.name)["jid"])
    bad = bad_release(platform, tmp_path)
    assert bad.fingerprint != good
    # An upgrade as rollout makes it, less its health check: the state at the stop, the new code.
    point = ops.backup(platform, HEALED, stop=True)
    assert point.release == good
    # (The clicks' sources keep their offsets either way: their state, or the group's commit at the stop.)
    bad_job = deploy.deploy(platform, HEALED, from_path=point.path, code=bad,
                            options={"execution.state-recovery.ignore-unclaimed-state": "true"})
    data = drills.next_data_set(platform, seed=int(time.time()), count=3000)
    producer.produce([r for r in generator.generate(data) if r.topic == "clicks"], platform.bootstrap_servers,
                     progress=False)
    deadline = time.monotonic() + 120
    while not jobhealth.job_row(rest, rest.job(bad_job) | {"jid": bad_job})["restart_loop"]:
        assert time.monotonic() < deadline, "the bad release did not loop within 120 s"
        time.sleep(1)

    assert operations.run_dag(platform, "job_health", print), "the job_health run failed"

    [action] = [a for a in ops.health_actions(platform) if a.job_id == bad_job]
    assert (action.finding, action.action) == ("restart-loop", "rolled-back"), action
    assert (action.release, action.rolled_back_to, action.savepoint) == (bad.fingerprint, good, str(point.path))
    running = rest.running_job(spec.name)
    assert running["jid"] != bad_job and deploy.fingerprint(rest, running["jid"]) == good
    run_job(platform, HEALED, [])  # caught up on the clicks
    assert_equals_oracle(platform, lessons.oracle(HEALED).check)
    # The deploy DAG does not roll the bad code out again; status shows what happened.
    plan = rollout.plan(platform.model_copy(update={"code_dir": tmp_path / "code"}), [HEALED])
    assert plan.due == [] and "rolled back by job_health" in plan.left[0]
    shown = streamlab(platform, "status").stdout
    assert f"{HEALED}" in shown and "ROLLED-BACK  restart-loop" in shown and f"-> {good}" in shown
    # A dashboard raises it as an alert and sends it to the webhook (reading a copy of the catalog).
    state = tmp_path / "state"
    copy = warehouse.replica_path(platform.model_copy(update={"state_dir": state}))
    copy.parent.mkdir(parents=True)
    shutil.copyfile(warehouse.replica_path(platform), copy)
    with dashboard_with_webhook(platform, state) as (settings, page):
        alert = wait_for_alert(f"restart-loop:{spec.name}:{bad_job}", page, time.monotonic())
    assert alert["action"] == "rolled-back" and f"to {good}" in alert["detail"], alert
