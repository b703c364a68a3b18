"""The `streamlab` command table: every command, its arguments and their checks.

Kept apart from ``streamlab.apps.cli``, which runs the commands, so the docs' CLI reference and the
benchmark's own command line read it without importing everything the commands need.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from streamlab import lessons
from streamlab.data import generator, stores
from streamlab.jobs import drills
from streamlab.warehouse import analyst

# The Kafka Streams peers, by job name (the lessons' contracts declare them).
PEERS = sorted(lesson.peer.job for lesson in lessons.ALL if lesson.peer)
QUERYABLE_PEERS = sorted(lesson.peer.job for lesson in lessons.ALL if lesson.peer and lesson.peer.queryable)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that names the fix."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be greater than 0")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not a fraction between 0 and 1")
    return value


def _positive_float(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be greater than 0")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return value


def _timestamp(text: str) -> int:
    """An ISO-8601 time as epoch milliseconds (UTC unless it says otherwise)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO time like 2026-01-01T08:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="streamlab",
        description="A stream-processing lab: Kafka, Flink, and the lessons' jobs on one machine. "
        "Configuration comes from STREAMLAB_* environment variables (see the README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    sub.add_parser("setup", help="resolve the JVM jars (Kafka broker, Flink Kafka connector) and the "
                   "dashboard's chart library")
    up = sub.add_parser("up", help="start Kafka, create topics, start the Flink cluster, Airflow and the dashboard")
    up.add_argument("--brokers", type=positive_int, metavar="N",
                    help="Kafka brokers (KRaft quorum; 3: every topic replicated 3 times, outputs need 2 "
                    "in sync); remembered in the state dir (default 1, or STREAMLAB_KAFKA_BROKERS)")
    up.add_argument("--taskmanagers", type=positive_int, metavar="N",
                    help="Flink TaskManagers; remembered in the state dir (default 1, or "
                    "STREAMLAB_FLINK_TASKMANAGERS)")
    sub.add_parser("down", help="stop everything `up` started, and nothing else")
    state_cmd = sub.add_parser("status", help="broker, topics and end offsets, cluster, jobs (checkpoints, "
                               "restarts, last failure), Airflow, dashboard, savepoints, drills, warehouse")
    state_cmd.add_argument("--json", action="store_true",
                           help="services and jobs as one JSON document (for scripts and monitoring)")
    top = sub.add_parser("topics", help="list the topic catalog (or apply it to the broker)")
    top.add_argument("--apply", action="store_true",
                     help="create missing topics and set their configs (idempotent)")

    gen = sub.add_parser("generate", help="produce a seeded, deterministic event data set")
    size = gen.add_mutually_exclusive_group()
    size.add_argument("--count", type=positive_int, help="fact events (clicks, orders, payments); default 10000")
    size.add_argument("--duration", type=positive_int, metavar="SECONDS",
                      help="produce for this long at --rate (count = duration x rate)")
    gen.add_argument("--rate", type=_non_negative, default=0.0,
                     help="records per second; 0 (default) produces as fast as possible")
    gen.add_argument("--seed", type=int, default=42, help="same seed, same events (default 42)")
    gen.add_argument("--start", type=_timestamp, metavar="TIME",
                     help="event time of the first event, e.g. 2026-01-01T08:00:00Z; default: the "
                     "next whole hour after the newest event in the topics (or 2026-01-01T08:00Z)")
    gen.add_argument("--max-disorder-ms", type=int, default=generator.GeneratorSpec.max_disorder_ms,
                     help="largest random delay of an on-time event (out-of-order arrival)")
    gen.add_argument("--late-fraction", type=_fraction, default=generator.GeneratorSpec.late_fraction,
                     help="fraction of events delayed 5-15 minutes (late data)")
    gen.add_argument("--malformed-fraction", type=_fraction,
                     default=generator.GeneratorSpec.malformed_fraction,
                     help="fraction of events made malformed or invalid (dead-letter material)")
    gen.add_argument("--fraud-fraction", type=_fraction, default=generator.GeneratorSpec.fraud_fraction,
                     help="fraction of visits replaced by a fraud burst (card testing from abroad)")
    gen.add_argument("--no-heartbeat", action="store_true",
                     help="do not end with heartbeats (windows then stay open until more data)")
    gen.add_argument("--no-progress", action="store_true", help="no progress bar")

    dep = sub.add_parser("deploy", help="submit a job, or upgrade it by its upgrade mode if its code "
                         "changed (no-op when it runs the same code)")
    dep.add_argument("job", choices=sorted(lessons.BY_KEY), help="which job")
    for name, text in [("savepoint", "take a canonical savepoint of a running job (it keeps running)"),
                       ("stop", "stop a running job with a final savepoint"),
                       ("cancel", "cancel a running job (no savepoint; retained checkpoints stay)")]:
        op = sub.add_parser(name, help=text)
        op.add_argument("job", choices=sorted(lessons.BY_KEY), help="which job")
    prune_cmd = sub.add_parser("prune", help="remove old job runs' checkpoints, old releases and dead "
                               "writers' staging files (savepoints: the savepoint_backup DAG's retention)")
    prune_cmd.add_argument("--dry-run", action="store_true", help="only list what would go")
    res = sub.add_parser("restore", help="start a stopped job from a savepoint or retained checkpoint")
    res.add_argument("job", choices=sorted(lessons.BY_KEY), help="which job")
    res.add_argument("--from", dest="path", type=Path, metavar="PATH",
                     help="a savepoint or checkpoint directory; default: the job's newest savepoint")

    drill = sub.add_parser("drill", help="inject a fault mid-stream, measure recovery, reconcile with the oracle")
    drill.add_argument("scenario", choices=list(drills.FAULTS), help="which fault (broker-kill needs 3 brokers)")
    drill.add_argument("--events", type=positive_int, default=15_000,
                       help="fact events produced for the drill (default 15000)")
    drill.add_argument("--max-recovery-s", type=positive_int, default=180,
                       help="fail when recovery takes longer (default 180)")

    peer = sub.add_parser("peer", help="the lessons' Kafka Streams peers (peers/kafka-streams): start, "
                          "stop, reset, check against the oracle, describe, query")
    peer_actions = peer.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=OneLineParser)
    peer_start = peer_actions.add_parser("start", help="start a peer's instances (its topics first)")
    peer_start.add_argument("job", choices=PEERS, help="which peer")
    peer_start.add_argument("--instances", type=positive_int, default=1, help="instances to run (default 1)")
    peer_start.add_argument("--standby-replicas", type=_count, default=0,
                            help="warm copies of each stateful task on other instances (default 0)")
    peer_stop = peer_actions.add_parser("stop", help="stop a peer's instances (every peer's without JOB)")
    peer_stop.add_argument("job", nargs="?", choices=PEERS, help="which peer")
    peer_reset = peer_actions.add_parser("reset", help="stop a peer and reset it, as Kafka Streams' application "
                                         "reset tool does: its next start reads its inputs from the beginning "
                                         "into its emptied topics")
    peer_reset.add_argument("job", choices=PEERS, help="which peer")
    peer_check = peer_actions.add_parser("check", help="wait until a peer read its input, compare its "
                                         "topics with the oracle; non-zero exit when they differ")
    peer_check.add_argument("job", choices=PEERS, help="which peer")
    peer_describe = peer_actions.add_parser("describe", help="print a peer's topology as Kafka Streams describes it")
    peer_describe.add_argument("job", choices=PEERS, help="which peer")
    peer_query = peer_actions.add_parser("query", help="a key of a running peer's state store, by an interactive "
                                         "query over HTTP (whichever instance hosts it)")
    peer_query.add_argument("job", choices=QUERYABLE_PEERS, help="which peer")
    peer_query.add_argument("store", choices=sorted({s for lesson in lessons.ALL if lesson.peer
                                                     for s in lesson.peer.queryable}), help="which store")
    peer_query.add_argument("key", help="e.g. a customer id (c-0001) or a product id (p-001)")

    read = sub.add_parser("read", help="print a topic's committed records as JSON lines")
    read.add_argument("topic", help="topic name (see `streamlab topics`)")
    read.add_argument("--limit", type=positive_int, default=10, help="at most this many (default 10)")

    query = sub.add_parser("query", help="look a key up in a state store (restored from its compacted topic)")
    query.add_argument("store", choices=list(stores.STORES), help="which store")
    query.add_argument("key", help="the key, e.g. a customer_id or product_id")

    load = sub.add_parser("load", help="land every topic in the DuckDB warehouse, exactly once")
    load.add_argument("--batch-records", type=positive_int, default=100_000,
                      help="records per batch (one transaction each; default 100000)")
    load.add_argument("--follow", action="store_true",
                      help="keep loading as the stream flows, every --interval seconds (Ctrl-C stops)")
    load.add_argument("--interval", type=_non_negative, default=5.0,
                      help="seconds between loads with --follow (default 5)")

    sql = sub.add_parser("sql", help="query the warehouse read-only: a table, CSV or JSON; "
                         "without a query, an interactive duckdb shell")
    sql.add_argument("query", nargs="?", help="one SQL statement, e.g. \"SELECT * FROM marts.alerts LIMIT 5\"")
    sql.add_argument("--format", choices=analyst.FORMATS, default="table", help="output format (default table)")

    val = sub.add_parser("validate", help="run the Great Expectations checkpoint over every mart table; "
                         "non-zero exit when an expectation fails")
    val.add_argument("--no-docs", action="store_true", help="do not rebuild the Data Docs site")
    val.add_argument("--file", type=Path, metavar="PATH",
                     help="validate this warehouse file instead, e.g. a copy (results are not recorded)")

    sub.add_parser("dashboard", help="serve the live dashboard in the foreground (`up` starts it in the "
                   "background): page, query API (/openapi.json), WebSocket /ws")

    demo_ = sub.add_parser("demo", help="up, generate, deploy the lessons' jobs, reconcile with the oracle, "
                           "then a TaskManager-kill drill")
    demo_.add_argument("--no-drill", action="store_true", help="skip the closing recovery drill (a quicker re-run)")
    demo_.add_argument("--keep", action="store_true",
                       help="afterwards, keep producing live events so the dashboard moves, until Ctrl-C")
    demo_.add_argument("--rate", type=_positive_float, default=40.0,
                       help="events per second with --keep (default 40)")
    return parser
