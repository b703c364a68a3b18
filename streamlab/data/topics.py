"""Topics as code: one declarative catalog (the raw topics and the dead letter of
``streamlab.wire.topics``, every lesson's outputs), applied idempotently with the AdminClient."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions, NewTopic

from streamlab import lessons
from streamlab.errors import UserError
from streamlab.wire.contract import Output
from streamlab.wire.topics import APPEND_TIME, DEAD_LETTER, PEER_DEAD_LETTER, RAW, Topic


# --8<-- [start:compacted]
def _written(output: Output) -> Topic:
    if output.compacted:  # a state store's changelog: compaction keeps the latest value per key, forever
        return Topic(output.topic, output.partitions, output.description, cleanup_policy="compact", retention_ms=-1)
    return Topic(output.topic, output.partitions, output.description)
# --8<-- [end:compacted]


# Every lesson's outputs and late topics, from its contract (streamlab.lessons).
OUTPUTS = [_written(output) for lesson in lessons.ALL for output in lesson.writes]

CATALOG: list[Topic] = [*RAW, *OUTPUTS, DEAD_LETTER]

# The Kafka Streams peers' topics, each partitioned as the output it stands beside: created when
# a peer starts (streamlab.jobs.peers), beside the platform's catalog, not in it. Kafka Streams
# stamps an output record with its event time, and retention counts from the record's
# timestamp: a replayed backlog of last month would be deleted as it is written. The broker's
# append time keeps them for their retention from now, as the raw topics' does.
PEER_CATALOG: list[Topic] = [
    *(Topic(topic, lesson.output(output).partitions, f"Kafka Streams peer of {output}.", extra=APPEND_TIME)
      for lesson in lessons.ALL if lesson.peer for output, topic in lesson.peer.topics),
    PEER_DEAD_LETTER,
]


def by_name(name: str) -> Topic:
    for topic in [*CATALOG, *PEER_CATALOG]:
        if topic.name == name:
            return topic
    raise UserError(f"unknown topic '{name}': known topics are "
                    f"{', '.join(t.name for t in [*CATALOG, *PEER_CATALOG])}")


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
