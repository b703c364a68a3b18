"""Hostile records in every raw topic, while every lesson's job runs: none stops, none restarts,
each record is dead-lettered exactly once with its reason, every output still equals its oracle,
and every command that reads the topics still answers.

The corpus is what a buggy or hostile producer can write: bytes that are not JSON or not UTF-8,
values near Kafka's size limit, deep nesting, numbers JSON allows but no field can hold, times
far from the broker's clock, null and empty values, each field of the wrong type, unicode keys.
A valid data set follows it, so the oracles compare new output too and windows close.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from streamlab import lessons
from streamlab.data import generator, kafka_io, producer, topics
from streamlab.jobs import deploy, jobwatch
from streamlab.runtime.flink_rest import FlinkRest
from streamlab.wire import events as ev
from conftest import assert_exact, streamlab

pytestmark = pytest.mark.platform

HOUR_MS = 3_600_000
ABSENT = [None, [], {}, ""]  # no text: what every rule calls missing
NOT_A_COUNT = [*ABSENT, True, 1.5, -1, "12.5", "1e3", " 12", "\u0661\u0662", 10**30]
NOT_LISTED = [*ABSENT, 1, True, "Mobile", "\u00e9"]


def valid(topic: str, ts_ms: int) -> dict:
    """A valid event of ``topic``, to break one field at a time."""
    event = {
        "clicks": ev.Click("e-poison", "u-0001", "/products/p-001", "mobile", "Mozilla/5.0", ts_ms),
        "orders": ev.Order("o-poison", "c-0001", [ev.LineItem("p-001", "home", 1, 100)], "EUR", ts_ms),
        "payments": ev.Payment("pay-poison", "o-poison", "card-1", "DE", 100, ts_ms),
        "customers": ev.Customer("c-poison", "Ada", "gold", "DE", ev.COUNTRY_REGION["DE"], ts_ms),
        "products": ev.Product("p-poison", "Lamp", "home", 100, ts_ms),
    }[topic]
    return json.loads(ev.encode(event))


# Each rule-checked field of each topic, with values its rule rejects.
BROKEN: dict[str, dict[str, list]] = {
    "clicks": {"event_id": ABSENT, "user_id": ABSENT, "url": [*ABSENT, 1.5, "products", "http://x/"],
               "device": NOT_LISTED, "user_agent": ABSENT},
    "orders": {"order_id": ABSENT, "customer_id": ABSENT,
               "items": [*ABSENT, "x", [1], [None], [{}], [[]]]},
    "payments": {"payment_id": ABSENT, "order_id": ABSENT, "card_id": ABSENT, "country": NOT_LISTED,
                 "amount_cents": NOT_A_COUNT},
    "customers": {"customer_id": ABSENT, "name": ABSENT, "country": ABSENT, "tier": NOT_LISTED,
                  "region": NOT_LISTED},
    "products": {"product_id": ABSENT, "name": ABSENT, "category": NOT_LISTED, "price_cents": NOT_A_COUNT},
}
LINE_ITEM_BROKEN = {"product_id": ABSENT, "category": NOT_LISTED, "quantity": [*NOT_A_COUNT, 0, 1000],
                    "unit_price_cents": NOT_A_COUNT}


def hostile_values(topic: str, now_ms: int) -> Iterator[tuple[str, bytes | None]]:
    """(label, value) pairs, each of which the rules must reject."""
    good = valid(topic, now_ms)
    yield "not-json", b"hello, world"
    yield "invalid-utf8", b'{"schema_version": 1, "user_id": "\xff\xfe"}'
    yield "invalid-utf8-only", b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc"
    yield "empty", b""
    yield "null", None
    yield "json-null", b"null"
    yield "json-array", b"[1, 2, 3]"
    yield "json-string", b'"clicks"'
    yield "truncated", json.dumps(good).encode()[:-7]
    yield "trailing-data", json.dumps(good).encode() + b" {}"
    yield "deep-nesting", b"[" * 5000 + b"]" * 5000
    yield "deep-object", b'{"a":' * 3000 + b"1" + b"}" * 3000
    yield "near-1mb", json.dumps(dict(good, schema_version=2, padding="x" * 990_000)).encode()
    yield "nul-bytes", b"\x00" * 64
    yield "schema-version-2", json.dumps(dict(good, schema_version=2)).encode()
    yield "schema-version-missing", json.dumps({k: v for k, v in good.items() if k != "schema_version"}).encode()
    yield "duplicate-key", json.dumps(good).encode()[:-1] + b', "ts_ms": "soon"}'
    yield "duplicate-nested-key", json.dumps(dict(good, extra={"a": 1})).encode().replace(b'"a": 1', b'"a": 1, "a": 2')
    for label, ts in [("ts-far-future", 999_999_999_999_999), ("ts-16-digits", 10**16), ("ts-huge", 10**400),
                      ("ts-pre-epoch", -1), ("ts-before-2000", 946_684_799_999), ("ts-zero", 0),
                      ("ts-fraction", now_ms + 0.5), ("ts-exponent", 1.7e12), ("ts-word", "soon"),
                      ("ts-two-hours-ahead", int(time.time() * 1000) + 2 * HOUR_MS),  # of the broker's clock
                      ("ts-missing", None), ("ts-object", {})]:
        yield label, json.dumps(dict(good, ts_ms=ts)).encode()
    for field, wrong in BROKEN[topic].items():
        for n, value in enumerate(wrong):
            yield f"{field}-wrong-{n}", json.dumps(dict(good, **{field: value})).encode()
        yield f"{field}-missing", json.dumps({k: v for k, v in good.items() if k != field}).encode()
    if topic == "orders":
        for field, wrong in LINE_ITEM_BROKEN.items():
            for n, value in enumerate(wrong):
                items = [good["items"][0], dict(good["items"][0], **{field: value})]
                yield f"item-{field}-wrong-{n}", json.dumps(dict(good, items=items)).encode()
    yield "unicode-keys", json.dumps({f"{k}\u00e9\U0001f511": v for k, v in good.items()}).encode()


def controls(now_ms: int) -> list[generator.Record]:
    """The valid event each hostile record breaks, one per raw topic: none may be dead-lettered
    (else the corpus would test nothing but a broken control). And a valid click and order two
    hours on, past the data set's closing heartbeats: trusted (the broker's clock is far ahead
    of the simulated one), they move stream time, and their windows stay open."""
    now = [(topic, valid(topic, now_ms)) for topic in BROKEN]
    later = [("clicks", dict(valid("clicks", now_ms + 2 * HOUR_MS), event_id="e-poison-later")),
             ("orders", dict(valid("orders", now_ms + 2 * HOUR_MS), order_id="o-poison-later"))]
    return [generator.Record(topic, f"control-{topic}".encode(), json.dumps(event).encode(), now_ms, "valid")
            for topic, event in [*now, *later]]


def hostile_corpus(now_ms: int) -> list[generator.Record]:
    records = []
    for topic in (t.name for t in topics.RAW):
        for n, (label, value) in enumerate(hostile_values(topic, now_ms)):
            key = f"poison-{topic}-{n}-{label}-ключ-\U0001f511".encode()
            records.append(generator.Record(topic, key, value, now_ms, f"malformed:{label}"))  # type: ignore[arg-type]
    return records


@pytest.fixture(scope="module")
def poisoned(platform):
    """Every lesson's job running; the corpus, then a valid data set, processed by all of them."""
    rest = FlinkRest(platform.flink_rest_url)
    for key in lessons.BY_KEY:
        if rest.running_job(lessons.get(key).name) is None:
            deploy.deploy(platform, key)
    before = {key: rest.running_job(lessons.get(key).name)["jid"] for key in lessons.BY_KEY}
    restarts = {key: rest.restarts(job_id) for key, job_id in before.items()}
    start_ms = kafka_io.next_start_ms(platform.bootstrap_servers)
    corpus = hostile_corpus(start_ms)
    producer.produce([*controls(start_ms), *corpus], platform.bootstrap_servers, progress=False)
    data = generator.GeneratorSpec(seed=1717, count=3000, start_ms=start_ms + 60_000, late_fraction=0.05,
                                   malformed_fraction=0.03)
    producer.produce(generator.generate(data), platform.bootstrap_servers, progress=False)
    jobwatch.wait_all_caught_up(platform, lessons.input_groups(lessons.BY_KEY), timeout_s=600)
    return platform, corpus, before, restarts


def test_no_job_stops_or_restarts(poisoned):
    platform, _, before, restarts = poisoned
    rest = FlinkRest(platform.flink_rest_url)
    now = {key: rest.running_job(lessons.get(key).name) for key in lessons.BY_KEY}
    assert {key: job and job["jid"] for key, job in now.items()} == before, "a job stopped or was replaced"
    # An earlier module's drill may have restarted a job: only this module's records must not.
    assert {key: rest.restarts(job_id) for key, job_id in before.items()} == restarts


def test_each_hostile_record_is_dead_lettered_once_with_its_reason(poisoned):
    platform, corpus, _, _ = poisoned
    dead = kafka_io.read_all(platform.bootstrap_servers, topics.DEAD_LETTER.name)
    assert [m.key for m in dead if m.key and m.key.startswith(b"control-")] == []
    letters = [m for m in dead if m.key and m.key.startswith(b"poison-")]
    wanted = Counter((r.topic, r.key) for r in corpus)
    got = Counter((m.headers["dlq.source.topic"].decode(), m.key) for m in letters)
    assert {k: n for k, n in got.items() if n != 1} == {}, "dead-lettered more than once"
    missing = [key.decode(errors="replace") for _, key in wanted.keys() - got.keys()]
    assert missing == [], f"{len(missing)} hostile records not dead-lettered: {missing[:10]}"
    assert all(m.headers["dlq.reason"] for m in letters)
    by_key = {(m.headers["dlq.source.topic"].decode(), m.key): m for m in letters}
    assert all(by_key[(r.topic, r.key)].value == r.value or (r.value is None and not by_key[(r.topic, r.key)].value)
               for r in corpus), "a dead letter does not hold the record as it came"
    reasons = {r.kind.split(":", 1)[1]: by_key[(r.topic, r.key)].headers["dlq.reason"].decode()
               for r in corpus if r.topic == "orders"}
    assert reasons["ts-far-future"] == reasons["ts-two-hours-ahead"] == "ts_ms is over an hour ahead of its Kafka timestamp"
    assert reasons["ts-before-2000"] == "ts_ms is before 2000-01-01"
    assert reasons["not-json"] == reasons["invalid-utf8"] == reasons["duplicate-key"] == "not a JSON object"
    assert reasons["item-quantity-wrong-13"] == "item quantity not in 1..999"
    assert reasons["customer_id-wrong-1"] == "missing customer_id"  # [] is no id: JSON_VALUE's NULL


def test_every_output_still_equals_its_oracle(poisoned):
    platform = poisoned[0]
    for key in lessons.BY_KEY:
        check = lessons.oracle(key).check
        assert_exact(jobwatch.wait_exact(lambda: check(platform.bootstrap_servers)))  # noqa: B023 - called here


@pytest.mark.parametrize("command", [
    ["read", "clicks", "--limit", "5"], ["read", "dead-letter", "--limit", "5"],
    ["query", "customer-orders", "c-0001"], ["generate", "--count", "10", "--no-progress"],
    ["status"], ["status", "--json"], ["load"]])
def test_every_command_that_reads_the_topics_still_works(poisoned, command):
    result = streamlab(poisoned[0], *command)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_dashboard_still_answers(poisoned):
    platform = poisoned[0]
    health = httpx.get(f"{platform.dashboard_url}/api/health", timeout=10).json()
    assert health["restored"], health
    for path in ("/api/snapshot", "/api/categories", "/api/alerts"):
        response = httpx.get(f"{platform.dashboard_url}{path}", timeout=10)
        assert response.status_code == 200, (path, response.text[:500])
