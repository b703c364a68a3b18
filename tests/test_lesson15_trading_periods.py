"""Lesson 15's custom window against the oracle: revenue per category and trading period."""

from __future__ import annotations

import pytest

from conftest import assert_equals_oracle, run_job
from streamlab import generator
from streamlab import events as ev
from validation import lesson15_trading_periods

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


@pytest.fixture(scope="module")
def periods_run(platform):
    planted = generator.Record("orders", PLANTED_LATE.order_id.encode(), ev.encode(PLANTED_LATE),
                               PLANTED_LATE.ts_ms, "late")
    run_job(platform, "lesson15-trading-periods", [*generator.generate(SPEC), planted])
    return platform


def test_trading_periods_equal_the_oracle(periods_run):
    assert_equals_oracle(periods_run, lesson15_trading_periods.check)


def test_revenue_is_in_a_closed_period_a_running_one_or_late(periods_run):
    counts = lesson15_trading_periods.counts(periods_run.bootstrap_servers)
    assert counts["open_periods"] > 0 and counts["periods"] > counts["open_periods"], counts
    assert counts["revenue_late"] > 0 and counts["revenue_open"] > 0, counts
    assert (counts["revenue_counted"] + counts["revenue_open"] + counts["revenue_late"]
            == counts["revenue_produced"]), counts
