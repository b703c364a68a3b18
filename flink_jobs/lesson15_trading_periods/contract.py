"""Lesson 15's custom window: revenue per category and trading period of the store."""

from streamlab.wire.contract import Lesson, Mart, Output, UpgradeMode
from streamlab.wire.expectations import CATEGORY, after, at_least, not_null, unique

# What each mart's rows promise: the warehouse checks them (Great Expectations).
TRADING_PERIODS = (
    *not_null("category", "period_start_time", "period_end_time", "store_open", "orders", "revenue_cents"),
    after("period_end_time", "period_start_time"), unique("category", "period_start_time"),
    *at_least(1, "orders"), *at_least(0, "revenue_cents"), CATEGORY,
)

LESSON = Lesson(
    key="lesson15-trading-periods",
    summary="custom window: revenue per category and trading period of the store",
    inputs=("orders",),
    outputs=(
        Output("l15-trading-periods", 3, "Revenue per category and trading period (custom window: store hours).",
               "periods_out", "category",
               "category STRING, period_start_ms BIGINT, period_end_ms BIGINT, `open` BOOLEAN, orders BIGINT,"
               " items BIGINT, revenue_cents BIGINT",
               Mart("trading_periods", expects=TRADING_PERIODS, renamed=(("open", "store_open"),))),
    ),
    late=Output("l15-trading-late", 1, "Orders too late for their trading period.", "late_out", "id",
                "id STRING, ts_ms BIGINT, missed_period_start_ms BIGINT, missed_period_end_ms BIGINT,"
                " source_topic STRING, source_partition INT, source_offset BIGINT"),
    upgrade_mode=UpgradeMode.SAVEPOINT,
    state="the custom window's totals and timer per category and period (a PTF, `uid => ...`)",
)
