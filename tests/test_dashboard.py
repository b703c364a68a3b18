"""Lesson 17's dashboard on the session platform after the demo (every lesson's job running):
the query API against the topics it restores from, live updates over the WebSocket, a real
headless Chromium on the page, and the alert webhook."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from streamlab import lessons
from streamlab.apps.dashboard import notify
from streamlab.apps.dashboard import service as dashboard
from streamlab.apps.dashboard.security import token_path
from streamlab.config import Settings
from streamlab.data import generator, kafka_io, producer, stores
from streamlab.jobs import jobwatch
from streamlab.runtime import processes
from streamlab.runtime.browser import Browser
from conftest import VENV_BIN, env_for

pytestmark = pytest.mark.platform
ALERT_SHOWN_WITHIN_S = 60  # the stated time: trigger payment produced -> alert on the page


def _get(settings: Settings, path: str, **params) -> httpx.Response:
    return httpx.get(f"{settings.dashboard_url}{path}", params=params, timeout=10)


def _spec(settings: Settings, seed: int, count: int = 3000) -> generator.GeneratorSpec:
    """A data set after everything already produced, with more fraud bursts than usual."""
    return generator.GeneratorSpec(seed=seed, count=count, fraud_fraction=0.05,
                                   start_ms=kafka_io.next_start_ms(settings.bootstrap_servers))


class StampedProducer(threading.Thread):
    """Produces a data set at a steady rate, noting when each payment was handed to Kafka."""

    def __init__(self, settings: Settings, spec: generator.GeneratorSpec, rate: float) -> None:
        super().__init__(daemon=True)
        self.settings, self.spec, self.rate = settings, spec, rate
        self.produced_ms: dict[str, int] = {}
        self.started_ms = int(time.time() * 1000)

    def _records(self):
        for record in generator.generate(self.spec):
            if record.topic == "payments" and record.kind == "valid":
                self.produced_ms[json.loads(record.value)["payment_id"]] = int(time.time() * 1000)
            yield record

    def run(self) -> None:
        producer.produce(self._records(), self.settings.bootstrap_servers, rate=self.rate, progress=False)


def test_views_restore_from_the_topics_and_answer_like_them(platform, demo):
    dashboard.stop(platform)
    dashboard.start(platform)  # waits until the views are restored from the topics
    health = _get(platform, "/api/health").json()
    while "jobs" not in health:  # the first health check runs alongside the restore
        time.sleep(0.5)
        health = _get(platform, "/api/health").json()
    assert health["restored"] and health["records"] > 20_000, health
    assert (platform.state / "logs" / "dashboard.out").exists()
    assert {job["state"] for job in health["jobs"]} == {"RUNNING"}
    assert all(job["last_checkpoint"] and job["lag"] == 0 for job in health["jobs"]), health["jobs"]
    bootstrap = platform.bootstrap_servers

    customers = stores.restored(bootstrap, "customer-orders").values
    for customer_id in sorted(customers)[:5]:
        assert _get(platform, f"/api/customers/{customer_id}").json() == {"customer_id": customer_id,
                                                                         **customers[customer_id]}

    windows: dict[str, list[dict]] = {}
    for message in kafka_io.read_all(bootstrap, "l15-revenue-1m"):
        row = json.loads(message.value)
        windows.setdefault(row["category"], []).append(row)
    for category, rows in windows.items():
        rows.sort(key=lambda r: r["window_start_ms"], reverse=True)
        answer = _get(platform, f"/api/categories/{category}/revenue").json()
        assert (answer["latest"], answer["previous"]) == (rows[0], rows[1])

    sales = stores.restored(bootstrap, "product-sales").values
    products = {m.key.decode(): json.loads(m.value) for m in kafka_io.read_all(bootstrap, "products")}
    category = sorted(windows)[0]
    listed = _get(platform, f"/api/categories/{category}/products", limit=200).json()["products"]
    assert {p["product_id"] for p in listed} == {k for k, p in products.items() if p.get("category") == category}
    assert all(p["revenue_cents"] == sales[p["product_id"]]["revenue_cents"] for p in listed if p["product_id"] in sales)

    by_card: dict[str, list[dict]] = {}
    for message in kafka_io.read_all(bootstrap, "alerts"):
        row = json.loads(message.value)
        by_card.setdefault(row["card_id"], []).append(row)
    card, alerts = max(by_card.items(), key=lambda item: len(item[1]))
    answer = _get(platform, f"/api/cards/{card}/alerts").json()["alerts"]
    assert [a["alert_id"] for a in answer] == [a["alert_id"] for a in reversed(alerts)][:20]
    newest = alerts[-1]  # the view keeps a card's last 20: with four rules the busiest card has more
    detail = _get(platform, f"/api/alerts/{newest['alert_id']}").json()
    assert {k: detail[k] for k in newest} == newest  # the evidence: payments, countries, amount
    assert {a["alert_id"] for a in detail["card_alerts"]} <= {a["alert_id"] for a in alerts}

    sessions: dict[str, dict] = {}
    for message in kafka_io.read_all(bootstrap, "l15-sessions"):
        row = json.loads(message.value)
        sessions[row["user_id"]] = row
    user = sorted(sessions)[0]
    assert _get(platform, f"/api/users/{user}/session").json()["last_closed"] == sessions[user]


@pytest.mark.parametrize(("path", "params", "status", "says"), [
    ("/api/categories/no-such-category/revenue", {}, 404, "no revenue windows for category 'no-such-category'"),
    ("/api/categories/no-such-category/products", {}, 404, "no products in category"),
    ("/api/customers/c-999999", {}, 404, "no orders for customer 'c-999999'"),
    ("/api/users/c-999999/session", {}, 404, "no session for user"),
    ("/api/cards/card-999999/alerts", {}, 404, "no alerts for card"),
    ("/api/alerts/no-such-alert", {}, 404, "no alert 'no-such-alert'"),
    ("/api/customers/bob", {}, 400, "bad customer_id 'bob': expected the form c-0042"),
    ("/api/cards/1234/alerts", {}, 400, "bad card_id '1234'"),
    ("/api/categories/books/revenue", {"windows": "0"}, 400, "bad parameter windows"),
    ("/api/alerts", {"limit": "many"}, 400, "bad parameter limit"),
    ("/api/alerts", {"min_severity": "urgent"}, 400, "bad parameter min_severity"),
])
def test_unknown_keys_are_404_and_bad_parameters_400_with_a_message(platform, demo, path, params, status, says):
    response = _get(platform, path, **params)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]


def test_writes_need_the_token_which_the_page_never_carries(platform, demo):
    alert_id = _get(platform, "/api/alerts", limit=1).json()[0]["alert_id"]
    url = f"{platform.dashboard_url}/api/alerts/{alert_id}/ack"
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    token = token_path(platform).read_text().strip()
    assert stat.S_IMODE(token_path(platform).stat().st_mode) == 0o600
    assert httpx.post(url, headers={"Authorization": f"Bearer {token}"}).json()["acknowledged"]
    assert _get(platform, f"/api/alerts/{alert_id}").json()["acknowledged"]
    page = _get(platform, "/").text + _get(platform, "/static/app.js").text
    assert token not in page and "Authorization" not in page
    spec = _get(platform, "/openapi.json").json()
    assert "post" in spec["paths"]["/api/alerts/{alert_id}/ack"] and len(spec["paths"]) >= 10
    assert _get(platform, "/docs").status_code == 404  # Swagger UI would come from a CDN


def test_live_updates_resume_and_a_client_that_never_reads_slows_no_one(platform, demo):
    ws_url = f"ws://{platform.host}:{platform.dashboard_port}/ws"
    dropped_before = httpx.get(f"{platform.dashboard_url}/api/health", timeout=10).json()["dropped"]
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect((platform.host, platform.dashboard_port))
    never_reads = connect(ws_url, sock=stalled, ping_interval=None, close_timeout=1)
    feed = StampedProducer(platform, _spec(platform, seed=1761), rate=300)
    received: list[dict] = []
    delays: list[int] = []  # received - published, for updates published while connected
    connected_ms = 0

    deadline = time.monotonic() + 180

    def read(ws, until) -> None:
        while not until():
            assert time.monotonic() < deadline, Counter(m["type"] for m in received)
            try:
                message = json.loads(ws.recv(timeout=60))
            except TimeoutError:
                pytest.fail(f"no update for 60s; received {len(received)}")
            if message["sent_ms"] >= connected_ms:
                delays.append(int(time.time() * 1000) - message["sent_ms"])
            received.append(message)

    first = connect(ws_url, close_timeout=1)
    connected_ms = int(time.time() * 1000)
    feed.start()
    read(first, lambda: sum(m["type"] == "window" for m in received) >= 20)
    first.close()  # the page reloads, the network drops: it reconnects from the last seq it saw
    again = connect(f"{ws_url}?since={received[-1]['seq']}")
    connected_ms = int(time.time() * 1000)  # what it missed meanwhile comes first, late by design
    read(again, lambda: sum(m["type"] == "alert" for m in received) >= 1
         and sum(m["type"] == "window" for m in received) >= 60)
    # The stalled client really was subscribed all along: still there (its updates pile up in
    # its own queue and the socket buffers) or dropped once its queue was full.
    hub = httpx.get(f"{platform.dashboard_url}/api/health", timeout=10).json()
    assert hub["clients"] >= 2 or hub["dropped"] > dropped_before, hub
    again.close()
    feed.join()
    never_reads.close()

    seqs = [m["seq"] for m in received]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap or a repeat across the reconnect"
    delays.sort()
    # Window and alert updates reached the reading client at once, the stalled one notwithstanding.
    assert delays[len(delays) // 2] < 200 and delays[-1] < 1000, delays[-10:]


def test_the_page_shows_live_windows_and_a_planted_fraud_alert(platform, demo, tmp_path):
    browser = Browser(tmp_path / "chromium")
    try:
        browser.goto(platform.dashboard_url)
        browser.wait_for("document.querySelector('#connection').textContent === 'live'")
        before = browser.eval("document.querySelector('#latest-window').textContent")
        known = set(browser.eval("Object.keys(window.streamlab.alerts)"))
        feed = StampedProducer(platform, _spec(platform, seed=1762), rate=300)
        feed.start()
        browser.wait_for(f"window.streamlab.windows > 0 && document.querySelector('#latest-window')"
                         f".textContent !== {json.dumps(before)}", timeout_s=60)
        assert browser.eval("Chart.getChart('revenue-chart').data.datasets.length") >= 3
        # A planted fraud burst's payments (ids ending -f<n>) raise an alert on the page.
        planted = browser.wait_for(
            f"Object.keys(window.streamlab.alerts).filter(id => id.includes('-f') && !{json.dumps(sorted(known))}"
            ".includes(id))", timeout_s=feed.spec.count / feed.rate + ALERT_SHOWN_WITHIN_S)
        feed.join()
        time.sleep(3)  # the last alerts of the data set: its closing heartbeat moves event time on
        shown = browser.eval("window.streamlab.alerts")
        latency_s = sorted((shown[alert_id] - feed.produced_ms[alert_id.split(":", 1)[1]]) / 1000
                           for alert_id in set(shown) - known if alert_id.split(":", 1)[1] in feed.produced_ms)
        assert latency_s and latency_s[-1] < ALERT_SHOWN_WITHIN_S, latency_s
        (tmp_path / "latency.json").write_text(json.dumps({
            "alerts": len(latency_s), "p50_s": latency_s[len(latency_s) // 2],
            "p90_s": latency_s[int(len(latency_s) * 0.9)], "max_s": latency_s[-1]}))

        # Drill-down: a category to its products, an alert to its evidence.
        browser.eval("document.querySelector('#categories li').click()")
        browser.wait_for("document.querySelectorAll('#products td').length > 0")
        browser.eval(f"document.querySelector('[data-alert-id=\"{planted[0]}\"]').click()")
        payment = planted[0].split(":", 1)[1]
        browser.wait_for(f"document.querySelector('#evidence').textContent.includes({json.dumps(payment)})")
        browser.wait_for("document.querySelectorAll('#health tbody tr').length === 7")
        assert "RUNNING" in browser.eval("document.querySelector('#health').textContent")
        shot = browser.screenshot(tmp_path / "dashboard.png")
        assert shot.stat().st_size > 20_000
        assert not browser.console, browser.console
        # The page loads nothing from anywhere but the dashboard (no CDN).
        sources = browser.eval("performance.getEntriesByType('resource').map(e => e.name)")
        assert all(s.startswith(platform.dashboard_url) or s.startswith("ws://") for s in sources), sources
    finally:
        browser.close()


def test_a_page_open_across_a_dashboard_restart_reloads_and_goes_live(platform, demo, tmp_path):
    """The new dashboard counts its updates from 1: a page that resumed with the old count would
    wait for a number the new one reaches only much later, showing nothing new meanwhile."""
    browser = Browser(tmp_path / "chromium")
    try:
        browser.goto(platform.dashboard_url)
        browser.wait_for("document.querySelector('#connection').textContent === 'live'")
        before = StampedProducer(platform, _spec(platform, seed=1764, count=1500), rate=300)
        before.start()
        browser.wait_for("window.streamlab.seq > 20", timeout_s=60)  # ahead of what a new hub sends soon
        before.join()
        epoch = browser.eval("window.streamlab.epoch")
        dashboard.stop(platform)
        dashboard.start(platform)
        browser.wait_for(f"window.streamlab.epoch !== {json.dumps(epoch)} && "
                         "document.querySelector('#connection').textContent === 'live'", timeout_s=60)
        shown = browser.eval("window.streamlab.windows")
        after = StampedProducer(platform, _spec(platform, seed=1765, count=1500), rate=300)
        after.start()
        browser.wait_for(f"window.streamlab.windows > {shown}", timeout_s=60)  # live updates again
        after.join()
        assert not browser.console, browser.console
    finally:
        browser.close()


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint that fails the first attempt for every alert."""

    attempts: Counter[str] = Counter()
    accepted: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        alert = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.headers["Idempotency-Key"] == alert["alert_id"]
        self.attempts[alert["alert_id"]] += 1
        if self.attempts[alert["alert_id"]] == 1:
            self.send_response(503)
        else:
            self.accepted.append(alert["alert_id"])
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_webhook_gets_each_alert_once_also_when_the_first_attempt_fails(platform, demo, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # A second dashboard of its own (state dir, port) with a webhook and a threshold: only high alerts.
    settings = platform.model_copy(update={"state_dir": tmp_path / "state", "dashboard_port": processes.free_ports(1)[0],
                                           "webhook_url": f"http://127.0.0.1:{server.server_port}/alerts",
                                           "alert_min_severity": "high"})
    env = env_for(settings, STREAMLAB_WEBHOOK_URL=settings.webhook_url, STREAMLAB_ALERT_MIN_SEVERITY="high")
    log = tmp_path / "dashboard.out"

    def start() -> subprocess.Popen:
        proc = subprocess.Popen([str(VENV_BIN / "streamlab"), "dashboard"], env=env,
                                stdout=open(log, "a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                if (_get(settings, "/api/health").json().get("notifier") or {}).get("ready"):
                    return proc
            except httpx.HTTPError:
                pass
            time.sleep(0.3)

    # This test's alerts are the ones after every earlier data set's: the job finishes those
    # before the dashboard starts (its notifier would send them), and then this one, so the
    # alerts read below are all there will be.
    alerts_job = lessons.get("lesson15-alerts")
    jobwatch.wait_caught_up(platform, alerts_job.name, list(alerts_job.inputs), timeout_s=300)
    proc = start()
    try:
        ends = kafka_io.end_offsets(platform.bootstrap_servers, ["alerts"])
        producer.produce(generator.generate(_spec(platform, seed=1763, count=1200)), platform.bootstrap_servers,
                         progress=False)
        jobwatch.wait_caught_up(platform, alerts_job.name, list(alerts_job.inputs), timeout_s=300)
        deadline = time.monotonic() + 120
        while True:
            new = [json.loads(m.value) for m in kafka_io.read_all(platform.bootstrap_servers, "alerts")
                   if m.offset >= ends[("alerts", m.partition)]]
            high = {a["alert_id"] for a in new if a["severity"] == "high"}
            if high and set(Receiver.accepted) == high and len(new) == _logged(log):
                break
            assert time.monotonic() < deadline, (len(new), len(high), len(Receiver.accepted))
            time.sleep(1)
        assert len(Receiver.accepted) == len(high)  # once each
        assert all(Receiver.attempts[a] == 2 for a in high)  # the first attempt failed
        assert any(a["severity"] == "medium" for a in new), "no medium alert to hold back"
        assert "below the thresholds, not sent" in log.read_text()

        # Restarted, it resumes after what it sent: nothing again.
        proc.terminate()
        proc.wait(30)
        proc = start()
        time.sleep(3)
        assert len(Receiver.accepted) == len(high)
        assert set(notify.notified_path(settings).read_text().split()) == high
    finally:
        proc.terminate()
        proc.wait(30)
        server.shutdown()


def _logged(log: Path) -> int:
    return sum(line.split(" ", 3)[2] == "streamlab.alerts" and "ALERT" in line
               for line in log.read_text().splitlines()) if log.exists() else 0
