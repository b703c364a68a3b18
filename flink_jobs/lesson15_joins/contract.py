"""Lesson 15's joins: the interval join, temporal joins and a global table."""

from streamlab.wire import events
from streamlab.wire.contract import Latency, Lesson, Mart, Output, Peer, UpgradeMode
from streamlab.wire.expectations import CATEGORY, after, allowed, at_least, not_null

# What each mart's rows promise: the warehouse checks them (Great Expectations).
PAID_ORDERS = (
    *not_null("order_id", "customer_id", "order_ts_time", "payment_id", "card_id", "amount_cents",
              "paid_after_ms"),
    *at_least(0, "amount_cents"), *at_least(0, "paid_after_ms", high=15 * 60_000),
    allowed("payment_country", list(events.COUNTRY_REGION)),
)

UNPAID_ORDERS = (
    *not_null("order_id", "customer_id", "order_ts_time", "deadline_time"),
    after("deadline_time", "order_ts_time"),
)

ORDERS_ENRICHED = (
    *not_null("order_id", "customer_id", "ts_time", "tier", "country", "region", "customer_version_time"),
    allowed("tier", events.TIERS), allowed("region", sorted(set(events.COUNTRY_REGION.values()))),
    after("ts_time", "customer_version_time", or_equal=True),
)

ITEMS_ENRICHED = (
    *not_null("order_id", "line_no", "product_id", "category", "quantity", "line_total_cents", "ts_time",
              "product_name", "list_price_cents", "product_version_time"),
    *at_least(1, "quantity", high=999), *at_least(0, "line_total_cents", "list_price_cents"), CATEGORY,
    after("ts_time", "product_version_time", or_equal=True),
)

LESSON = Lesson(
    key="lesson15-joins",
    summary="interval join (paid / unpaid orders), temporal joins with customers and products",
    inputs=("orders", "payments", "customers", "products"),
    outputs=(
        Output("l15-paid-orders", 3, "Orders with the payment that came within 15 minutes (interval join).",
               "paid_out", "order_id",
               "order_id STRING, customer_id STRING, order_ts_ms BIGINT, payment_id STRING, card_id STRING,"
               " payment_country STRING, amount_cents BIGINT, paid_after_ms BIGINT",
               Mart("paid_orders", expects=PAID_ORDERS, spans=("paid_after_ms",))),
        Output("l15-unpaid-orders", 3, "Orders with no payment within 15 minutes (outer interval join).",
               "unpaid_out", "order_id",
               "order_id STRING, customer_id STRING, order_ts_ms BIGINT, deadline_ms BIGINT",
               Mart("unpaid_orders", expects=UNPAID_ORDERS)),
        Output("l15-orders-enriched", 3, "Orders with the customer as of the order's time (temporal join).",
               "orders_enriched_out", "order_id",
               "order_id STRING, customer_id STRING, ts_ms BIGINT, customer_name STRING, tier STRING,"
               " country STRING, region STRING, customer_version_ms BIGINT", Mart("orders_enriched", expects=ORDERS_ENRICHED)),
        Output("l15-items-enriched", 3, "Line items with the product as listed at the order's time (temporal join).",
               "items_enriched_out", "order_id",
               "order_id STRING, line_no INT, product_id STRING, category STRING, quantity INT,"
               " unit_price_cents BIGINT, line_total_cents BIGINT, ts_ms BIGINT, product_name STRING,"
               " list_price_cents BIGINT, product_version_ms BIGINT", Mart("items_enriched", expects=ITEMS_ENRICHED)),
    ),
    late=Output("l15-joins-late", 1, "Orders and payments too late to join, kept with their origin.",
                "late_out", "id",
                "origin STRING, id STRING, ts_ms BIGINT, source_topic STRING, source_partition INT,"
                " source_offset BIGINT"),
    upgrade_mode=UpgradeMode.SAVEPOINT,
    state="interval-join buffers; customer and product versions",
    latency=Latency("l15-paid-orders", lambda out: [("orders", out["order_id"]), ("payments", out["payment_id"])]),
    peer=Peer("ks-lesson15-joins", ("orders", "payments", "customers"),
              tuple((output, "ks-" + output.removeprefix("l15-"))
                    for output in ("l15-paid-orders", "l15-unpaid-orders", "l15-orders-enriched",
                                   "l15-items-enriched", "l15-joins-late")),
              global_tables=("products",)),
)
