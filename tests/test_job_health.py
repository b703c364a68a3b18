"""A job that fails on every attempt cannot hide: planted on the session platform, its restart
loop shows on `streamlab status` (and `--json`), on the dashboard's /api/health, in its alert
feed, and reaches the webhook, within a minute (issue 17, acceptance 3)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from streamlab.runtime import flink_cluster, processes
from streamlab.runtime.flink_rest import FlinkRest
from conftest import VENV_BIN, env_for, streamlab

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


def test_a_restart_loop_shows_on_status_health_and_the_dashboard_and_raises_an_alert(platform, demo, crash_loop,
                                                                                      tmp_path):
    job_id, submitted = crash_loop
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = platform.model_copy(update={"state_dir": tmp_path / "state", "dashboard_port": processes.free_ports(1)[0],
                                           "webhook_url": f"http://127.0.0.1:{server.server_port}/alerts"})
    page = subprocess.Popen([str(VENV_BIN / "streamlab"), "dashboard"],
                            env=env_for(settings, STREAMLAB_WEBHOOK_URL=settings.webhook_url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not [a for a in Webhook.received if a["alert_id"] == f"restart-loop:{NAME}:{job_id}"]:
            assert time.monotonic() - submitted < SHOWN_WITHIN_S, "no restart-loop alert reached the webhook"
            assert page.poll() is None, "the dashboard exited"
            time.sleep(0.5)
        health = httpx.get(f"{settings.dashboard_url}/api/health", timeout=10).json()
        row = next(r for r in health["jobs"] if r["job_id"] == job_id)
        assert row["restart_loop"] and row["restarts"] >= 3, row
        assert "NumberFormatException" in row["last_failure"] or "is no number" in row["last_failure"], row
        feed = httpx.get(f"{settings.dashboard_url}/api/alerts", timeout=10).json()
        assert any(a["rule"] == "restart-loop" and a["job"] == NAME for a in feed), feed
    finally:
        page.terminate()
        page.wait(30)
        server.shutdown()

    shown = json.loads(streamlab(platform, "status", "--json").stdout)
    row = next(r for r in shown["flink"]["jobs"] if r["job_id"] == job_id)
    assert row["restart_loop"] and row["last_failure"], row
    text = streamlab(platform, "status").stdout
    assert "RESTART LOOP" in text and "last failure" in text, text
    # The lessons' jobs on the same cluster are well, and say so.
    assert all(not r["restart_loop"] for r in shown["flink"]["jobs"] if r["name"] != NAME)
