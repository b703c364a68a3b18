"""Lesson 16's state stores: per-key aggregates in compacted topics, queried from outside."""

from streamlab.wire.contract import Lesson, Mart, Output, Peer, UpgradeMode
from streamlab.wire.expectations import at_least, not_null, unique

# What each mart's rows promise: the warehouse checks them (Great Expectations).
CUSTOMER_ORDERS = (
    *not_null("customer_id", "orders", "items", "revenue_cents", "last_order_time"),
    unique("customer_id"), *at_least(1, "orders", "items"), *at_least(0, "revenue_cents"),
)

PRODUCT_SALES = (
    *not_null("product_id", "lines", "units", "revenue_cents", "last_order_time"),
    unique("product_id"), *at_least(1, "lines", "units"), *at_least(0, "revenue_cents"),
)

# --8<-- [start:stores]
LESSON = Lesson(
    key="lesson16-stores",
    summary="interactive queries: per-customer and per-product aggregates in compacted topics",
    inputs=("orders",),
    outputs=(  # state stores' changelogs: compaction keeps the latest value per key, forever
        Output("store-customer-orders", 3, "Per customer: orders, items, revenue, last order (upsert, compacted).",
               "customer_store", "customer_id",
               "customer_id STRING, orders BIGINT, items BIGINT, revenue_cents BIGINT, last_order_ms BIGINT",
               Mart("customer_orders", expects=CUSTOMER_ORDERS), compacted=True),
        Output("store-product-sales", 3, "Per product: order lines, units, revenue, last order (upsert, compacted).",
               "product_store", "product_id",
               "product_id STRING, lines BIGINT, units BIGINT, revenue_cents BIGINT, last_order_ms BIGINT",
               Mart("product_sales", expects=PRODUCT_SALES), compacted=True),
    ),
    upgrade_mode=UpgradeMode.SAVEPOINT,
    state="one aggregate row per customer and per product",
    peer=Peer("ks-lesson16-stores", ("orders",),
              (("store-customer-orders", "ks-store-customer-orders"), ("store-product-sales", "ks-store-product-sales")),
              queryable=("customer-orders", "product-sales")),
)
# --8<-- [end:stores]
