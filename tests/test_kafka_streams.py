"""The Kafka Streams peers on the session's broker: each reads the raw topics as they stand
(the demo's data with its disorder, late and malformed events, and whatever other tests
produced) and its ks-* topics equal the same oracle as the lesson's PyFlink job."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from streamlab.config import Settings
from streamlab.jobs import peers
from streamlab.runtime import kafka_streams
from conftest import assert_exact, streamlab

pytestmark = pytest.mark.platform

PEERED = kafka_streams.peered()


@pytest.fixture(scope="module")
def running(platform, demo) -> Iterator[Settings]:
    try:
        for lesson in PEERED:
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
