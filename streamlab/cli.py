"""The `streamlab` command line. User errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from confluent_kafka.admin import AdminClient
from pydantic import ValidationError

from streamlab import (
    analyst, demo, docsite, drills, frontend, generator, jars, kafka_io, lessons, lifecycle, loader, ops, platform,
    producer, prune, rollout, status, stores, topics, warehouse,
)
from streamlab.config import Settings
from streamlab.dashboard import assets as dashboard_assets
from streamlab.dashboard import service as dashboard_service
from streamlab.errors import UserError


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


def _generate(settings: Settings, args: argparse.Namespace) -> None:
    if args.duration is not None and args.rate <= 0:
        raise UserError("--duration needs a --rate above 0 (count = duration x rate)")
    count = int(args.duration * args.rate) if args.duration is not None else (args.count or 10_000)
    kafka_io.require_broker(settings.bootstrap_servers)
    start = args.start
    if start is None:
        start = kafka_io.next_start_ms(settings.bootstrap_servers)
    spec = generator.GeneratorSpec(
        seed=args.seed, count=count, start_ms=start, max_disorder_ms=args.max_disorder_ms,
        late_fraction=args.late_fraction, malformed_fraction=args.malformed_fraction,
        fraud_fraction=args.fraud_fraction,
        heartbeat=not args.no_heartbeat,
    )
    print(f"event time starts at {datetime.fromtimestamp(start / 1000, timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
    produced = producer.produce(
        generator.generate(spec), settings.bootstrap_servers, rate=args.rate,
        progress=not args.no_progress,
    )
    print(f"{'topic':12} {'records':>8} {'valid':>8} {'late':>6} {'malformed':>9} {'heartbeats':>10}")
    for topic in ["clicks", "orders", "payments", "customers", "products"]:
        print(f"{topic:12} {produced[topic]:>8} {produced[topic + ':valid']:>8} "
              f"{produced[topic + ':late']:>6} {produced[topic + ':malformed']:>9} "
              f"{produced[topic + ':heartbeat']:>10}")


def _read(settings: Settings, args: argparse.Namespace) -> None:
    topics.by_name(args.topic)
    kafka_io.require_broker(settings.bootstrap_servers)
    for message in kafka_io.read_all(settings.bootstrap_servers, args.topic, limit=args.limit):
        print(json.dumps({
            "partition": message.partition, "offset": message.offset,
            "key": message.key.decode("utf-8", "replace") if message.key else None,
            "value": message.value.decode("utf-8", "replace") if message.value else None,
            "headers": {k: v.decode("utf-8", "replace") for k, v in message.headers.items()},
        }))


def _query(settings: Settings, args: argparse.Namespace) -> None:
    kafka_io.require_broker(settings.bootstrap_servers)
    view = stores.restored(settings.bootstrap_servers, args.store)
    print(f"restored {len(view.values):,} keys of {args.store} from {view.store.topic} "
          f"({view.records_read:,} records{f', {view.skipped:,} skipped as unreadable' if view.skipped else ''}) "
          f"in {view.restore_s:.1f}s", file=sys.stderr)
    value = view.get(args.key)
    if value is None:
        raise UserError(f"no {view.store.key} '{args.key}' in {args.store} ({len(view.values):,} keys); "
                        f"is lesson16-stores deployed (`streamlab deploy lesson16-stores`)?")
    print(json.dumps(value))


def _load(settings: Settings, args: argparse.Namespace) -> None:
    while True:
        report = loader.load(settings, args.batch_records, echo=print)
        print(f"loaded {report.records:,} records in {report.batches} batch(es), {report.seconds:.1f}s; "
              f"warehouse {warehouse.replica_path(settings)}")
        if not args.follow:
            return
        time.sleep(args.interval)


def _sql(settings: Settings, args: argparse.Namespace) -> None:
    if args.query is None and sys.stdin.isatty():
        analyst.shell(settings)
    sql = args.query if args.query is not None else sys.stdin.read()
    if not sql.strip():
        raise UserError('no query given: `streamlab sql "SELECT ..."`, or pipe SQL on stdin')
    columns, rows = analyst.run_query(settings, sql)
    print(analyst.render(columns, rows, args.format))


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = platform.with_shape(Settings(), getattr(args, "brokers", None), getattr(args, "taskmanagers", None))
    except ValidationError as err:
        first = err.errors()[0]
        field = "STREAMLAB_" + str(first["loc"][0]).upper()
        raise UserError(f"invalid setting {field}={first.get('input')!r}: {first['msg']}") from None
    match args.command:
        case "setup":
            jars.ensure_jars(settings.jars)
            print(f"jars ready in {settings.jars}")
            print(f"front-end packages ready in {frontend.install()} (npm ci of package-lock.json)")
            print(f"chart library ready: {dashboard_assets.chart_js()}")
            print(f"docs diagrams and offline search ready: {len(docsite.vendor())} files")
        case "dashboard":
            kafka_io.require_broker(settings.bootstrap_servers)
            dashboard_service.serve(settings)
        case "up":
            platform.up(settings)
            print(f"platform up; state in {settings.state}. Next: `streamlab status`")
        case "down":
            platform.down(settings)
        case "status" if args.json:
            print(json.dumps(status.snapshot(settings), indent=2))
        case "status":
            print(status.report(settings))
        case "topics" if args.apply:
            kafka_io.require_broker(settings.bootstrap_servers)
            admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
            for name, action in topics.apply(admin, settings.replication_factor,
                                             settings.min_insync_replicas).items():
                print(f"{name:24} {action}")
        case "topics":
            for topic in topics.CATALOG:
                print(f"{topic.name:24} {topic.partitions:>2} partitions  {topic.cleanup_policy:8} "
                      f"{topic.description}")
        case "generate":
            _generate(settings, args)
        case "deploy":
            outcome = rollout.roll_out(settings, args.job)
            print(f"{outcome.describe()}; Flink job {outcome.job_id}")
        case "savepoint" | "stop":
            point = ops.backup(settings, args.job, stop=args.command == "stop")
            print(f"{args.job}: savepoint {point.path} ({point.size_bytes:,} bytes, {point.duration_s:.1f}s)"
                  + (", job stopped" if args.command == "stop" else ""))
        case "cancel":
            lifecycle.cancel(settings, args.job)
            print(f"{args.job}: cancelled")
        case "prune":
            gone = prune.prune(settings, dry_run=args.dry_run)
            for path in gone:
                print(path)
            print(f"{len(gone)} paths {'would go' if args.dry_run else 'removed'}", file=sys.stderr)
        case "restore":
            path = args.path or lifecycle.newest_savepoint(settings, args.job)
            job_id = lifecycle.restore(settings, args.job, path.resolve())
            print(f"{args.job} running as Flink job {job_id}, restored from {path}")
        case "drill":
            print(f"drill {args.scenario}: producing {args.events} events, injecting the fault mid-stream ...")
            result = drills.run(settings, args.scenario, count=args.events)
            passed = ops.record_drill(settings, result, args.max_recovery_s)
            print("drill " + result.describe(args.max_recovery_s))
            return 0 if passed else 1
        case "read":
            _read(settings, args)
        case "query":
            _query(settings, args)
        case "load":
            _load(settings, args)
        case "sql":
            _sql(settings, args)
        case "validate":
            from validation import (
                quality,  # Great Expectations takes seconds to import: only here
            )

            return quality.run_cli(settings, docs=not args.no_docs, source=args.file)
        case "demo":
            return demo.run(settings, drill=not args.no_drill, keep_rate=args.rate if args.keep else None)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    try:
        code = run(argv)
    except UserError as err:
        print(f"streamlab: error: {err}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("streamlab: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
