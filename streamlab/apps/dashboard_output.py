"""Lesson 17's real output for the site, taken from the running dashboard at docs build time:
a message from its WebSocket, its query API's JSON and a screenshot of the page (headless
Chromium). Each is None when no dashboard answers (the platform is down): the page then says so.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

from streamlab.config import Settings
from streamlab.runtime.browser import Browser

TIMEOUT_S = 5.0
REPLAYED = 20  # the updates the hub replays to a client that resumes this far back
API_EXAMPLE = "/api/categories"


def _get(settings: Settings, path: str) -> object | None:
    try:
        response = httpx.get(settings.dashboard_url + path, timeout=TIMEOUT_S)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def pretty(value: object, max_lines: int = 30) -> str:
    """JSON as a reader reads it: indented, cut after ``max_lines`` lines."""
    lines = json.dumps(value, indent=2).splitlines()
    return "\n".join(lines[:max_lines] + (["…"] if len(lines) > max_lines else []))


def api_example(settings: Settings) -> object | None:
    """What ``GET /api/categories`` answers now."""
    return _get(settings, API_EXAMPLE)


def websocket_message(settings: Settings) -> dict | None:
    """One update as the WebSocket pushes it: the newest ``window`` update the hub still keeps
    (resumed with ``?since=``), else the newest ``alert``, else the newest of any kind."""
    snapshot = _get(settings, "/api/snapshot?windows=1")
    if not isinstance(snapshot, dict):
        return None
    since = max(0, snapshot["seq"] - REPLAYED)
    url = f"ws://{settings.host}:{settings.dashboard_port}/ws?since={since}&epoch={snapshot['epoch']}"
    messages: list[dict] = []
    try:
        with connect(url, additional_headers={"Origin": settings.dashboard_url}, open_timeout=TIMEOUT_S) as ws:
            deadline = time.monotonic() + TIMEOUT_S
            while len(messages) < snapshot["seq"] - since and time.monotonic() < deadline:
                messages.append(json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic()))))
    except (OSError, TimeoutError, ValueError):
        pass
    for kind in ("window", "alert"):
        if any(m["type"] == kind for m in messages):
            return [m for m in messages if m["type"] == kind][-1]
    return messages[-1] if messages else None


def screenshot(settings: Settings, profile: Path) -> bytes | None:
    """The dashboard page once its chart has drawn, or None (no dashboard, no Chromium)."""
    if not shutil.which("chromium") or _get(settings, "/api/health") is None:
        return None
    browser = Browser(profile)
    try:
        browser.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        browser.goto(settings.dashboard_url)
        browser.wait_for("window.Chart && Chart.getChart('revenue-chart') !== undefined"
                         " && document.querySelector('#categories').children.length > 0", timeout_s=30)
        time.sleep(1)  # the last fetches of the snapshot fill the tables
        return browser.screenshot(profile / "dashboard.png").read_bytes()
    finally:
        browser.close()
