"""The store's trading calendar: open Monday to Saturday 08:00-20:00 in Berlin, closed otherwise.

Time splits into alternating trading periods — open, then closed until the next opening (a
Saturday's closing runs to Monday morning) — in local time, daylight saving included.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# --8<-- [start:store_calendar]
STORE_ZONE = ZoneInfo("Europe/Berlin")
OPENS, CLOSES = time(8), time(20)
CLOSED_WEEKDAYS = {6}  # Sunday


def _epoch_ms(day: date, at: time) -> int:
    return int(datetime.combine(day, at, tzinfo=STORE_ZONE).timestamp() * 1000)


def _boundaries(around: date) -> list[tuple[int, bool]]:
    """(epoch ms, True when the store opens there) for the days around ``around``, in order."""
    out = []
    for offset in range(-3, 4):
        day = around + timedelta(days=offset)
        if day.weekday() not in CLOSED_WEEKDAYS:
            out += [(_epoch_ms(day, OPENS), True), (_epoch_ms(day, CLOSES), False)]
    return out


def period(ts_ms: int) -> tuple[int, int, bool]:
    """The trading period holding ``ts_ms``: (start ms, end ms exclusive, whether it is open)."""
    local_day = datetime.fromtimestamp(ts_ms / 1000, STORE_ZONE).date()
    boundaries = _boundaries(local_day)
    start, is_open = max((b for b in boundaries if b[0] <= ts_ms), key=lambda b: b[0])
    end = min(b[0] for b in boundaries if b[0] > ts_ms)
    return start, end, is_open
# --8<-- [end:store_calendar]
