"""Lesson 15 windows against the oracle: tumbling, hopping and session windows, late data."""

from __future__ import annotations

import json

import pytest

from flink_jobs.lesson15_windows import oracle
from streamlab.data import generator, kafka_io
from conftest import assert_equals_oracle, run_job

pytestmark = pytest.mark.platform

# Event time after every other data set in the session, so this one is not late by design.
SPEC = generator.GeneratorSpec(seed=1515, count=12_000, start_ms=1_780_300_800_000,  # 2026-06-01
                               late_fraction=0.05, malformed_fraction=0.03)


@pytest.fixture(scope="module")
def windows_run(platform):
    records = list(generator.generate(SPEC))
    run_job(platform, "lesson15-windows", records)
    return platform, records


def test_windows_equal_the_oracle(windows_run):
    assert_equals_oracle(windows_run[0], oracle.check)


def test_counted_plus_late_equals_produced(windows_run):
    settings, _ = windows_run
    totals = oracle.reconcile(settings.bootstrap_servers)
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
