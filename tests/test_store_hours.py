"""The trading calendar behind Lesson 15's custom window (Python, unlike the SQL oracle's)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from flink_jobs.lesson15_trading_periods import store_hours

HOUR_MS = 3_600_000


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp() * 1000)


@pytest.mark.parametrize(("at", "start", "end", "is_open"), [
    ("2026-03-20T12:00", "2026-03-20T07:00", "2026-03-20T19:00", True),   # Friday, winter time
    ("2026-03-20T19:00", "2026-03-20T19:00", "2026-03-21T07:00", False),  # closing is the next period
    ("2026-03-22T12:00", "2026-03-21T19:00", "2026-03-23T07:00", False),  # Sunday: Saturday night to Monday
    ("2026-03-29T12:00", "2026-03-28T19:00", "2026-03-30T06:00", False),  # summer time starts: 35 hours
    ("2026-10-25T12:00", "2026-10-24T18:00", "2026-10-26T07:00", False),  # and ends: 37 hours
])
def test_period(at, start, end, is_open):
    assert store_hours.period(ms(at)) == (ms(start), ms(end), is_open)


def test_periods_tile_time():
    _, end, is_open = store_hours.period(ms("2026-03-16T00:00"))
    for _ in range(30):
        next_start, next_end, next_open = store_hours.period(end)
        assert next_start == end and next_open != is_open and next_end > next_start
        end, is_open = next_end, next_open
