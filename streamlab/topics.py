"""Topics as code: one declarative catalog, applied idempotently with the AdminClient."""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions, NewTopic

from streamlab import lessons
from streamlab.errors import UserError
from streamlab.wire.contract import Output

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


# --8<-- [start:compacted]
def _written(output: Output) -> Topic:
    if output.compacted:  # a state store's changelog: compaction keeps the latest value per key, forever
        return Topic(output.topic, output.partitions, output.description, cleanup_policy="compact", retention_ms=-1)
    return Topic(output.topic, output.partitions, output.description)
# --8<-- [end:compacted]


# Every lesson's outputs and late topics, from its contract (streamlab.lessons).
OUTPUTS = [_written(output) for lesson in lessons.ALL for output in lesson.writes]

DEAD_LETTER = Topic(
    "dead-letter", 1,
    "Malformed or invalid events: original key and bytes, reason and origin in headers.",
    retention_ms=30 * DAY_MS,
)

CATALOG: list[Topic] = [*RAW, *OUTPUTS, DEAD_LETTER]


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
