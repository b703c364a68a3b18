"""Expectation suites as code: what every mart table must satisfy.

Rules are plain data here (one class per kind of promise) and become Great Expectations
expectations in ``streamlab.warehouse.quality``. Each mart table has a suite; the reconciliation suite
checks the marts against the raw input (see ``streamlab.warehouse.reconcile``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flink_jobs.lesson14_stateless.contract import ITEM_BRANCHES
from streamlab import lessons
from streamlab.data import topics
from streamlab.warehouse.marts import LATE_JOB
from streamlab.wire import events

RULE_CLASSES = ("not_null", "range", "order", "unique", "allowed", "reconcile")


@dataclass(frozen=True)
class Rule:
    kind: str  # one of RULE_CLASSES
    columns: tuple[str, ...]
    low: float | None = None  # range
    high: float | None = None
    values: tuple[str, ...] = ()  # allowed
    or_equal: bool = False  # order: columns[0] >= columns[1] instead of >

    def describe(self) -> str:
        cols = ", ".join(self.columns)
        match self.kind:
            case "range" if self.high is None:
                return f"{cols} >= {self.low:g}"
            case "range":
                return f"{cols} between {self.low:g} and {self.high:g}"
            case "order":
                return f"{self.columns[0]} {'>=' if self.or_equal else '>'} {self.columns[1]}"
            case "unique":
                return f"({cols}) unique"
            case "allowed":
                return f"{cols} in {{{', '.join(self.values)}}}"
            case "reconcile":
                return f"{self.columns[0]} = {self.columns[1]}"
        return f"{cols} not null"


def not_null(*columns: str) -> list[Rule]:
    return [Rule("not_null", (c,)) for c in columns]


def at_least(low: float, *columns: str, high: float | None = None) -> list[Rule]:
    return [Rule("range", (c,), low=low, high=high) for c in columns]


def after(later: str, earlier: str, or_equal: bool = False) -> Rule:
    return Rule("order", (later, earlier), or_equal=or_equal)


def unique(*columns: str) -> Rule:
    return Rule("unique", columns)


def allowed(column: str, values: list[str]) -> Rule:
    return Rule("allowed", (column,), values=tuple(values))


def window(key: str, start: str = "window_start_time", end: str = "window_end_time") -> list[Rule]:
    """What every window result promises: bounds set and ordered, one row per (key, window)."""
    return [*not_null(key, start, end), after(end, start), unique(key, start)]


CATEGORY = allowed("category", events.CATEGORIES)
RULES = ["two-countries", "rapid-payments", "amount-spike"]
RAW_TOPICS = [t.name for t in topics.RAW]

SUITES: dict[str, list[Rule]] = {
    "marts.clicks": [
        *not_null("event_id", "user_id", "page_type", "path", "device", "ts_time"),
        allowed("page_type", ["home", "product", "category", "cart", "search", "other"]),
        allowed("device", events.DEVICES),
    ],
    "marts.order_items": [
        *not_null("branch", "order_id", "line_no", "product_id", "category", "quantity", "unit_price_cents",
                  "line_total_cents", "ts_time"),
        *at_least(1, "quantity", high=999), *at_least(1, "line_no"), *at_least(0, "unit_price_cents"),
        CATEGORY, allowed("branch", ITEM_BRANCHES),
    ],
    "marts.revenue_1m": [
        *window("category"), *not_null("orders", "items", "revenue_cents"),
        *at_least(1, "orders", "items"), *at_least(0, "revenue_cents"), CATEGORY,
    ],
    "marts.revenue_10m": [
        *window("category"), *not_null("orders", "revenue_cents", "avg_order_cents"),
        *at_least(1, "orders"), *at_least(0, "revenue_cents", "avg_order_cents"), CATEGORY,
    ],
    "marts.sessions": [
        *not_null("user_id", "first_activity_time", "last_activity_time", "clicks", "pages", "orders", "converted"),
        after("last_activity_time", "first_activity_time", or_equal=True),
        unique("user_id", "first_activity_time"), *at_least(0, "clicks", "pages", "orders"),
    ],
    "marts.late_events": [
        *not_null("job", "origin", "id", "ts_time", "source_topic", "source_partition", "source_offset"),
        allowed("job", sorted(set(LATE_JOB.values()))),
        allowed("origin", ["orders", "payments", "session-orders", "session-clicks"]),
        # an order can be late for its 1-minute window and for its session: two rows, two origins
        unique("job", "origin", "source_topic", "source_partition", "source_offset"),
        after("missed_window_end", "missed_window_start"),
    ],
    "marts.paid_orders": [
        *not_null("order_id", "customer_id", "order_ts_time", "payment_id", "card_id", "amount_cents",
                  "paid_after_ms"),
        *at_least(0, "amount_cents"), *at_least(0, "paid_after_ms", high=15 * 60_000),
        allowed("payment_country", list(events.COUNTRY_REGION)),
    ],
    "marts.unpaid_orders": [
        *not_null("order_id", "customer_id", "order_ts_time", "deadline_time"),
        after("deadline_time", "order_ts_time"),
    ],
    "marts.orders_enriched": [
        *not_null("order_id", "customer_id", "ts_time", "tier", "country", "region", "customer_version_time"),
        allowed("tier", events.TIERS), allowed("region", sorted(set(events.COUNTRY_REGION.values()))),
        after("ts_time", "customer_version_time", or_equal=True),
    ],
    "marts.items_enriched": [
        *not_null("order_id", "line_no", "product_id", "category", "quantity", "line_total_cents", "ts_time",
                  "product_name", "list_price_cents", "product_version_time"),
        *at_least(1, "quantity", high=999), *at_least(0, "line_total_cents", "list_price_cents"), CATEGORY,
        after("ts_time", "product_version_time", or_equal=True),
    ],
    "marts.category_stats": [
        *window("category"), *not_null("items", "revenue_cents", "min_line_cents", "max_line_cents"),
        *at_least(1, "items"), *at_least(0, "revenue_cents", "min_line_cents", "stddev_line_cents"),
        after("max_line_cents", "min_line_cents", or_equal=True), CATEGORY,
    ],
    "marts.top_products": [*window("category"), *not_null("top_products"), CATEGORY],
    "marts.revenue_cube": [
        *window("cell"), *not_null("orders", "customers", "revenue_cents"),
        *at_least(1, "orders", "customers"), *at_least(0, "revenue_cents"),
        *not_null("category", "region", "tier"),  # '*' is the cube's "all"
        allowed("category", [*events.CATEGORIES, "*"]), allowed("tier", [*events.TIERS, "*"]),
        allowed("region", [*sorted(set(events.COUNTRY_REGION.values())), "*"]),
    ],
    "marts.trading_periods": [
        *not_null("category", "period_start_time", "period_end_time", "store_open", "orders", "revenue_cents"),
        after("period_end_time", "period_start_time"), unique("category", "period_start_time"),
        *at_least(1, "orders"), *at_least(0, "revenue_cents"), CATEGORY,
    ],
    "marts.alerts": [
        *not_null("alert_id", "rule", "severity", "card_id", "ts_time", "payment_ids"),
        allowed("rule", RULES), allowed("severity", ["medium", "high"]), unique("alert_id"),
        *at_least(0, "amount_cents"),
    ],
    "marts.dead_letters": [
        *not_null("job", "reason", "source_topic", "source_partition", "source_offset"),
        allowed("job", [lesson.name for lesson in lessons.ALL if lesson.dead_letter]), allowed("source_topic", RAW_TOPICS),
        unique("source_topic", "source_partition", "source_offset"),  # each rejected record once
    ],
    "marts.customer_orders": [
        *not_null("customer_id", "orders", "items", "revenue_cents", "last_order_time"),
        unique("customer_id"), *at_least(1, "orders", "items"), *at_least(0, "revenue_cents"),
    ],
    "marts.product_sales": [
        *not_null("product_id", "lines", "units", "revenue_cents", "last_order_time"),
        unique("product_id"), *at_least(1, "lines", "units"), *at_least(0, "revenue_cents"),
    ],
    "reconciliation": [*not_null("warehouse_value", "oracle_value"),
                       Rule("reconcile", ("warehouse_value", "oracle_value"))],
}
