"""Lesson 16 interactive queries: the stores equal the oracle, and `streamlab query` answers
from a view restored from the compacted topic, as a restarted Kafka Streams instance would."""

from __future__ import annotations

import dataclasses
import json

import pytest

from flink_jobs.lesson16_stores import oracle
from streamlab.data import generator, stores
from conftest import assert_equals_oracle, run_job, streamlab

pytestmark = pytest.mark.platform

# Between the windows module's data (2026-06-01) and the lifecycle module's (2026-06-15).
SPEC = generator.GeneratorSpec(seed=1616, count=6_000, start_ms=1_780_876_800_000,  # 2026-06-08
                               late_fraction=0.05, malformed_fraction=0.03)


@pytest.fixture(scope="module")
def stores_run(platform):
    run_job(platform, "lesson16-stores", generator.generate(SPEC))
    # The same seed a day later: the same order ids again, as other data sets of a session have
    # them. An order is a record, not an id: both count.
    again = dataclasses.replace(SPEC, start_ms=SPEC.start_ms + 86_400_000)
    run_job(platform, "lesson16-stores", generator.generate(again))
    return platform


def test_stores_equal_the_oracle(stores_run):
    assert_equals_oracle(stores_run, oracle.check)


def test_a_restored_view_holds_the_latest_value_of_every_key(stores_run):
    view = stores.restored(stores_run.bootstrap_servers, "customer-orders")
    assert len(view.values) > 100
    assert view.records_read > len(view.values)  # updates, not one record per key: compaction's work
    some_key, value = next(iter(view.values.items()))
    assert value["customer_id"] == some_key and value["orders"] >= 1


def test_query_command_answers_a_key_and_names_a_missing_one(stores_run):
    view = stores.restored(stores_run.bootstrap_servers, "product-sales")
    product, value = max(view.values.items(), key=lambda item: item[1]["revenue_cents"])
    found = streamlab(stores_run, "query", "product-sales", product)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == value and "restored" in found.stderr
    missing = streamlab(stores_run, "query", "product-sales", "no-such-product")
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 2  # progress + error
    assert "no product_id 'no-such-product'" in missing.stderr
