"""Lesson 15's custom window against the oracle: revenue per category and trading period."""

from __future__ import annotations

import pytest

from flink_jobs.lesson15_trading_periods import oracle
from streamlab import lessons
from streamlab.data import generator
from streamlab.runtime.flink_rest import FlinkRest
from streamlab.wire import events as ev
from conftest import assert_equals_oracle, run_job

pytestmark = pytest.mark.platform

# Friday 2026-04-03 from 15:00 UTC: the data set runs past closing time (20:00 in Berlin, 18:00
# UTC in summer time). Event time after the modules before this one, before those after it.
SPEC = generator.GeneratorSpec(seed=1551, count=12_000, start_ms=1_775_228_400_000,
                               late_fraction=0.05, malformed_fraction=0.03)


FRIDAY_CLOSING_MS = 1_775_239_200_000  # 2026-04-03T18:00Z
# Periods are long, so the data set's late orders seldom miss one: this one, five minutes
# before closing, comes after the data set's end (and its heartbeat) has closed the period.
PLANTED_LATE = ev.Order("o-1551-planted-late", "c-0001", [ev.LineItem("p-001", "fashion", 2, 1_999)],
                        "EUR", FRIDAY_CLOSING_MS - 300_000)


# Issue 17's first finding: an order 31,000 years ahead, valid but for its time, first in the
# topic. It once put this job in a restart loop; trusted, it would make every later order late.
FAR_FUTURE = ev.Order("o-1551-far-future", "c-0001", [ev.LineItem("p-001", "home", 1, 100)], "EUR",
                      999_999_999_999_999)

# One id, two orders in one period, as two `streamlab generate` runs with the default seed
# make: each record is an order (the oracle once counted the id once, the job twice).
REUSED_ID = [ev.Order("o-1551-reused", customer, [ev.LineItem("p-002", "home", 1, 500)], "EUR",
                      SPEC.start_ms + offset_ms) for customer, offset_ms in (("c-0002", 600_000), ("c-0003", 900_000))]

# An order in the closed hours before the data set (05:00 UTC, Friday): the data set alone
# reaches no closing-time period's end, and this one closes when the store opens.
CLOSED_HOURS = ev.Order("o-1551-closed-hours", "c-0004", [ev.LineItem("p-003", "home", 2, 250)], "EUR",
                        SPEC.start_ms - 10 * 3_600_000)


def _record(order: ev.Order, kind: str) -> generator.Record:
    return generator.Record("orders", order.order_id.encode(), ev.encode(order), SPEC.start_ms, kind)


@pytest.fixture(scope="module")
def periods_run(platform):
    """The data set run through the job; with the job's id and restarts before it (an earlier
    module's drill may have restarted it: only this module's data must not)."""
    rest = FlinkRest(platform.flink_rest_url)
    job = rest.running_job(lessons.get("lesson15-trading-periods").name)
    before = (job["jid"], rest.restarts(job["jid"])) if job else None
    run_job(platform, "lesson15-trading-periods",
            [_record(FAR_FUTURE, "malformed:far-future"), *(_record(order, "valid") for order in [CLOSED_HOURS, *REUSED_ID]),
             *generator.generate(SPEC), _record(PLANTED_LATE, "late")])
    job = rest.running_job(lessons.get("lesson15-trading-periods").name)
    return platform, before or (job["jid"], 0)


def test_trading_periods_equal_the_oracle(periods_run):
    assert_equals_oracle(periods_run[0], oracle.check)


def test_revenue_is_in_a_closed_period_a_running_one_or_late(periods_run):
    counts = oracle.counts(periods_run[0].bootstrap_servers)
    assert counts["open_periods"] > 0 and counts["periods"] > counts["open_periods"], counts
    assert counts["revenue_late"] > 0 and counts["revenue_open"] > 0, counts
    assert (counts["revenue_counted"] + counts["revenue_open"] + counts["revenue_late"]
            == counts["revenue_produced"]), counts


def test_an_order_from_the_far_future_moves_no_clock(periods_run):
    """Only the data set's own late orders are late: the far-future one moved no stream time."""
    platform, (job_id, restarts) = periods_run
    counts = oracle.counts(platform.bootstrap_servers)
    assert 0 < counts["revenue_late"] < counts["revenue_produced"] // 20, counts
    rest = FlinkRest(platform.flink_rest_url)
    job = rest.running_job(lessons.get("lesson15-trading-periods").name)
    assert job is not None and job["jid"] == job_id, "the job was replaced"
    assert rest.restarts(job_id) == restarts, f"the job restarted: {rest.last_failure(job_id)}"
