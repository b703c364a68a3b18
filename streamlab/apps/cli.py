"""The `streamlab` command line. User errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from confluent_kafka.admin import AdminClient
from pydantic import ValidationError

from streamlab import warehouse
from streamlab.apps import demo, docsite, platform, status
from streamlab.apps.commands import build_parser
from streamlab.apps.dashboard import assets as dashboard_assets
from streamlab.apps.dashboard import service as dashboard_service
from streamlab.config import Settings
from streamlab.data import generator, kafka_io, producer, stores, topics
from streamlab.errors import UserError
from streamlab.jobs import drills, lifecycle, ops, peers, prune, rollout
from streamlab.runtime import frontend, jars, kafka_streams
from streamlab.warehouse import analyst, loader


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


def _setup(settings: Settings, args: argparse.Namespace) -> None:
    jars.ensure_jars(settings.jars)
    print(f"jars ready in {settings.jars}")
    print(f"front-end packages ready in {frontend.install()} (npm ci of package-lock.json)")
    print(f"chart library ready: {dashboard_assets.chart_js()}")
    print(f"docs diagrams and offline search ready: {len(docsite.vendor())} files")


def _dashboard(settings: Settings, args: argparse.Namespace) -> None:
    kafka_io.require_broker(settings.bootstrap_servers)
    dashboard_service.serve(settings)


def _up(settings: Settings, args: argparse.Namespace) -> None:
    platform.up(settings)
    print(f"platform up; state in {settings.state}. Next: `streamlab status`")


def _down(settings: Settings, args: argparse.Namespace) -> None:
    platform.down(settings)


def _status(settings: Settings, args: argparse.Namespace) -> None:
    print(json.dumps(status.snapshot(settings), indent=2) if args.json else status.report(settings))


def _topics(settings: Settings, args: argparse.Namespace) -> None:
    if not args.apply:
        for topic in topics.CATALOG:
            print(f"{topic.name:24} {topic.partitions:>2} partitions  {topic.cleanup_policy:8} {topic.description}")
        return
    kafka_io.require_broker(settings.bootstrap_servers)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    for name, action in topics.apply(admin, settings.replication_factor, settings.min_insync_replicas).items():
        print(f"{name:24} {action}")


def _deploy(settings: Settings, args: argparse.Namespace) -> None:
    outcome = rollout.roll_out(settings, args.job)
    print(f"{outcome.describe()}; Flink job {outcome.job_id}")


def _savepoint(settings: Settings, args: argparse.Namespace) -> None:
    """`savepoint` and `stop` (a savepoint that stops the job)."""
    stop = args.command == "stop"
    point = ops.backup(settings, args.job, stop=stop)
    print(f"{args.job}: savepoint {point.path} ({point.size_bytes:,} bytes, {point.duration_s:.1f}s)"
          + (", job stopped" if stop else ""))


def _cancel(settings: Settings, args: argparse.Namespace) -> None:
    lifecycle.cancel(settings, args.job)
    print(f"{args.job}: cancelled")


def _prune(settings: Settings, args: argparse.Namespace) -> None:
    gone = prune.prune(settings, dry_run=args.dry_run)
    for path in gone:
        print(path)
    print(f"{len(gone)} paths {'would go' if args.dry_run else 'removed'}", file=sys.stderr)


def _restore(settings: Settings, args: argparse.Namespace) -> None:
    path = args.path or lifecycle.newest_savepoint(settings, args.job)
    job_id = lifecycle.restore(settings, args.job, path.resolve())
    print(f"{args.job} running as Flink job {job_id}, restored from {path}")


def _drill(settings: Settings, args: argparse.Namespace) -> int:
    print(f"drill {args.scenario}: producing {args.events} events, injecting the fault mid-stream ...")
    result = drills.run(settings, args.scenario, count=args.events)
    passed = drills.record(settings, result, args.max_recovery_s)
    print("drill " + result.describe(args.max_recovery_s))
    return 0 if passed else 1


def _peer(settings: Settings, args: argparse.Namespace) -> int | None:
    if args.action == "start":
        names = peers.start(settings, args.job, args.instances, args.standby_replicas)
        print(f"running: {', '.join(names)}; logs in {settings.state / 'logs'}")
    elif args.action == "stop":
        stopped = kafka_streams.stop(settings, args.job)
        print("stopped: " + (", ".join(stopped) if stopped else "no peer was running"))
    elif args.action == "reset":
        print(f"reset {args.job}: group, local state and internal topics deleted, topics emptied: "
              + ", ".join(peers.reset(settings, args.job)))
    elif args.action == "describe":
        print(kafka_streams.describe(settings, args.job), end="")
    elif args.action == "query":
        print(json.dumps(kafka_streams.query(settings, args.job, args.store, args.key)))
    else:
        checks = peers.check(settings, args.job)
        for c in checks:
            print(f"{c.topic:40} {c.expected:>7} expected  " + ("exact" if c.exact else c.describe()))
        return 0 if all(c.exact for c in checks) else 1
    return None


def _validate(settings: Settings, args: argparse.Namespace) -> int:
    from streamlab.warehouse import quality  # Great Expectations takes seconds to import: only here

    return quality.run_cli(settings, docs=not args.no_docs, source=args.file)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    return demo.run(settings, drill=not args.no_drill, keep_rate=args.rate if args.keep else None)


# What each command of the command table (streamlab.apps.commands) runs; its exit code, or None for 0.
HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], int | None]] = {
    "setup": _setup, "dashboard": _dashboard, "up": _up, "down": _down, "status": _status, "topics": _topics,
    "generate": _generate, "deploy": _deploy, "savepoint": _savepoint, "stop": _savepoint, "cancel": _cancel,
    "prune": _prune, "restore": _restore, "drill": _drill, "peer": _peer, "read": _read, "query": _query, "load": _load,
    "sql": _sql, "validate": _validate, "demo": _demo,
}


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = platform.with_shape(Settings(), getattr(args, "brokers", None), getattr(args, "taskmanagers", None))
    except ValidationError as err:
        first = err.errors()[0]
        field = "STREAMLAB_" + str(first["loc"][0]).upper()
        raise UserError(f"invalid setting {field}={first.get('input')!r}: {first['msg']}") from None
    return HANDLERS[args.command](settings, args) or 0


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
