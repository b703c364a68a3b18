"""Lesson 14's contract: the stateless topology, the platform's front door."""

from streamlab.wire import events
from streamlab.wire.contract import Latency, Lesson, Mart, Output, Peer, UpgradeMode
from streamlab.wire.expectations import CATEGORY, allowed, at_least, not_null

ITEM_BRANCHES = ["electronics", "fashion", "home", "other"]  # "other": every category not named
# --8<-- [start:click_columns]
CLICK = ("event_id STRING, user_id STRING, page_type STRING, path STRING, product_id STRING,"
         " device STRING, ts_ms BIGINT")
# --8<-- [end:click_columns]
LINE_ITEM = ("order_id STRING, line_no INT, customer_id STRING, product_id STRING, category STRING,"
             " quantity INT, unit_price_cents BIGINT, line_total_cents BIGINT, ts_ms BIGINT")

# What each mart's rows promise: the warehouse checks them (Great Expectations).
CLICKS = (
    *not_null("event_id", "user_id", "page_type", "path", "device", "ts_time"),
    allowed("page_type", ["home", "product", "category", "cart", "search", "other"]),
    allowed("device", events.DEVICES),
)

ORDER_ITEMS = (
    *not_null("branch", "order_id", "line_no", "product_id", "category", "quantity", "unit_price_cents",
              "line_total_cents", "ts_time"),
    *at_least(1, "quantity", high=999), *at_least(1, "line_no"), *at_least(0, "unit_price_cents"),
    CATEGORY, allowed("branch", ITEM_BRANCHES),
)

LESSON = Lesson(
    key="lesson14-stateless",
    summary="stateless topology: filter, map, flatMap, branch; the dead letter of every raw topic",
    inputs=("clicks", "orders", "payments", "customers", "products"),  # every raw topic, validated here
    outputs=(
        # --8<-- [start:clicks_output]
        Output("l14-clicks", 3, "Human clicks, normalised (filter + map).", "clicks_out", "user_id", CLICK,
               Mart("clicks", expects=CLICKS)),
        # --8<-- [end:clicks_output]
        *(Output(f"l14-items-{branch}", 3, f"Order line items routed to the '{branch}' branch (flatMap + branch).",
                 f"items_{branch}", "order_id", LINE_ITEM,
                 Mart("order_items", expects=ORDER_ITEMS, tag=("branch", branch))) for branch in ITEM_BRANCHES),
    ),
    upgrade_mode=UpgradeMode.STATELESS,  # no keyed state: only offsets, which the group keeps
    state="none (offsets only)",
    dead_letter=True,
    latency=Latency("l14-clicks", lambda out: [("clicks", out["event_id"])]),
    # peers/kafka-streams/.../Lesson14Stateless.java
    peer=Peer("ks-lesson14-stateless", ("clicks", "orders", "payments", "customers", "products"),
              (("l14-clicks", "ks-clicks"),
               *((f"l14-items-{b}", f"ks-items-{b}") for b in ITEM_BRANCHES)),
              dead_letter=True),
)
