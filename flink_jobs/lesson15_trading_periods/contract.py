"""Lesson 15's custom window: revenue per category and trading period of the store."""

from streamlab.wire.contract import Lesson, Mart, Output, UpgradeMode

LESSON = Lesson(
    key="lesson15-trading-periods",
    summary="custom window: revenue per category and trading period of the store",
    inputs=("orders",),
    outputs=(
        Output("l15-trading-periods", 3, "Revenue per category and trading period (custom window: store hours).",
               "periods_out", "category",
               "category STRING, period_start_ms BIGINT, period_end_ms BIGINT, `open` BOOLEAN, orders BIGINT,"
               " items BIGINT, revenue_cents BIGINT",
               Mart("trading_periods", renamed=(("open", "store_open"),))),
    ),
    late=Output("l15-trading-late", 1, "Orders too late for their trading period.", "late_out", "id",
                "id STRING, ts_ms BIGINT, missed_period_start_ms BIGINT, missed_period_end_ms BIGINT,"
                " source_topic STRING, source_partition INT, source_offset BIGINT"),
    upgrade_mode=UpgradeMode.SAVEPOINT,
    state="the custom window's totals and timer per category and period (a PTF, `uid => ...`)",
)
