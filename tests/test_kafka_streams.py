"""The Kafka Streams peers on the session's broker: each reads the raw topics as they stand
(the demo's data with its disorder, late and malformed events, and whatever other tests
produced) and its ks-* topics equal the same oracle as the lesson's PyFlink job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streamlab.config import Settings
from streamlab.jobs import peers
from streamlab.runtime import kafka_streams
from conftest import assert_exact

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
