"""The generator is deterministic and really produces disorder, late and malformed events."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields

from streamlab.data import generator
from streamlab.wire import events

SPEC = generator.GeneratorSpec(seed=7, count=5_000, malformed_fraction=0.05, late_fraction=0.05)


def test_same_seed_same_events_other_seed_other_events():
    first = list(generator.generate(SPEC))
    assert first == list(generator.generate(SPEC))
    other = list(generator.generate(generator.GeneratorSpec(seed=8, count=5_000)))
    assert [r.value for r in first] != [r.value for r in other]


def test_count_is_exact_and_reference_data_comes_first():
    records = list(generator.generate(SPEC))
    facts = [r for r in records if r.topic in generator.FACT_TOPICS and r.kind != "heartbeat"]
    assert len(facts) == SPEC.count
    first_fact = next(i for i, r in enumerate(records) if r.topic in generator.FACT_TOPICS)
    assert {r.topic for r in records[:first_fact]} == {"customers", "products"}


def test_arrival_order_differs_from_event_time_order():
    valid = [json.loads(r.value) for r in generator.generate(SPEC)
             if r.topic == "clicks" and r.kind != "malformed" and not r.kind.startswith("malformed")]
    inversions = sum(1 for a, b in zip(valid, valid[1:]) if b["ts_ms"] < a["ts_ms"])
    assert inversions > len(valid) * 0.05


def test_late_events_arrive_minutes_after_their_event_time():
    for record in generator.generate(SPEC):
        if record.kind == "late":
            delay = record.arrival_ms - json.loads(record.value)["ts_ms"]
            assert SPEC.late_delay_ms[0] <= delay <= SPEC.late_delay_ms[1]


def test_every_malformation_kind_appears_and_valid_events_match_their_schema():
    kinds = Counter()
    schema = {cls.__name__: {f.name for f in fields(cls)} for cls in events.TOPIC_OF}
    topic_class = {topic: cls.__name__ for cls, topic in events.TOPIC_OF.items()}
    for record in generator.generate(SPEC):
        if record.kind == "heartbeat":
            continue
        if record.kind.startswith("malformed:"):
            kinds[record.kind.split(":")[1]] += 1
            continue
        doc = json.loads(record.value)
        assert set(doc) == schema[topic_class[record.topic]]
        assert doc["schema_version"] == events.SCHEMA_VERSION
        assert record.key.decode() == (doc.get("order_id") or doc.get("user_id")
                                       or doc.get("customer_id") or doc.get("product_id"))
    assert set(kinds) == set(generator.MALFORMATIONS)


def test_money_is_integer_cents_and_payments_match_their_order():
    orders, payments = {}, {}
    for record in generator.generate(generator.GeneratorSpec(seed=3, count=5_000, malformed_fraction=0)):
        doc = json.loads(record.value)
        if record.kind == "heartbeat":
            continue
        if record.topic == "orders":
            orders[doc["order_id"]] = sum(i["quantity"] * i["unit_price_cents"] for i in doc["items"])
        elif record.topic == "payments":
            assert isinstance(doc["amount_cents"], int)
            payments[doc["order_id"]] = doc["amount_cents"]
    assert payments and all(orders[o] == amount for o, amount in payments.items() if o in orders)


def test_a_bounded_run_ends_with_one_heartbeat_per_topic_an_hour_later():
    records = list(generator.generate(SPEC))
    beats = records[-len(generator.ALL_TOPICS):]
    assert {r.topic for r in beats} == generator.ALL_TOPICS == {"clicks", "orders", "payments",
                                                                  "customers", "products"}
    assert all(r.kind == "heartbeat" for r in beats)
    last_event = max(json.loads(r.value)["ts_ms"] for r in records[:-len(beats)]
                     if r.kind in ("valid", "late"))
    assert all(json.loads(r.value)["ts_ms"] >= last_event + generator.GeneratorSpec().heartbeat_after_ms for r in beats)
    assert not any(r.kind == "heartbeat" for r in generator.generate(
        generator.GeneratorSpec(seed=7, count=100, heartbeat=False)))
