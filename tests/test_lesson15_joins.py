"""Lesson 15 joins against the oracle: interval join, temporal joins with customers and products."""

from __future__ import annotations

import duckdb
import pytest

from flink_jobs.lesson15_joins import oracle
from streamlab.data import generator
from conftest import assert_equals_oracle, run_job

pytestmark = pytest.mark.platform

# Event time after the data sets of the modules before this one, before those after it.
SPEC = generator.GeneratorSpec(seed=1501, count=12_000, start_ms=1_775_001_600_000,  # 2026-04-01
                               late_fraction=0.05, malformed_fraction=0.03)


@pytest.fixture(scope="module")
def joins_run(platform):
    run_job(platform, "lesson15-joins", generator.generate(SPEC))
    return platform


def test_joins_equal_the_oracle(joins_run):
    assert_equals_oracle(joins_run, oracle.check)


def test_the_data_set_makes_event_time_joins_matter(joins_run):
    """If most orders joined the customer's *latest* version, a processing-time join would
    pass too: the data set must hold orders whose customer changed after them."""
    con = duckdb.connect()
    oracle._load(con, joins_run.bootstrap_servers)
    [(changed_later, changed_before, repriced)] = con.execute(f"""
        SELECT (SELECT count(*) FROM expected_orders_enriched e
                WHERE EXISTS (SELECT 1 FROM customers_versions c
                              WHERE c.customer_id = e.customer_id AND c.version_ms > e.ts_ms)),
               (SELECT count(*) FROM expected_orders_enriched WHERE customer_version_ms >= {SPEC.start_ms}),
               (SELECT count(*) FROM expected_items_enriched WHERE product_version_ms >= {SPEC.start_ms})
        """).fetchall()
    assert changed_later > 10 and changed_before > 10 and repriced > 0
