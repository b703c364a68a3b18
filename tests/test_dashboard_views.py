"""The dashboard's parts that need no platform: its views (bounded, latest value wins), the
fan-out hub (resume, reset, dropping a slow client), the alert thresholds."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from streamlab import lessons
from streamlab.apps.dashboard import notify
from streamlab.apps.dashboard.health import health_action_alert, restart_loop_alert
from streamlab.apps.dashboard.hub import Hub
from streamlab.apps.dashboard.views import SESSION_GAP_MS, Views
from streamlab.config import Settings
from streamlab.jobs.ops import HealthAction

MINUTE = 60_000


def _window(category: str, start: int, cents: int) -> bytes:
    return json.dumps({"category": category, "window_start_ms": start, "window_end_ms": start + MINUTE,
                       "orders": 1, "items": 1, "revenue_cents": cents}).encode()


def _alert(n: int, card: str = "card-0001", severity: str = "high") -> bytes:
    return json.dumps({"alert_id": f"amount-spike:pay-{n}", "rule": "amount-spike", "severity": severity,
                       "card_id": card, "ts_ms": n, "payment_ids": [f"pay-{n}"], "countries": ["DE"],
                       "amount_cents": 100, "detail": "x"}).encode()


def test_windows_are_bounded_per_category_and_a_late_update_replaces_its_window():
    views = Views(windows_per_category=3)
    for i in range(5):
        views.apply("l15-revenue-1m", b"books", _window("books", i * MINUTE, i))
    views.apply("l15-revenue-1m", b"books", _window("books", 4 * MINUTE, 99))
    assert [w["revenue_cents"] for w in views.latest_windows("books", 10)] == [99, 3, 2]
    assert views.chart(2) == {"window_starts_ms": [3 * MINUTE, 4 * MINUTE], "series": {"books": [3, 99]}}


def test_alerts_are_bounded_per_card_and_overall():
    views = Views()
    updates = [views.apply("alerts", b"card-0001", _alert(n)) for n in range(30)]
    assert all(u is not None and u.kind == "alert" for u in updates)
    ids = [a["alert_id"] for a in views.card_alerts("card-0001", 100)]
    assert ids == [f"amount-spike:pay-{n}" for n in range(29, 9, -1)]  # the newest 20
    assert views.card_alerts("card-0002", 5) is None
    views.apply("alerts", b"card-0002", _alert(100, "card-0002", "medium"))
    assert [a["card_id"] for a in views.latest_alerts(3, "high")] == ["card-0001"] * 3
    assert views.latest_alerts(1)[0]["card_id"] == "card-0002"


def test_a_store_tombstone_deletes_and_the_latest_value_wins():
    views = Views()
    views.apply("store-customer-orders", b"c-0001", b'{"orders": 1}')
    views.apply("store-customer-orders", b"c-0001", b'{"orders": 2}')
    assert views.customers["c-0001"] == {"orders": 2}
    views.apply("store-customer-orders", b"c-0001", None)
    assert "c-0001" not in views.customers


def test_an_open_visit_is_the_clicks_after_the_last_closed_session():
    views = Views()
    click = lambda ts: json.dumps({"user_id": "c-0001", "ts_ms": ts}).encode()  # noqa: E731
    for ts in (0, MINUTE, 2 * MINUTE):
        views.apply("l14-clicks", b"c-0001", click(ts))
    assert views.session("c-0001")["open"]["clicks"] == 3
    views.apply("l15-sessions", b"c-0001", json.dumps({"user_id": "c-0001", "first_activity_ms": 0,
                                                       "last_activity_ms": 2 * MINUTE}).encode())
    assert views.session("c-0001")["open"] is None  # the job closed it
    views.apply("l14-clicks", b"c-0001", click(MINUTE))  # an old click: part of the closed one
    views.apply("l14-clicks", b"c-0001", click(2 * MINUTE + SESSION_GAP_MS + 1))
    assert views.session("c-0001")["open"]["clicks"] == 1
    assert views.session("c-0002") is None


def test_a_client_that_falls_behind_is_dropped_and_the_others_get_everything():
    async def scenario() -> None:
        hub = Hub(queue_size=4, history=100)
        stalled, reading = hub.subscribe(None), hub.subscribe(None)
        got = []
        for n in range(10):
            hub.publish("window", {"n": n})
            got.append(json.loads(reading.queue.get_nowait())["data"]["n"])
        assert got == list(range(10))
        assert stalled.dropped.is_set() and stalled not in hub.clients and hub.dropped == 1
        assert stalled.queue.qsize() == 4  # it got what fitted, then was let go

        resumed = hub.subscribe(since=6)  # reconnects with the last seq it saw
        assert [json.loads(resumed.queue.get_nowait())["seq"] for _ in range(4)] == [7, 8, 9, 10]
        too_far = hub.subscribe(since=1)  # missed more than its queue holds: reload
        assert json.loads(too_far.queue.get_nowait())["type"] == "reset"

    asyncio.run(scenario())


def test_a_page_open_across_a_restart_is_told_to_reload():
    async def scenario() -> None:
        before, after = Hub(queue_size=4), Hub(queue_size=4)  # the dashboard, then its restart
        for n in range(7):
            before.publish("window", {"n": n})
        after.publish("window", {"n": 0})
        ahead = after.subscribe(since=before.seq, epoch=before.epoch)  # seq 7 of the old hub
        assert json.loads(ahead.queue.get_nowait()) | {"sent_ms": 0} == {
            "seq": 1, "type": "reset", "sent_ms": 0, "data": {"epoch": after.epoch}}
        for n in range(3):
            after.publish("window", {"n": n})
        behind = after.subscribe(since=2, epoch=before.epoch)  # a number the new hub has passed
        assert json.loads(behind.queue.get_nowait())["type"] == "reset"
        same = after.subscribe(since=2, epoch=after.epoch)
        assert [json.loads(same.queue.get_nowait())["seq"] for _ in range(2)] == [3, 4]
        no_epoch = after.subscribe(since=99)  # an API client without one: ahead is still a reset
        assert json.loads(no_epoch.queue.get_nowait())["type"] == "reset"

    asyncio.run(scenario())


@pytest.mark.parametrize(("severity", "amount", "sent"), [
    ("high", 500, True), ("medium", 500, True), ("low", 500, False), ("high", 99, False)])
def test_alert_thresholds(severity, amount, sent):
    settings = Settings(alert_min_severity="medium", alert_min_amount_cents=100)
    assert notify.worth_sending({"severity": severity, "amount_cents": amount}, settings) is sent


def test_what_job_health_did_becomes_an_alert_with_the_restart_loops_own_id():
    """So the webhook hears of a loop once, whether the dashboard or the job_health DAG saw it first."""
    action = HealthAction("lesson14-stateless", "abc123", "restart-loop", "restarted 3 times", "rolled-back",
                          "bad0", "good1", "/savepoints/x", datetime(2026, 12, 4, tzinfo=timezone.utc))
    alert = health_action_alert(action)
    name = lessons.get("lesson14-stateless").name
    assert alert["alert_id"] == restart_loop_alert({"name": name, "job_id": "abc123", "restarts": 3,
                                                    "last_failure": "x"}, 0)["alert_id"]
    assert alert["action"] == "rolled-back" and "from release bad0 to good1" in alert["detail"]
    assert alert["severity"] == "high" and alert["ts_ms"] == 1_796_342_400_000
    assert health_action_alert(replace(action, job="renamed-since"))["job"] == "renamed-since"
