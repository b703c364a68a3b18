"""The dashboard's materialised views: the latest state per key, built from output topics.

Flink 2 has no queryable state, so the dashboard does what a Kafka Streams instance does with
its stores: on start it reads each topic from the beginning (compacted topics hold the latest
value per key; the others are bounded by retention) and then follows it, answering every
lookup from memory. Each view is bounded: a fixed number of windows per category, of alerts
per card and in the feed, and one value per customer, product or user.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from flink_jobs.lesson15_windows.contract import SESSION_GAP_MIN
from streamlab.data import records

SEVERITIES = ["low", "medium", "high"]
SESSION_GAP_MS = SESSION_GAP_MIN * 60_000  # the session job's gap, from its contract
ALERTS_PER_CARD = 20
RECENT_ALERTS = 200

# --8<-- [start:topics]
TOPICS = {  # topic: what the dashboard keeps of it
    "l15-revenue-1m": "revenue per category per minute: the chart and the revenue query",
    "alerts": "fraud alerts: the feed, the evidence and the webhook",
    "l15-sessions": "each user's last closed visit",
    "l14-clicks": "each user's visit still open (clicks after the last closed one)",
    "store-customer-orders": "each customer's running stats (Lesson 16 store)",
    "store-product-sales": "each product's sales (Lesson 16 store): the category drill-down",
    "products": "product names and categories (reference data)",
}
# The fields each topic's rows must carry, with their JSON types, for a view to use them: the
# jobs always write them so, and a row another writer put there is skipped and counted.
SHAPES: dict[str, dict[str, type]] = {
    "l15-revenue-1m": {"category": str, "window_start_ms": int, "revenue_cents": int},
    "alerts": {"alert_id": str, "card_id": str, "rule": str, "severity": str},
    "l15-sessions": {"user_id": str, "first_activity_ms": int, "last_activity_ms": int},
    "l14-clicks": {"user_id": str, "ts_ms": int},
    "store-customer-orders": {},
    "store-product-sales": {"revenue_cents": int},
    "products": {"category": str},
}
# --8<-- [end:topics]


def readable(topic: str, value: bytes | None) -> dict[str, Any] | None:
    """The row a job wrote to ``topic``, or None for bytes of any other shape (``SHAPES``)."""
    row = records.json_object(value)
    if row is None or not records.has_shape(row, SHAPES.get(topic, {})):
        return None
    return None if topic == "alerts" and row["severity"] not in SEVERITIES else row


@dataclass(frozen=True)
class Update:
    """A change worth pushing to live clients."""

    kind: str  # "window" | "alert"
    data: dict[str, Any]


class Views:
    def __init__(self, windows_per_category: int = 60) -> None:
        self.windows_per_category = windows_per_category
        self.revenue: dict[str, dict[int, dict[str, Any]]] = {}  # category -> window start -> row
        self.alerts: dict[str, dict[str, Any]] = {}  # alert_id -> alert (those still referenced)
        self.alerts_by_card: dict[str, deque[str]] = {}
        self.recent_alerts: deque[str] = deque(maxlen=RECENT_ALERTS)
        self.acknowledged: set[str] = set()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.open_visits: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.product_sales: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.records = 0
        self.skipped = 0  # rows that are not what the jobs write (see SHAPES), left out

    # -- writing: one record of a topic at a time, in offset order per partition

    # --8<-- [start:apply]
    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> Update | None:
        self.records += 1
        name = key.decode("utf-8", "replace") if key is not None else None
        if value is None:  # a tombstone: the key is gone from the store
            if name is not None:
                {"store-customer-orders": self.customers, "store-product-sales": self.product_sales,
                 "products": self.products}.get(topic, {}).pop(name, None)
            return None
        row = readable(topic, value)
        if row is None:
            self.skipped += 1  # not a row a job wrote (on products: heartbeats, malformed records)
            return None
        match topic:
            case "l15-revenue-1m":
                return self._window(row)
            case "alerts":
                return self._alert(row)
            case "l15-sessions":
                self.sessions[row["user_id"]] = row
                visit = self.open_visits.get(row["user_id"])
                if visit and visit["last_activity_ms"] <= row["last_activity_ms"]:
                    del self.open_visits[row["user_id"]]  # the job closed it
            case "l14-clicks":
                self._click(row)
            case "store-customer-orders" if name:
                self.customers[name] = row
            case "store-product-sales" if name:
                self.product_sales[name] = row
            case "products" if name:
                self.products[name] = row
        return None
    # --8<-- [end:apply]

    def _window(self, row: dict[str, Any]) -> Update:
        windows = self.revenue.setdefault(row["category"], {})
        windows[row["window_start_ms"]] = row
        while len(windows) > self.windows_per_category:
            del windows[min(windows)]
        return Update("window", row)

    def _alert(self, row: dict[str, Any]) -> Update:
        alert_id = row["alert_id"]
        self.alerts[alert_id] = row
        per_card = self.alerts_by_card.setdefault(row["card_id"], deque())
        per_card.append(alert_id)
        if len(per_card) > ALERTS_PER_CARD:
            self._forget(per_card.popleft())
        if len(self.recent_alerts) == self.recent_alerts.maxlen:
            oldest = self.recent_alerts[0]
            self.recent_alerts.append(alert_id)
            self._forget(oldest)
        else:
            self.recent_alerts.append(alert_id)
        return Update("alert", self.alert(alert_id) or row)

    def platform_alert(self, row: dict[str, Any]) -> Update | None:
        """An alert about the platform itself (a job in a restart loop, ``health``), shown in the
        feed like a fraud alert; None when it is already there."""
        if row["alert_id"] in self.alerts:
            return None
        return self._alert(row)

    def _forget(self, alert_id: str) -> None:
        row = self.alerts.get(alert_id)
        if row is None or alert_id in self.recent_alerts or alert_id in self.alerts_by_card.get(row["card_id"], ()):
            return
        del self.alerts[alert_id]
        self.acknowledged.discard(alert_id)

    def _click(self, row: dict[str, Any]) -> None:
        """A visit the session job has not closed yet: Flink emits a session only when it ends."""
        user, ts = row["user_id"], row["ts_ms"]
        closed = self.sessions.get(user)
        if closed and ts <= closed["last_activity_ms"]:
            return
        visit = self.open_visits.get(user)
        if visit is None or ts - visit["last_activity_ms"] > SESSION_GAP_MS:
            visit = self.open_visits[user] = {"user_id": user, "first_activity_ms": ts,
                                              "last_activity_ms": ts, "clicks": 0}
        visit["first_activity_ms"] = min(visit["first_activity_ms"], ts)
        visit["last_activity_ms"] = max(visit["last_activity_ms"], ts)
        visit["clicks"] += 1

    # -- reading

    def categories(self) -> list[dict[str, Any]]:
        names = sorted(set(self.revenue) | {p["category"] for p in self.products.values()})
        return [{"category": c, "latest": self.latest_windows(c, 1)[0] if self.revenue.get(c) else None}
                for c in names]

    def latest_windows(self, category: str, count: int) -> list[dict[str, Any]]:
        windows = self.revenue.get(category, {})
        return [windows[start] for start in sorted(windows, reverse=True)[:count]]

    def chart(self, count: int) -> dict[str, Any]:
        """The last ``count`` window starts over all categories, and each category's revenue in them."""
        starts = sorted({s for windows in self.revenue.values() for s in windows})[-count:]
        return {"window_starts_ms": starts,
                "series": {c: [w[s]["revenue_cents"] if s in w else 0 for s in starts]
                           for c, w in sorted(self.revenue.items())}}

    def category_products(self, category: str) -> list[dict[str, Any]]:
        rows = [{"product_id": pid, "name": p.get("name"), "price_cents": p.get("price_cents"),
                 **{k: v for k, v in self.product_sales.get(pid, {}).items() if k != "product_id"}}
                for pid, p in self.products.items() if p["category"] == category]
        return sorted(rows, key=lambda r: (-r.get("revenue_cents", 0), r["product_id"]))

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        row = self.alerts.get(alert_id)
        return None if row is None else {**row, "acknowledged": alert_id in self.acknowledged}

    def latest_alerts(self, limit: int, min_severity: str = "low") -> list[dict[str, Any]]:
        floor = SEVERITIES.index(min_severity)
        rows = [self.alert(a) for a in reversed(self.recent_alerts)]
        return [r for r in rows if r and SEVERITIES.index(r["severity"]) >= floor][:limit]

    def card_alerts(self, card_id: str, limit: int) -> list[dict[str, Any]] | None:
        if card_id not in self.alerts_by_card:
            return None
        return [self.alert(a) for a in reversed(self.alerts_by_card[card_id])][:limit]

    def session(self, user_id: str) -> dict[str, Any] | None:
        closed, visit = self.sessions.get(user_id), self.open_visits.get(user_id)
        if closed is None and visit is None:
            return None
        return {"user_id": user_id, "open": visit, "last_closed": closed}
