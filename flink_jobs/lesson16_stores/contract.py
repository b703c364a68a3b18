"""Lesson 16's state stores: per-key aggregates in compacted topics, queried from outside."""

from streamlab.wire.contract import Lesson, Mart, Output, UpgradeMode

# --8<-- [start:stores]
LESSON = Lesson(
    key="lesson16-stores",
    summary="interactive queries: per-customer and per-product aggregates in compacted topics",
    inputs=("orders",),
    outputs=(  # state stores' changelogs: compaction keeps the latest value per key, forever
        Output("store-customer-orders", 3, "Per customer: orders, items, revenue, last order (upsert, compacted).",
               "customer_store", "customer_id",
               "customer_id STRING, orders BIGINT, items BIGINT, revenue_cents BIGINT, last_order_ms BIGINT",
               Mart("customer_orders"), compacted=True),
        Output("store-product-sales", 3, "Per product: order lines, units, revenue, last order (upsert, compacted).",
               "product_store", "product_id",
               "product_id STRING, lines BIGINT, units BIGINT, revenue_cents BIGINT, last_order_ms BIGINT",
               Mart("product_sales"), compacted=True),
    ),
    upgrade_mode=UpgradeMode.SAVEPOINT,
    state="one aggregate row per customer and per product",
)
# --8<-- [end:stores]
