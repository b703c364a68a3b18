"""Lesson 15's aggregations: statistics, a custom aggregate and a cube, in 5-minute windows."""

from streamlab.wire import events
from streamlab.wire.contract import Lesson, Mart, Output, UpgradeMode
from streamlab.wire.expectations import CATEGORY, after, allowed, at_least, not_null, window

WINDOW = "window_start_ms BIGINT, window_end_ms BIGINT"
# What each mart's rows promise: the warehouse checks them (Great Expectations).
CATEGORY_STATS = (
    *window("category"), *not_null("items", "revenue_cents", "min_line_cents", "max_line_cents"),
    *at_least(1, "items"), *at_least(0, "revenue_cents", "min_line_cents", "stddev_line_cents"),
    after("max_line_cents", "min_line_cents", or_equal=True), CATEGORY,
)

TOP_PRODUCTS = (
    *window("category"), *not_null("top_products"), CATEGORY
)

REVENUE_CUBE = (
    *window("cell"), *not_null("orders", "customers", "revenue_cents"),
    *at_least(1, "orders", "customers"), *at_least(0, "revenue_cents"),
    *not_null("category", "region", "tier"),  # '*' is the cube's "all"
    allowed("category", [*events.CATEGORIES, "*"]), allowed("tier", [*events.TIERS, "*"]),
    allowed("region", [*sorted(set(events.COUNTRY_REGION.values())), "*"]),
)

LESSON = Lesson(
    key="lesson15-aggregations",
    summary="statistics, a top-3 UDAF and a CUBE over category x region x tier in windows",
    inputs=("orders", "customers"),
    outputs=(
        Output("l15-category-stats", 3, "Per category and 5 minutes: count, sum, min, max, mean, stddev.",
               "stats_out", "category",
               f"category STRING, {WINDOW}, items BIGINT, revenue_cents BIGINT, min_line_cents BIGINT,"
               " max_line_cents BIGINT, mean_line_cents DOUBLE, stddev_line_cents DOUBLE",
               Mart("category_stats", expects=CATEGORY_STATS)),
        Output("l15-top-products", 3, "Per category and 5 minutes: the top-3 products by revenue (UDAF).",
               "top_out", "category",
               f"category STRING, {WINDOW}, top_products ARRAY<ROW<product_id STRING, revenue_cents BIGINT>>",
               Mart("top_products", expects=TOP_PRODUCTS)),
        Output("l15-revenue-cube", 3, "Revenue over CUBE(category, region, tier) per 5 minutes.",
               "cube_out", "cell",
               f"cell STRING, category STRING, region STRING, tier STRING, {WINDOW}, orders BIGINT,"
               " customers BIGINT, revenue_cents BIGINT", Mart("revenue_cube", expects=REVENUE_CUBE)),
    ),
    late=Output("l15-aggregations-late", 1, "Orders too late for their 5-minute window.", "late_out", "id",
                "id STRING, ts_ms BIGINT, missed_window_start_ms BIGINT, missed_window_end_ms BIGINT,"
                " source_topic STRING, source_partition INT, source_offset BIGINT"),
    upgrade_mode=UpgradeMode.SAVEPOINT,
    state="window accumulators, top-3, cube; customer versions",
)
