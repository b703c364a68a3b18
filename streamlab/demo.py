"""`make demo`: the platform, a fixed data set, the lessons' jobs running, and proof that
every output equals the oracle."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from streamlab import (
    deploy, drills, generator, jobwatch, kafka_io, loader, ops, platform, producer, rollout, stores, warehouse,
)
from streamlab.config import Settings
from validation import lesson14, lesson15_aggregations, lesson15_alerts, lesson15_joins, lesson15_trading_periods, lesson15_windows
from validation import lesson16_stores
from validation.oracle import TopicCheck

# From 10:00 UTC the data set runs past the store's closing time, so a trading period closes.
DEMO_SPEC = generator.GeneratorSpec(seed=14, count=20_000, start_ms=1_767_261_600_000)  # 2026-01-01T10:00Z
DRILL = "taskmanager-kill"
DRILL_EVENTS = 12_000
DRILL_MAX_RECOVERY_S = 180
Echo = Callable[[str], None]


@dataclass(frozen=True)
class DemoJob:
    key: str
    check: Callable[[str], Sequence[TopicCheck]]
    explain: Callable[[str], tuple[list[str], bool]]  # how the input split; whether it balances


def _lesson14_lines(bootstrap: str) -> tuple[list[str], bool]:
    b = lesson14.balance(bootstrap)
    return [
        f"clicks {b['clicks_in']:>7} = {b['clicks_forwarded']} forwarded + {b['clicks_bots']} bots "
        f"filtered + {b['clicks_dead']} dead-lettered",
        f"orders {b['orders_in']:>7} = {b['orders_forwarded']} forwarded (-> {b['items']} line items) + "
        f"{b['orders_dead']} dead-lettered",
        "input and outputs balance" if b["balanced"] else "input and outputs DO NOT balance",
    ], bool(b["balanced"])


def _windows_lines(bootstrap: str) -> tuple[list[str], bool]:
    t = lesson15_windows.reconcile(bootstrap)
    balanced = t["revenue_counted"] + t["revenue_late"] == t["revenue_produced"]
    return [
        f"valid orders {t['orders_produced']}: {t['orders_late']} arrived after their window closed",
        f"revenue {t['revenue_produced']} cents = {t['revenue_counted']} in windows + "
        f"{t['revenue_late']} late" + ("" if balanced else "  (DOES NOT balance)"),
    ], balanced


def _joins_lines(bootstrap: str) -> tuple[list[str], bool]:
    b = lesson15_joins.balance(bootstrap)
    balanced = b["paid"] + b["unpaid"] + b["late"] == b["orders"] == b["enriched_orders"] + b["late"]
    return [
        f"valid orders {b['orders']} = {b['paid']} paid within 15 min + {b['unpaid']} unpaid + "
        f"{b['late']} too late to join" + ("" if balanced else "  (DOES NOT balance)"),
        f"{b['enriched_orders']} orders enriched with the customer as of their time, "
        f"{b['enriched_items']} line items with the product",
    ], balanced


def _aggregations_lines(bootstrap: str) -> tuple[list[str], bool]:
    t = lesson15_aggregations.reconcile(bootstrap)
    balanced = t["revenue_counted"] + t["revenue_late"] == t["revenue_produced"]
    return [f"revenue {t['revenue_produced']} cents = {t['revenue_counted']} in 5-minute windows + "
            f"{t['revenue_late']} late" + ("" if balanced else "  (DOES NOT balance)")], balanced


def _trading_lines(bootstrap: str) -> tuple[list[str], bool]:
    c = lesson15_trading_periods.counts(bootstrap)
    balanced = c["revenue_counted"] + c["revenue_late"] + c["revenue_open"] == c["revenue_produced"]
    return [
        f"{c['periods']} closed trading periods: {c['open_periods']} open-hours, "
        f"{c['periods'] - c['open_periods']} closed-hours",
        f"revenue {c['revenue_produced']} cents = {c['revenue_counted']} in closed periods + "
        f"{c['revenue_open']} in the period still running + {c['revenue_late']} late"
        + ("" if balanced else "  (DOES NOT balance)"),
    ], balanced


def _alerts_lines(bootstrap: str) -> tuple[list[str], bool]:
    c = lesson15_alerts.counts(bootstrap)
    rules = ["two-countries", "rapid-payments", "amount-spike"]
    every_rule = all(c.get(rule, 0) > 0 for rule in rules)
    return [
        f"valid payments {c['payments']}: {c['late']} too late to put in order",
        "alerts: " + ", ".join(f"{rule} {c.get(rule, 0)}" for rule in rules)
        + ("" if every_rule else "  (a rule never fired on the planted fraud)"),
    ], every_rule


def _stores_lines(bootstrap: str) -> tuple[list[str], bool]:
    customers = stores.restored(bootstrap, "customer-orders")
    products = stores.restored(bootstrap, "product-sales")
    # Two stores over the same line items: each must hold all of the revenue.
    revenue = [sum(v["revenue_cents"] for v in view.values.values()) for view in (customers, products)]
    balanced = revenue[0] == revenue[1]
    best, value = max(customers.values.items(), key=lambda item: item[1]["revenue_cents"])
    return [
        f"store customer-orders: {len(customers.values)} keys restored from {customers.records_read} "
        f"changelog records; store product-sales: {len(products.values)} keys",
        f"revenue {revenue[0]} cents over customers = {revenue[1]} over products"
        + ("" if balanced else "  (DOES NOT balance)"),
        f"streamlab query customer-orders {best} -> {value['orders']} orders, "
        f"{value['revenue_cents']} cents",
    ], balanced


JOBS = [
    DemoJob("lesson14", lesson14.check, _lesson14_lines),
    DemoJob("lesson15-windows", lesson15_windows.check, _windows_lines),
    DemoJob("lesson15-joins", lesson15_joins.check, _joins_lines),
    DemoJob("lesson15-aggregations", lesson15_aggregations.check, _aggregations_lines),
    DemoJob("lesson15-trading-periods", lesson15_trading_periods.check, _trading_lines),
    DemoJob("lesson15-alerts", lesson15_alerts.check, _alerts_lines),
    DemoJob("lesson16-stores", lesson16_stores.check, _stores_lines),
]


def run(settings: Settings, echo: Echo = print, drill: bool = True, keep_rate: float | None = None) -> int:
    """Run the demo end to end; return the exit code (non-zero when outputs do not reconcile).
    With ``keep_rate``, then produce live events at that rate until interrupted."""
    started = time.monotonic()
    platform.up(settings, echo)
    bootstrap = settings.bootstrap_servers
    existing = sum(kafka_io.end_offsets(bootstrap, ["clicks", "orders", "payments"]).values())
    if existing:
        echo(f"-> raw topics already hold {existing} events: reusing them (`make clean` starts afresh)")
    else:
        echo(f"-> generating {DEMO_SPEC.count} events (seed {DEMO_SPEC.seed}) ...")
        produced = producer.produce(generator.generate(DEMO_SPEC), bootstrap)
        echo("   " + ", ".join(f"{t} {n}" for t, n in sorted(produced.items()) if ":" not in t))
    running_since = _deploy_all(settings, echo)
    reports = [_check_job(settings, job, running_since[job.key], echo) for job in JOBS]
    echo("")
    for report in reports:
        echo(report.text)
        echo("")
    ok = all(report.ok for report in reports)
    echo("RESULT: every output equals the oracle" if ok else "RESULT: outputs DO NOT reconcile")
    echo("")
    drilled = _drill(settings, echo) if drill else True
    validated = _warehouse(settings, echo)
    echo(f"({time.monotonic() - started:.1f}s in all)")
    echo("")
    echo("Look further:  .venv/bin/streamlab status   |   Flink UI " + settings.flink_rest_url)
    echo("Read a topic:  .venv/bin/streamlab read l15-revenue-1m --limit 5")
    echo('Ask the data:  .venv/bin/streamlab sql "SELECT rule, count(*) FROM marts.alerts GROUP BY rule"')
    if settings.dashboard:
        echo(f"Dashboard:     {settings.dashboard_url}  (query API: {settings.dashboard_url}/openapi.json)")
    code = 0 if ok and drilled and validated else 1
    if keep_rate is not None:
        _live(settings, echo, keep_rate)
    return code


def _live(settings: Settings, echo: Echo, rate: float) -> None:
    """Events at a steady pace after the data set, so the dashboard has something to show."""
    spec = generator.GeneratorSpec(seed=int(time.time()), count=int(rate * 86_400),
                                   start_ms=kafka_io.next_start_ms(settings.bootstrap_servers))
    echo("")
    echo(f"-> live events: {rate:g}/s into the raw topics (a day's worth at most); watch {settings.dashboard_url}")
    echo("   Ctrl-C stops the events; the platform keeps running until `make down`.")
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # a kill ends it like Ctrl-C
    try:
        producer.produce(generator.generate(spec), settings.bootstrap_servers, rate=rate, progress=False)
    except KeyboardInterrupt:
        echo("   live events stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)


def _drill(settings: Settings, echo: Echo) -> bool:
    """Lesson 16's proof: kill the TaskManager mid-stream; the jobs recover from their
    checkpoints and every job's output still equals the oracle."""
    echo(f"-> recovery drill {DRILL}: {DRILL_EVENTS} more events, kill -9 the TaskManager "
         "part-way through them ...")
    result = drills.run(settings, DRILL, count=DRILL_EVENTS)
    passed = ops.record_drill(settings, result, DRILL_MAX_RECOVERY_S)
    echo("DRILL " + result.describe(DRILL_MAX_RECOVERY_S))
    return passed


def _warehouse(settings: Settings, echo: Echo) -> bool:
    """Every topic into the warehouse, then the Great Expectations checkpoint over the marts."""
    echo("")
    echo("-> loading every topic into the DuckDB warehouse ...")
    report = loader.load(settings, echo=echo)
    echo(f"   {report.records:,} records in {report.batches} batch(es), {report.seconds:.1f}s")
    counts = loader.table_counts(settings)
    width = max(len(name) for name in counts)
    for name, rows in counts.items():
        echo(f"   {name:{width}} {rows:>9,} rows")
    echo("-> validating the marts (Great Expectations) ...")
    from validation import quality  # seconds to import: not for every CLI command

    outcome = quality.validate(settings)
    echo(outcome.describe())
    echo(f"   analysts: .venv/bin/streamlab sql  (or: .venv/bin/duckdb -readonly {warehouse.replica_path(settings)})")
    return not outcome.failures


@dataclass(frozen=True)
class JobReport:
    ok: bool
    text: str


def _deploy_all(settings: Settings, echo: Echo) -> dict[str, float]:
    """Roll every job out, a few at a time; when each was running (monotonic)."""
    echo(f"-> deploying {len(JOBS)} jobs, {deploy.SUBMITS_AT_ONCE} at a time ...")

    def one(key: str) -> float:
        outcome = rollout.roll_out(settings, key)
        resumed = f", state from {outcome.state_from}" if outcome.state_from else ""
        echo(f"   {key} ({deploy.job_spec(key).summary}): running as Flink job {outcome.job_id} "
             f"({outcome.action}{resumed}, {outcome.duration_s:.1f}s)")
        return time.monotonic()

    return deploy.for_each_job([job.key for job in JOBS], one)


def _check_job(settings: Settings, job: DemoJob, running_since: float, echo: Echo) -> JobReport:
    spec = deploy.job_spec(job.key)
    echo(f"-> {job.key}: waiting for its input to be processed ...")
    jobwatch.wait_caught_up(settings, spec.name, list(spec.inputs), echo=echo)
    processed_s = time.monotonic() - running_since
    echo("   reconciling its outputs with the DuckDB oracle ...")
    checks = jobwatch.wait_exact(lambda: job.check(settings.bootstrap_servers))
    lines, balanced = job.explain(settings.bootstrap_servers)
    return JobReport(balanced and all(c.exact for c in checks),
                     summary(job.key, checks, lines, processed_s))


def summary(name: str, checks: Sequence[TopicCheck], explain: list[str], processed_s: float) -> str:
    rows = [f"{name}: input", *(f"  {line}" for line in explain),
            f"  {'output':48} {'expected':>9} {'emitted':>9}  equals the oracle"]
    for c in checks:
        verdict = "yes" if c.exact else f"NO ({c.missing} missing, {c.unexpected} unexpected)"
        rows.append(f"  {c.topic:48} {c.expected:>9} {c.actual:>9}  {verdict}")
    rows.append(f"  {processed_s:.1f}s from job running to all input processed (committed at a checkpoint)")
    return "\n".join(rows)
