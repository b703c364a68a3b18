"""Lesson 15 windows against the oracle: tumbling, hopping and session windows, late data."""

from __future__ import annotations

import json

import pytest

from conftest import assert_exact
from streamlab import deploy, generator, jobwatch, kafka_io, producer
from validation import lesson15_windows

pytestmark = pytest.mark.platform

JOB = deploy.job_spec("lesson15-windows")
# Event time after every other data set in the session, so this one is not late by design.
SPEC = generator.GeneratorSpec(seed=1515, count=12_000, start_ms=1_780_300_800_000,  # 2026-06-01
                               late_fraction=0.05, malformed_fraction=0.03)


@pytest.fixture(scope="module")
def windows_run(platform):
    records = list(generator.generate(SPEC))
    producer.produce(records, platform.bootstrap_servers, progress=False)
    deploy.deploy(platform, "lesson15-windows")
    jobwatch.wait_caught_up(platform, JOB.name, ["clicks", "orders"], timeout_s=600)
    return platform, records


def test_windows_equal_the_oracle(windows_run):
    settings, _ = windows_run
    checks = jobwatch.wait_exact(lambda: lesson15_windows.check(settings.bootstrap_servers))
    assert_exact(checks)
    assert all(c.expected > 0 for c in checks)


def test_counted_plus_late_equals_produced(windows_run):
    settings, _ = windows_run
    totals = lesson15_windows.reconcile(settings.bootstrap_servers)
    assert totals["orders_late"] > 0, "the data set must exercise late data"
    assert totals["revenue_counted"] + totals["revenue_late"] == totals["revenue_produced"], totals


def test_only_records_that_arrived_late_are_called_late(windows_run):
    """On-time records arrive at most max_disorder_ms after their event time, less than the
    watermark delay, so whatever the partition interleaving they are never late."""
    settings, records = windows_run
    on_time = set()
    for record in records:
        if record.kind == "valid" and record.topic in ("orders", "clicks"):
            doc = json.loads(record.value)
            on_time.add(doc.get("order_id") or doc.get("event_id"))
    late = [json.loads(m.value)["id"] for m in kafka_io.read_all(settings.bootstrap_servers, "l15-late")]
    assert late and not on_time.intersection(late)
