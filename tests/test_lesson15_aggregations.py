"""Lesson 15 aggregations against the oracle: statistics, the top-3 UDAF, the cube, late data."""

from __future__ import annotations

import pytest

from flink_jobs.lesson15_aggregations import oracle
from streamlab import lessons
from streamlab.data import generator
from streamlab.runtime.flink_rest import FlinkRest
from conftest import assert_equals_oracle, run_job

pytestmark = pytest.mark.platform

# Event time after the data sets of the modules before this one, before those after it.
SPEC = generator.GeneratorSpec(seed=1531, count=12_000, start_ms=1_772_323_200_000,  # 2026-03-01
                               late_fraction=0.05, malformed_fraction=0.03)


@pytest.fixture(scope="module")
def aggregations_run(platform):
    run_job(platform, "lesson15-aggregations", generator.generate(SPEC))
    return platform


def test_aggregations_equal_the_oracle(aggregations_run):
    assert_equals_oracle(aggregations_run, oracle.check)


def test_counted_plus_late_equals_produced(aggregations_run):
    totals = oracle.reconcile(aggregations_run.bootstrap_servers)
    assert totals["revenue_late"] > 0, "the data set must exercise late data"
    assert totals["revenue_counted"] + totals["revenue_late"] == totals["revenue_produced"], totals


def test_one_temporal_join_feeds_all_three_aggregations(aggregations_run):
    # A CREATE VIEW would be expanded into a join, and its state, per INSERT.
    rest = FlinkRest(aggregations_run.flink_rest_url)
    job = rest.job(rest.running_job(lessons.get("lesson15-aggregations").name)["jid"])
    names = " | ".join(vertex["name"] for vertex in job["vertices"])
    assert names.count("TemporalJoin[") == 1, names
