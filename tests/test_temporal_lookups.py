"""An order behind a temporal join's watermark never reaches the join: Flink's event-time
temporal join keeps only the newest table version at or before its watermark, so such an order
would find no customer at all when the customer changed in between (``region`` and ``tier``
'unknown' in the cube). Every job that looks customers up AS OF an order's time judges the
order late by its own time first, as its oracle does. Local PyFlink, no services."""

from __future__ import annotations

import json

import pytest

from flink_jobs import local_check
from streamlab import lessons
from streamlab.apps.exercises import module
from streamlab.data import generator
from streamlab.data.generator import Record

T = 1_781_712_000_000  # 2026-06-17T16:00:00Z
MINUTE = 60_000
# The jobs with a FOR SYSTEM_TIME AS OF join, and whether their late topic holds orders (the
# alerts job's holds payments: it leaves a late order out of its lookups).
TEMPORAL = [("lesson15-aggregations", True), ("lesson15-joins", True), ("lesson15-alerts", False)]


def _record(topic: str, key: str, event: dict) -> Record:
    return Record(topic, key.encode(), json.dumps({"schema_version": 1, **event}).encode(), event["ts_ms"], "valid")


def _customer(customer_id: str, tier: str, ts_ms: int) -> Record:
    return _record("customers", customer_id, {"customer_id": customer_id, "name": "A", "tier": tier,
                                              "country": "PL", "region": "central", "ts_ms": ts_ms})


def _order(order_id: str, customer_id: str, ts_ms: int) -> Record:
    return _record("orders", order_id, {"order_id": order_id, "customer_id": customer_id, "currency": "EUR",
                                        "ts_ms": ts_ms, "items": [{"product_id": "p-1", "category": "home",
                                                                   "quantity": 1, "unit_price_cents": 100}]})


def _data() -> list[Record]:
    """c-1 changes from bronze to gold at 16:00:30; o-2 at 16:03 moves stream time and the
    watermark past that; then o-1 comes, placed at 16:00:05: inside its 5-minute window's grace,
    but behind the watermark, so the join would already have dropped c-1's bronze version."""
    records = [_customer("c-1", "bronze", T - 60 * MINUTE), _customer("c-1", "gold", T + 30_000),
               _customer("c-2", "silver", T + 3 * MINUTE), _order("o-2", "c-2", T + 3 * MINUTE),
               _order("o-1", "c-1", T + 5_000)]
    beat = T + 24 * 60 * MINUTE
    return records + [Record(topic, b"", generator.heartbeat_value(beat), beat, "heartbeat")
                      for topic in ("clicks", "orders", "payments", "customers", "products")]


@pytest.mark.parametrize(("key", "late_orders"), TEMPORAL, ids=[key for key, _ in TEMPORAL])
def test_an_order_behind_the_watermark_is_late_not_enriched_with_nothing(key, late_orders, tmp_path):
    topics = local_check.run(key, module(key, "job").build, tmp_path, records=_data())
    checks = lessons.oracle(key).check(topics)
    assert all(c.exact for c in checks), [c.describe() for c in checks if not c.exact]
    late = lessons.get(key).late
    assert late is not None
    assert any(b'"o-1"' in message.value for message in topics.read_all(late.topic)) == late_orders
