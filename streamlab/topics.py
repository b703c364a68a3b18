"""Topics as code: one declarative catalog, applied idempotently with the AdminClient."""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
)

from streamlab.errors import UserError

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    description: str
    cleanup_policy: str = "delete"
    retention_ms: int = 7 * DAY_MS
    extra: dict[str, str] = field(default_factory=dict)

    def configs(self, min_insync: int = 1) -> dict[str, str]:
        """``min_insync`` applies to the jobs' outputs: with 3 replicas, a write the exactly-once
        sinks commit is on 2 brokers at least (the generator's raw input keeps the default 1)."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            **({} if self in RAW else {"min.insync.replicas": str(min_insync)}),
            **self.extra,
        }


# The broker stamps each raw record with its append time, a clock producers cannot set: the
# jobs trust an event time only up to an hour ahead of it (streamlab.events.MAX_AHEAD_MS).
APPEND_TIME = {"message.timestamp.type": "LogAppendTime"}
RAW = [
    Topic("clicks", 3, "User page views (keyed by user_id).", extra=APPEND_TIME),
    Topic("orders", 3, "Orders with line items (keyed by order_id).", extra=APPEND_TIME),
    Topic("payments", 3, "Card payments for orders (keyed by order_id).", extra=APPEND_TIME),
    Topic("customers", 1, "Customer changelog, the table side of joins (keyed by customer_id).",
          cleanup_policy="compact", retention_ms=-1, extra=APPEND_TIME),
    Topic("products", 1, "Product reference data, the global-table side (keyed by product_id).",
          cleanup_policy="compact", retention_ms=-1, extra=APPEND_TIME),
]

ITEM_BRANCHES = ["electronics", "fashion", "home", "other"]

LESSON14 = [
    Topic("l14-clicks", 3, "Human clicks, normalised (filter + map)."),
    *[
        Topic(f"l14-items-{branch}", 3, f"Order line items routed to the '{branch}' branch (flatMap + branch).")
        for branch in ITEM_BRANCHES
    ],
]

LESSON15 = [
    Topic("l15-revenue-1m", 3, "Orders, items and revenue per category per minute (tumbling window)."),
    Topic("l15-revenue-10m", 3, "10-minute revenue per category, every minute (hopping window)."),
    Topic("l15-sessions", 3, "Visits per user, closed after 30 idle minutes (session window)."),
    Topic("l15-late", 1, "Events that arrived after their window closed, with the window they missed."),
    Topic("l15-paid-orders", 3, "Orders with the payment that came within 15 minutes (interval join)."),
    Topic("l15-unpaid-orders", 3, "Orders with no payment within 15 minutes (outer interval join)."),
    Topic("l15-orders-enriched", 3, "Orders with the customer as of the order's time (temporal join)."),
    Topic("l15-items-enriched", 3, "Line items with the product as listed at the order's time (temporal join)."),
    Topic("l15-joins-late", 1, "Orders and payments too late to join, kept with their origin."),
    Topic("l15-category-stats", 3, "Per category and 5 minutes: count, sum, min, max, mean, stddev."),
    Topic("l15-top-products", 3, "Per category and 5 minutes: the top-3 products by revenue (UDAF)."),
    Topic("l15-revenue-cube", 3, "Revenue over CUBE(category, region, tier) per 5 minutes."),
    Topic("l15-aggregations-late", 1, "Orders too late for their 5-minute window."),
    Topic("l15-trading-periods", 3, "Revenue per category and trading period (custom window: store hours)."),
    Topic("l15-trading-late", 1, "Orders too late for their trading period."),
    Topic("alerts", 3, "Fraud alerts per card: rule, severity, evidence (keyed by card_id)."),
    Topic("l15-alerts-late", 1, "Payments too late to be put in order for the fraud patterns."),
]

# --8<-- [start:store_topics]
LESSON16 = [  # state stores' changelogs: compaction keeps the latest value per key, forever
    Topic("store-customer-orders", 3, "Per customer: orders, items, revenue, last order (upsert, compacted).",
          cleanup_policy="compact", retention_ms=-1),
    Topic("store-product-sales", 3, "Per product: order lines, units, revenue, last order (upsert, compacted).",
          cleanup_policy="compact", retention_ms=-1),
]
# --8<-- [end:store_topics]

DEAD_LETTER = Topic(
    "dead-letter", 1,
    "Malformed or invalid events: original key and bytes, reason and origin in headers.",
    retention_ms=30 * DAY_MS,
)

CATALOG: list[Topic] = [*RAW, *LESSON14, *LESSON15, *LESSON16, DEAD_LETTER]


def by_name(name: str) -> Topic:
    for topic in CATALOG:
        if topic.name == name:
            return topic
    raise UserError(f"unknown topic '{name}': known topics are {', '.join(t.name for t in CATALOG)}")


def apply(admin: AdminClient, replication: int = 1, min_insync: int = 1, catalog: list[Topic] = CATALOG,
          timeout_s: float = 30) -> dict[str, str]:
    """Create missing topics (``replication`` copies of each partition), grow partitions, and
    set configs; returns what was done per topic."""
    existing = admin.list_topics(timeout=timeout_s).topics
    actions: dict[str, str] = {}
    to_create = [t for t in catalog if t.name not in existing]
    if to_create:
        futures = admin.create_topics(
            [
                NewTopic(t.name, num_partitions=t.partitions,
                         replication_factor=replication, config=t.configs(min_insync))
                for t in to_create
            ],
            operation_timeout=timeout_s,
        )
        for name, future in futures.items():
            future.result()
            actions[name] = "created"
    grow = [
        t for t in catalog
        if t.name in existing and len(existing[t.name].partitions) < t.partitions
    ]
    if grow:
        for name, future in admin.create_partitions(
            [NewPartitions(t.name, t.partitions) for t in grow]
        ).items():
            future.result()
            actions[name] = "partitions increased"
    present = [t for t in catalog if t.name in existing]
    if present:
        resources = [
            ConfigResource(
                ConfigResource.Type.TOPIC,
                t.name,
                incremental_configs=[
                    ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
                    for key, value in t.configs(min_insync).items()
                ],
            )
            for t in present
        ]
        for resource, future in admin.incremental_alter_configs(resources).items():
            future.result()
            actions.setdefault(resource.name, "up to date")
    return actions
