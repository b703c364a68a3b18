"""Alerts that reach a person: a log line per alert and a webhook, each alert sent once.

The notifier has its own consumer group (``streamlab-dashboard-notify-<id of the state dir>``,
so its progress and the ids it sent are one state). On its very first
start it begins at the end of the alerts topic (history is not news); afterwards it resumes
where it left off, so alerts raised while the dashboard was down are still sent. An alert's
offset is committed only after the webhook accepted it, and the ids of accepted alerts are
kept in ``<state>/dashboard/notified.txt``: a crash between the two sends nothing twice.
A failed POST is retried with exponential backoff (capped), in order, for as long as it takes;
the receiver also gets the alert id as ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, KafkaException, TopicPartition

from streamlab.apps.dashboard.views import SEVERITIES, readable
from streamlab.config import Settings
from streamlab.data import records

TOPIC = "alerts"
FIRST_RETRY_S, MAX_RETRY_S = 0.5, 30.0
log = logging.getLogger("streamlab.alerts")


def notified_path(settings: Settings) -> Path:
    return settings.state / "dashboard" / "notified.txt"


def group_id(settings: Settings) -> str:
    return f"streamlab-dashboard-notify-{hashlib.sha1(str(settings.state).encode()).hexdigest()[:10]}"


# --8<-- [start:worth_sending]
def worth_sending(alert: dict[str, Any], settings: Settings) -> bool:
    """The configured thresholds: every alert is shown and logged, these are also sent."""
    amount = alert.get("amount_cents")
    return (SEVERITIES.index(alert["severity"]) >= SEVERITIES.index(settings.alert_min_severity)
            and (amount if records.is_int(amount) else 0) >= settings.alert_min_amount_cents)
# --8<-- [end:worth_sending]


class Notifier(threading.Thread):
    def __init__(self, settings: Settings) -> None:
        super().__init__(name="dashboard-notify", daemon=True)
        self.settings = settings
        self.path = notified_path(settings)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.sent: set[str] = set(self.path.read_text().split()) if self.path.exists() else set()
        self.attempts = 0
        self.skipped = 0  # records on the alerts topic that are not alerts
        self.last_error: str | None = None
        self.ready = threading.Event()  # assigned: from here on, no alert is missed
        self._stopping = threading.Event()
        self._raised: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()  # platform alerts (``submit``)
        self._http = httpx.Client(timeout=10.0)

    def stop(self) -> None:
        self._stopping.set()

    def submit(self, alert: dict[str, Any]) -> None:
        """An alert the dashboard raised itself (not from the alerts topic): handled in order
        with the others, on this thread, and sent once like them (``notified.txt``)."""
        self._raised.put(alert)

    def status(self) -> dict[str, Any]:
        return {"webhook": self.settings.webhook_url is not None, "ready": self.ready.is_set(),
                "alive": self.is_alive(), "sent": len(self.sent), "attempts": self.attempts,
                "skipped": self.skipped, "last_error": self.last_error}

    # --8<-- [start:notify_loop]
    def run(self) -> None:
        consumer = Consumer({
            "bootstrap.servers": self.settings.bootstrap_servers, "group.id": group_id(self.settings),
            "enable.auto.commit": False, "isolation.level": "read_committed",
            "auto.offset.reset": "latest", "log_level": 0,
            "session.timeout.ms": 10_000,  # after a crash, a restart takes the partitions back soon
        })
        consumer.subscribe([TOPIC], on_assign=lambda c, parts: self._assigned(c, parts))
        try:
            while not self._stopping.is_set():
                while not self._raised.empty():
                    self._handle_safely(self._raised.get())
                msg = consumer.poll(0.2)
                if msg is None or msg.error() is not None:
                    continue
                alert = readable(TOPIC, msg.value())
                if alert is None:  # not an alert: say so, go on
                    self.skipped += 1
                    log.error("skipped record %s/%d@%d: not an alert", msg.topic(), msg.partition(), msg.offset())
                else:
                    self._handle_safely(alert)
                self._commit(consumer, TopicPartition(msg.topic(), msg.partition(), msg.offset() + 1))
        finally:
            consumer.close()
    # --8<-- [end:notify_loop]

    def _handle_safely(self, alert: dict[str, Any]) -> None:
        """``_handle``, whose failure (a full disk, a bug) is logged and shown on /api/health
        instead of ending the thread: the alerts after it still go out."""
        try:
            self._handle(alert)
        except Exception as err:  # noqa: BLE001 - the thread must outlive any one alert
            self.last_error = f"{alert['alert_id']}: {type(err).__name__}: {err}"
            log.exception("alert %s not handled", alert["alert_id"])

    def _commit(self, consumer: Consumer, position: TopicPartition) -> None:
        """A commit that fails (the broker restarting) is not fatal: the next one covers it, and
        an alert handled again in between is not sent twice (``notified.txt``)."""
        try:
            consumer.commit(offsets=[position], asynchronous=False)
            self.last_error = None
        except KafkaException as err:
            self.last_error = f"commit failed: {err}"
            log.warning("alerts offset %d not committed (%s); the next commit covers it", position.offset, err)

    # --8<-- [start:first_start]
    def _assigned(self, consumer: Consumer, parts: list[TopicPartition]) -> None:
        """Pin "latest" on a first start: commit the end offsets, so a restart resumes from here."""
        committed = consumer.committed(parts, timeout=10)
        fresh = [tp for tp in committed if tp.offset < 0]
        if fresh:
            ends = [TopicPartition(tp.topic, tp.partition, consumer.get_watermark_offsets(tp, timeout=10)[1])
                    for tp in fresh]
            consumer.commit(offsets=ends, asynchronous=False)
            for tp in ends:
                for part in parts:
                    if (part.topic, part.partition) == (tp.topic, tp.partition):
                        part.offset = tp.offset
        consumer.assign(parts)
        self.ready.set()
    # --8<-- [end:first_start]

    # --8<-- [start:handle]
    def _handle(self, alert: dict[str, Any]) -> None:
        alert_id = alert["alert_id"]
        line = (f"ALERT {alert['severity'].upper()} {alert['rule']} card {alert['card_id']} "
                f"amount {alert.get('amount_cents')} cents: {alert.get('detail')} ({alert_id})")
        if alert_id in self.sent:
            log.info("%s -> already sent, not again", line)
        elif self.settings.webhook_url is None:
            log.info("%s -> logged (no webhook configured)", line)
        elif not worth_sending(alert, self.settings):
            log.info("%s -> below the thresholds, not sent", line)
        else:
            attempts = self._post(alert)
            log.info("%s -> webhook accepted it (attempt %d)", line, attempts)
    # --8<-- [end:handle]

    # --8<-- [start:post_with_retries]
    def _post(self, alert: dict[str, Any]) -> int:
        """Until the receiver answers 2xx; returns the attempts it took."""
        delay, attempt = FIRST_RETRY_S, 0
        while True:
            attempt += 1
            self.attempts += 1
            try:
                response = self._http.post(self.settings.webhook_url, json=alert,
                                           headers={"Idempotency-Key": alert["alert_id"]})
                if response.is_success:
                    self._remember(alert["alert_id"])
                    return attempt
                problem = f"HTTP {response.status_code}"
            except (httpx.HTTPError, httpx.InvalidURL) as err:
                problem = f"{type(err).__name__}: {err}"
            log.warning("webhook attempt %d for %s failed (%s); retrying in %.1fs",
                        attempt, alert["alert_id"], problem, delay)
            if self._stopping.wait(delay):
                raise SystemExit  # shutting down: the offset stays uncommitted, a restart resends
            delay = min(delay * 2, MAX_RETRY_S)

    def _remember(self, alert_id: str) -> None:
        self.sent.add(alert_id)
        with open(self.path, "a") as out:
            out.write(alert_id + "\n")
            out.flush()
            os.fsync(out.fileno())
    # --8<-- [end:post_with_retries]
