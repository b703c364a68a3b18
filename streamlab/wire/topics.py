"""The topics every part knows by name: the raw input and the dead letter. Lessons' outputs
are declared in their contracts; ``streamlab.data.topics`` gathers all of them into the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

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
# jobs trust an event time only up to an hour ahead of it (streamlab.wire.events.MAX_AHEAD_MS).
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

DEAD_LETTER = Topic(
    "dead-letter", 1,
    "Malformed or invalid events: original key and bytes, reason and origin in headers.",
    retention_ms=30 * DAY_MS,
)

PEER_DEAD_LETTER = Topic(
    "ks-dead-letter", 1,
    "The Kafka Streams peers' dead letter, in the same shape as the dead letter's.",
    retention_ms=30 * DAY_MS, extra=APPEND_TIME,
)
