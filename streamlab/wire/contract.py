"""A lesson's contract: what its job is called, what it reads and writes, and how it upgrades.

Each lesson folder declares one (``flink_jobs/<folder>/contract.py``, ``LESSON``), and
``streamlab.lessons`` collects them: deploy, the topic catalog, the warehouse, drills, the demo,
the benchmark and the docs read a lesson from here, so its identity is written once. The key
is the folder's name with dashes (``lesson15-windows`` lives in ``flink_jobs/lesson15_windows/``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from streamlab.wire.expectations import Rule


class UpgradeMode(StrEnum):
    """How a changed job takes its state to the new code (as the Flink Kubernetes Operator's)."""

    SAVEPOINT = "savepoint"  # stop with a savepoint, start the new code from it
    LAST_STATE = "last-state"  # cancel, start from the newest retained checkpoint (faster)
    STATELESS = "stateless"  # cancel, start empty; Kafka offsets come from the consumer group


def parse_columns(columns: str) -> list[tuple[str, str]]:
    """``"a STRING, b ARRAY<ROW<c INT, d BIGINT>>"`` as ``[("a", "STRING"), ("b", "ARRAY<ROW<...>>")]``."""
    parts, depth, current = [], 0, ""
    for char in columns + ",":
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"<": 1, ">": -1}.get(char, 0)
        current += char
    return [(name.strip("`"), sql_type.strip()) for name, sql_type in (part.split(" ", 1) for part in parts)]


# How DuckDB, the engine of the warehouse and of the oracle, reads a Flink SQL column from JSON.
DUCKDB_TYPES = {"STRING": "VARCHAR", "INT": "INTEGER", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN"}


def duckdb_type(flink_type: str) -> str:
    """``ARRAY<ROW<a STRING>>`` as ``STRUCT(a VARCHAR)[]``, ``ARRAY<STRING>`` as ``VARCHAR[]``, and so on."""
    if flink_type.startswith("ARRAY<ROW<"):
        fields = ", ".join(f"{name} {duckdb_type(sql_type)}" for name, sql_type in parse_columns(flink_type[10:-2]))
        return f"STRUCT({fields})[]"
    if flink_type.startswith("ARRAY<"):
        return duckdb_type(flink_type[6:-1]) + "[]"
    return DUCKDB_TYPES[flink_type]


@dataclass(frozen=True)
class Mart:
    """Where an output lands in the warehouse: ``marts.<name>``, its columns typed from the
    output's, where an epoch-millisecond ``*_ms`` column becomes a ``*_time`` timestamp."""

    name: str
    expects: tuple[Rule, ...] = ()  # what its rows promise: the warehouse's expectation suite
    spans: tuple[str, ...] = ()  # ``*_ms`` columns that are durations, not instants: kept as numbers
    renamed: tuple[tuple[str, str], ...] = ()  # (output column, warehouse column)
    tag: tuple[str, str] | None = None  # (column, value) saying which of the outputs sharing it a row is from


@dataclass(frozen=True)
class Output:
    """A topic the job writes, as the job's SQL sink table ``table`` with Flink SQL ``columns``,
    each record keyed by the column ``key``. A late topic has no ``mart``: every job's late
    records land in one table, ``marts.late_events``."""

    topic: str
    partitions: int
    description: str
    table: str
    key: str
    columns: str
    mart: Mart | None = None
    compacted: bool = False  # a state store's changelog: upserts, compacted, kept forever

    def column_types(self) -> list[tuple[str, str]]:
        """(name, Flink SQL type) per column, in order."""
        return parse_columns(self.columns)

    def duckdb_columns(self) -> dict[str, str]:
        """Each column's DuckDB type, in order: how the oracle reads the topic's JSON."""
        return {name: duckdb_type(sql_type) for name, sql_type in self.column_types()}


@dataclass(frozen=True)
class Latency:
    """The output whose latency means something per record, and the input records (topic, id)
    each of its records depends on: a window's latency is its length, not the platform's speed."""

    output: str
    inputs: Callable[[dict], list[tuple[str, str]]]


@dataclass(frozen=True)
class Peer:
    """The lesson's Kafka Streams peer (``peers/kafka-streams``): the same concept on the same
    raw topics, written with the curriculum's own engine into topics of its own."""

    job: str  # the topology's name: its application id, consumer group and state directory
    inputs: tuple[str, ...]  # the raw topics its consumer group reads (and commits offsets on)
    topics: tuple[tuple[str, str], ...]  # (the lesson's output, the peer's topic for it)
    dead_letter: bool = False  # it judges the raw input into ``PEER_DEAD_LETTER``
    global_tables: tuple[str, ...] = ()  # raw topics read whole into GlobalKTables: no group offsets
    queryable: tuple[str, ...] = ()  # its stores that answer interactive queries over HTTP

    def topic(self, output: str) -> str:
        return dict(self.topics)[output]


@dataclass(frozen=True)
class Lesson:
    key: str  # `streamlab deploy KEY`; the folder's name with dashes
    summary: str
    inputs: tuple[str, ...]  # the topics it consumes (its consumer group commits offsets on them)
    outputs: tuple[Output, ...]
    upgrade_mode: UpgradeMode
    state: str  # the state it keeps, in a phrase
    late: Output | None = None  # where records too late for it go, with where they came from
    dead_letter: bool = False  # it judges the raw input and dead-letters what the rules reject
    latency: Latency | None = None
    peer: Peer | None = None

    @property
    def name(self) -> str:
        """The Flink job's name (``pipeline.name``), its consumer group and transactional-id prefix."""
        return f"streamlab-{self.key}"

    @property
    def folder(self) -> str:
        return self.key.replace("-", "_")

    @property
    def script(self) -> Path:
        """The job, relative to the code directory."""
        return Path("flink_jobs") / self.folder / "job.py"

    @property
    def lesson(self) -> int:
        """The curriculum's lesson number, from the key (``lesson15-joins``: 15)."""
        return int(re.match(r"lesson(\d+)-", self.key).group(1))  # type: ignore[union-attr]

    @property
    def writes(self) -> tuple[Output, ...]:
        """Every topic the job writes: its outputs, then its late topic."""
        return (*self.outputs, *([self.late] if self.late else []))

    def output(self, topic: str) -> Output:
        return next(output for output in self.writes if output.topic == topic)
