"""Lesson 15's windows: tumbling, hopping and session windows, with late data."""

from streamlab.wire.contract import Lesson, Mart, Output, Peer, UpgradeMode
from streamlab.wire.expectations import CATEGORY, after, at_least, not_null, unique, window

SESSION_GAP_MIN = 30  # a visit closes after this many idle minutes (the dashboard's too)

WINDOW = "category STRING, window_start_ms BIGINT, window_end_ms BIGINT, orders BIGINT"
# --8<-- [start:promises]
# What each mart's rows promise: the warehouse checks them (Great Expectations).
REVENUE_1M = (
    *window("category"), *not_null("orders", "items", "revenue_cents"),
    *at_least(1, "orders", "items"), *at_least(0, "revenue_cents"), CATEGORY,
)

REVENUE_10M = (
    *window("category"), *not_null("orders", "revenue_cents", "avg_order_cents"),
    *at_least(1, "orders"), *at_least(0, "revenue_cents", "avg_order_cents"), CATEGORY,
)

SESSIONS = (
    *not_null("user_id", "first_activity_time", "last_activity_time", "clicks", "pages", "orders", "converted"),
    after("last_activity_time", "first_activity_time", or_equal=True),
    unique("user_id", "first_activity_time"), *at_least(0, "clicks", "pages", "orders"),
)
# --8<-- [end:promises]

LESSON = Lesson(
    key="lesson15-windows",
    summary="tumbling, hopping and session windows with late data",
    inputs=("clicks", "orders"),
    outputs=(
        Output("l15-revenue-1m", 3, "Orders, items and revenue per category per minute (tumbling window).",
               "revenue_1m_out", "category", f"{WINDOW}, items BIGINT, revenue_cents BIGINT",
               Mart("revenue_1m", expects=REVENUE_1M)),
        Output("l15-revenue-10m", 3, "10-minute revenue per category, every minute (hopping window).",
               "revenue_10m_out", "category", f"{WINDOW}, revenue_cents BIGINT, avg_order_cents DOUBLE",
               Mart("revenue_10m", expects=REVENUE_10M)),
        Output("l15-sessions", 3, "Visits per user, closed after 30 idle minutes (session window).",
               "sessions_out", "user_id",
               "user_id STRING, first_activity_ms BIGINT, last_activity_ms BIGINT, clicks BIGINT, pages BIGINT,"
               " orders BIGINT, converted BOOLEAN", Mart("sessions", expects=SESSIONS)),
    ),
    late=Output("l15-late", 1, "Events that arrived after their window closed, with the window they missed.",
                "late_out", "id",
                "origin STRING, id STRING, ts_ms BIGINT, missed_window_start_ms BIGINT,"
                " missed_window_end_ms BIGINT, source_topic STRING, source_partition INT, source_offset BIGINT"),
    upgrade_mode=UpgradeMode.SAVEPOINT,
    state="open tumbling, hopping and session windows; stream time",
    # peers/kafka-streams/.../Lesson15Windows.java: the tumbling window and its late orders
    peer=Peer("ks-lesson15-windows", ("orders",), (("l15-revenue-1m", "ks-revenue-1m"), ("l15-late", "ks-late"))),
)
