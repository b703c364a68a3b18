"""The Kafka Streams peers on the session's broker: each reads the raw topics as they stand
(the demo's data with its disorder, late and malformed events, and whatever other tests
produced) and its ks-* topics equal the same oracle as the lesson's PyFlink job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import duckdb
import httpx
import pytest
from confluent_kafka.admin import AdminClient

from flink_jobs.lesson16_stores import contract as stores_contract
from flink_jobs.lesson16_stores import oracle as stores_oracle
from streamlab.config import Settings
from streamlab.data import generator, kafka_io, producer
from streamlab.jobs import peers
from streamlab.runtime import kafka_streams
from validation.oracle import load_inputs
from conftest import assert_exact, streamlab

pytestmark = pytest.mark.platform

PEERED = kafka_streams.peered()


def _close_event_time(settings: Settings) -> None:
    """A closing heartbeat on every partition of the joins' inputs, past the newest event by more
    than an unpaid order's 15 minutes and the join's 10 minutes of grace (and less than the hour
    of clock skew an event time may have), as each generated data set ends: data other tests
    produced without one would leave their last orders open in Kafka Streams, whose joins emit
    an unpaid order only once stream time passes it."""
    newest = kafka_io.latest_event_time(settings.bootstrap_servers, sorted(generator.FACT_TOPICS))
    beat = generator.heartbeat_value((newest or 0) + 30 * 60_000)
    sender = producer.make_producer(settings.bootstrap_servers)
    for topic in ("orders", "payments", "customers", "products"):
        for partition in producer.topic_partitions(sender, topic):
            sender.produce(topic, beat, b"", partition=partition, headers=producer.HEARTBEAT_HEADERS)
    assert sender.flush(30) == 0


@pytest.fixture(scope="module")
def running(platform, demo) -> Iterator[Settings]:
    """Every peer, reset (the demo ran them on its data set) and started on all of the session's
    data: run again, the joins peer would look up the demo's orders' products as they were then,
    and other tests have written new versions of the same products since."""
    _close_event_time(platform)
    try:
        for lesson in PEERED:
            peers.reset(platform, lesson.peer.job)
            peers.start(platform, lesson.peer.job)
        yield platform
    finally:
        kafka_streams.stop(platform)


@pytest.mark.parametrize("lesson", PEERED, ids=lambda lesson: lesson.peer.job)
def test_every_peer_output_equals_the_oracle(running, lesson):
    checks = peers.check(running, lesson.peer.job)
    assert_exact(checks)
    assert {c.topic for c in checks} >= {topic for _, topic in lesson.peer.topics}
    assert all(c.expected > 0 for c in checks), [c.topic for c in checks if c.expected == 0]


def test_the_cli_checks_a_peer_and_status_shows_the_running_ones(running):
    job = PEERED[0].peer.job
    result = streamlab(running, "peer", "check", job)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout and all(line.endswith("exact") for line in result.stdout.splitlines()), result.stdout
    shown = json.loads(streamlab(running, "status", "--json").stdout)["kafka_streams"]
    assert all(shown[lesson.peer.job] for lesson in PEERED), shown
    assert "Kafka Streams peers  ks-" in streamlab(running, "status").stdout


def _expected_stores(settings: Settings) -> dict[str, dict[str, dict]]:
    """Each queryable store's expected value of every key, from the lesson's oracle."""
    con = duckdb.connect()
    load_inputs(con, settings.bootstrap_servers)
    expected = {}
    for topic, (key, count, counted, quantity) in stores_oracle.STORES.items():
        rows = con.execute(stores_oracle.expected(key, count, counted, quantity)).fetchdf().to_dict("records")
        expected[topic.removeprefix("store-")] = {row.pop("key"): row for row in rows}
    return expected


def _ask(url: str, method: str = "GET") -> httpx.Response:
    """``method`` on ``url``, again while the application rebalances (503), for at most a minute."""
    deadline = time.monotonic() + 60
    while True:
        answer = httpx.request(method, url, timeout=10)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def test_the_stores_peer_answers_every_key_from_either_instance(running):
    """Interactive queries, Kafka Streams' own way: two instances split the keys, and each
    answers for every key, fetching the other's from it; the values equal the oracle's."""
    job = stores_contract.LESSON.peer.job
    peers.start(running, job, instances=2)
    base = [f"http://{running.host}:{kafka_streams.query_port(running, n)}" for n in (0, 1)]
    listing = _ask(f"{base[0]}/stores").json()
    assert sorted(listing["stores"]) == ["customer-orders", "product-sales"]
    hosted = [set(instance["stores"]) for instance in listing["instances"]]
    assert len(hosted) == 2 and all(hosted), listing  # both instances host some of the stores' partitions
    for store, values in _expected_stores(running).items():
        for key, value in values.items():
            for url in base:
                answer = _ask(f"{url}/stores/{store}/{key}")
                assert answer.status_code == 200, (url, store, key, answer.text)
                got = answer.json()
                assert {name: got[name] for name in value} == value, (store, key, got)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("POST", "/stores/customer-orders/c-0001", 405),
    ("GET", "/stores/no-such-store/c-0001", 404),
    ("GET", "/stores/customer-orders/no-such-customer", 404),
    ("GET", "/stores/customer-orders/", 400),
    ("GET", "/stores/customer-orders/%ZZ", 400),
    ("GET", "/stores/customer-orders/" + "x" * 300, 400),
    ("GET", "/elsewhere", 404),
])
def test_a_bad_query_gets_a_4xx_with_a_message(running, method, path, status):
    answer = _ask(f"http://{running.host}:{kafka_streams.query_port(running, 0)}{path}", method)
    assert answer.status_code == status, answer.text
    # the peer says what is wrong in JSON; a path that is no URI at all the JDK's server refuses itself
    message = answer.json()["error"] if answer.headers["content-type"] == "application/json" else answer.text
    assert message.strip()


def test_the_cli_queries_a_store_and_says_so_in_one_line_when_the_key_is_missing(running):
    job = stores_contract.LESSON.peer.job
    customer = sorted(_expected_stores(running)["customer-orders"])[0]
    result = streamlab(running, "peer", "query", job, "customer-orders", customer)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["customer_id"] == customer
    missing = streamlab(running, "peer", "query", job, "customer-orders", "nobody")
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "no key 'nobody'" in missing.stderr


def test_a_reset_peer_starts_over_from_the_beginning_into_its_emptied_topics(running):
    """`streamlab peer reset`: Kafka Streams' application reset, as the demo and this module use
    it. Afterwards the group, the internal topics and the local state are gone and the peer's
    topics hold nothing (their offsets stay); started again, it computes every row anew."""
    lesson = next(lesson for lesson in PEERED if lesson.key == "lesson15-windows")
    job = lesson.peer.job
    result = streamlab(running, "peer", "reset", job)
    assert result.returncode == 0, result.stderr
    assert f"{job}-revenue-1m-changelog" in result.stdout  # its window store's changelog, deleted
    listed = AdminClient({"bootstrap.servers": running.bootstrap_servers}).list_topics(timeout=30).topics
    assert not [name for name in listed if name.startswith(f"{job}-")], sorted(listed)
    outputs = [topic for _, topic in lesson.peer.topics]
    committed = kafka_io.committed_offsets(running.bootstrap_servers, job, list(lesson.peer.inputs))
    assert all(offset < 0 for offset in committed.values()), committed  # no group: from the beginning
    assert all(not kafka_io.read_all(running.bootstrap_servers, topic) for topic in outputs)
    ends = kafka_io.end_offsets(running.bootstrap_servers, outputs)
    assert all(sum(end for (name, _), end in ends.items() if name == topic) > 0 for topic in outputs), ends
    assert not list((running.state / "kafka-streams").glob(f"{job}-[0-9]*"))
    peers.start(running, job)
    checks = peers.check(running, job)
    assert_exact(checks)
    assert all(c.expected > 0 for c in checks)
