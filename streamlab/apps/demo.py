"""`make demo`: the platform, a fixed data set, the lessons' jobs running, and proof that
every output equals the oracle."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from streamlab import lessons, warehouse
from streamlab.apps import operations, platform
from streamlab.config import Settings
from streamlab.data import generator, kafka_io, producer
from streamlab.errors import UserError
from streamlab.jobs import deploy, jobwatch, peers
from streamlab.runtime import airflow_service, kafka_streams
from streamlab.runtime.flink_rest import FlinkRest
from streamlab.warehouse import loader
from validation.oracle import TopicCheck

# From 10:00 UTC the data set runs past the store's closing time, so a trading period closes.
DEMO_SPEC = generator.GeneratorSpec(seed=14, count=20_000, start_ms=1_767_261_600_000)  # 2026-01-01T10:00Z
# Lesson 16's two models of fault tolerance, each drilled on the same amount of new data.
DRILLS = ["taskmanager-kill", "kstreams-instance-kill"]
DRILL_EVENTS = 12_000
DRILL_MAX_RECOVERY_S = 180
Echo = Callable[[str], None]


# Every lesson's job, in the registry's order: deployed, then each checked by its oracle.
JOBS = tuple(lessons.BY_KEY)


def run(settings: Settings, echo: Echo = print, drill: bool = True, keep_rate: float | None = None) -> int:
    """Run the demo end to end; return the exit code (non-zero when outputs do not reconcile).
    With ``keep_rate``, then produce live events at that rate until interrupted."""
    if not settings.airflow:
        raise UserError("the demo deploys, drills, backs up and loads through Airflow's DAGs: "
                        "unset STREAMLAB_AIRFLOW=false")
    started = time.monotonic()
    steps = Steps()
    steps.time("up", lambda: platform.up(settings, echo))
    # The jobs first, then the data: as on a live platform, and each job is planned while the
    # cluster is idle instead of beside the jobs already draining a backlog on the same cores.
    running_since = steps.time("deploy", lambda: _deploy_all(settings, echo))
    steps.time("generate", lambda: _generate(settings, echo))
    reports = steps.time("check", lambda: [_check_job(settings, key, running_since[key], echo) for key in JOBS])
    echo("")
    for report in reports:
        echo(report.text)
        echo("")
    ok = all(report.ok for report in reports)
    echo("RESULT: every output equals the oracle" if ok else "RESULT: outputs DO NOT reconcile")
    echo("")
    drilled = steps.time("drills", lambda: _drill(settings, echo)) if drill else True
    peered = steps.time("peers", lambda: _peers(settings, echo))
    backed_up = steps.time("savepoints", lambda: _backup(settings, echo))
    validated = steps.time("warehouse", lambda: _warehouse(settings, echo))
    echo(steps.line())
    echo(f"({time.monotonic() - started:.1f}s in all)")
    echo("")
    echo(f"Watch it run:  Airflow {settings.airflow_url} (user {airflow_service.USER}, password in "
         "`streamlab status`): the DAGs' grid")
    echo("Look further:  .venv/bin/streamlab status   |   Flink UI " + settings.flink_rest_url)
    echo("Read a topic:  .venv/bin/streamlab read l15-revenue-1m --limit 5")
    echo('Ask the data:  .venv/bin/streamlab sql "SELECT rule, count(*) FROM marts.alerts GROUP BY rule"')
    if settings.dashboard:
        echo(f"Dashboard:     {settings.dashboard_url}  (query API: {settings.dashboard_url}/openapi.json)")
    code = 0 if ok and drilled and peered and backed_up and validated else 1
    if keep_rate is not None:
        _live(settings, echo, keep_rate)
    return code


T = TypeVar("T")


class Steps:
    """Each step's wall time, so a slow step shows where it is (``bench.demo`` records them)."""

    PREFIX = "steps:"

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def time(self, name: str, step: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return step()
        finally:
            self.seconds[name] = round(time.monotonic() - started, 1)

    def line(self) -> str:
        return f"{self.PREFIX} " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.seconds.items())

    @classmethod
    def parse(cls, line: str) -> dict[str, float]:
        """``line()`` read back: step -> seconds."""
        pairs = (part.rsplit(" ", 1) for part in line.removeprefix(cls.PREFIX).split(","))
        return {name.strip(): float(seconds.removesuffix("s")) for name, seconds in pairs}


def _generate(settings: Settings, echo: Echo) -> None:
    """The demo's data set, unless the raw topics hold one already."""
    existing = sum(kafka_io.end_offsets(settings.bootstrap_servers, ["clicks", "orders", "payments"]).values())
    if existing:
        echo(f"-> raw topics already hold {existing} events: reusing them (`make clean` starts afresh)")
        return
    echo(f"-> generating {DEMO_SPEC.count} events (seed {DEMO_SPEC.seed}) ...")
    produced = producer.produce(generator.generate(DEMO_SPEC), settings.bootstrap_servers)
    echo("   " + ", ".join(f"{t} {n}" for t, n in sorted(produced.items()) if ":" not in t))


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
    """Lesson 16's proof, as a run of the recovery_drill DAG: kill the TaskManager mid-stream
    (the jobs recover from their checkpoints), then one of two instances of the windows lesson's
    Kafka Streams peer (the other promotes its standbys); every output still equals the oracle."""
    echo(f"-> recovery drills {', '.join(DRILLS)} (DAG recovery_drill): {DRILL_EVENTS} more events each, "
         "kill -9 the TaskManager, then a Kafka Streams instance, part-way through them ...")
    conf = {"scenarios": DRILLS, "events": DRILL_EVENTS, "max_recovery_s": DRILL_MAX_RECOVERY_S}
    return operations.run_dag(settings, "recovery_drill", echo, conf,
                              {"drill": lambda result: echo("DRILL " + result["line"])})


def _peers(settings: Settings, echo: Echo) -> bool:
    """The Kafka Streams peers of Lessons 14-16, each reset and run over the topics from their
    beginning, checked by its lesson's oracle, then stopped; the warehouse then loads their
    topics beside the jobs' (``peers``). They run after the drills, on topics that already hold
    every event: a GlobalKTable join looks a product up as loaded when the order comes, which
    equals the oracle only on data that was there first (and a rerun of the demo brings new
    versions of the same products); and four more JVMs beside the jobs would slow the drills on
    two cores."""
    jobs = [lesson.peer.job for lesson in kafka_streams.peered() if lesson.peer]
    echo("")
    echo(f"-> the Kafka Streams peers ({', '.join(jobs)}) read the same topics from the start; the same oracles check them ...")
    started = time.monotonic()
    try:
        for job in jobs:
            peers.reset(settings, job)
            peers.start(settings, job)
        checks = [check for job in jobs for check in peers.check(settings, job)]
    finally:
        kafka_streams.stop(settings)
    echo("\n".join(_table(checks)))
    ok = all(c.exact for c in checks)
    echo(f"PEERS: every Kafka Streams output equals the oracle ({time.monotonic() - started:.1f}s, then stopped)"
         if ok else "PEERS: Kafka Streams outputs DO NOT reconcile")
    return ok


def _backup(settings: Settings, echo: Echo) -> bool:
    """A savepoint of every job, catalogued (DAG savepoint_backup)."""
    echo("")
    echo("-> savepoints of every job (DAG savepoint_backup) ...")
    return operations.run_dag(settings, "savepoint_backup", echo,
                              results={"take_savepoint": lambda path: echo(f"   savepoint {path}")})


def _warehouse(settings: Settings, echo: Echo) -> bool:
    """Every topic into the warehouse, then the Great Expectations checkpoint over the marts
    (DAG load_and_validate)."""
    echo("")
    echo("-> loading every topic into the DuckDB warehouse and validating the marts "
         "(DAG load_and_validate, Great Expectations) ...")
    verdict: list[str] = []
    done = operations.run_dag(settings, "load_and_validate", echo, results={
        "load": lambda report: echo(f"   {report['records']:,} records in {report['batches']} batch(es), "
                                    f"{report['seconds']:.1f}s"),
        "validate": verdict.append})
    counts = loader.table_counts(settings) if warehouse.replica_path(settings).exists() else {}
    width = max(map(len, counts), default=0)
    for name, rows in counts.items():
        echo(f"   {name:{width}} {rows:>9,} rows")
    for text in verdict:
        echo(text)
    echo(f"   analysts: .venv/bin/streamlab sql  (or: .venv/bin/duckdb -readonly {warehouse.replica_path(settings)})")
    return done


@dataclass(frozen=True)
class JobReport:
    ok: bool
    text: str


def _deploy_all(settings: Settings, echo: Echo) -> dict[str, float]:
    """Roll every job out through the deploy_streaming_jobs DAG; when each was running (monotonic)."""
    echo(f"-> deploying {len(JOBS)} jobs (DAG deploy_streaming_jobs, {deploy.SUBMITS_AT_ONCE} at a time) ...")
    running_since: dict[str, float] = {}

    def deployed(outcome: dict) -> None:
        running_since[outcome["job"]] = time.monotonic()
        resumed = f", state from {outcome['state_from']}" if outcome["state_from"] else ""
        echo(f"   {outcome['job']} ({lessons.get(outcome['job']).summary}): running as Flink job "
             f"{outcome['job_id']} ({outcome['action']}{resumed}, {outcome['duration_s']:.1f}s)")

    if not operations.run_dag(settings, "deploy_streaming_jobs", echo, {"jobs": list(JOBS)}, {"roll_out": deployed}):
        raise UserError("the deploy_streaming_jobs run failed (above); the jobs' outputs cannot be checked")
    rest = FlinkRest(settings.flink_rest_url)
    for key in JOBS:  # the DAG leaves a job that runs the checkout's code alone
        if key not in running_since:
            running = rest.running_job(lessons.get(key).name)
            deployed({"job": key, "job_id": running["jid"] if running else "(none)", "action": "unchanged",
                      "state_from": None, "duration_s": 0.0})
    return running_since


def _check_job(settings: Settings, key: str, running_since: float, echo: Echo) -> JobReport:
    spec, oracle = lessons.get(key), lessons.oracle(key)
    echo(f"-> {key}: waiting for its input to be processed ...")
    jobwatch.wait_caught_up(settings, spec.name, list(spec.inputs), echo=echo)
    processed_s = time.monotonic() - running_since
    echo("   reconciling its outputs with the DuckDB oracle ...")
    checks = jobwatch.wait_exact(lambda: oracle.check(settings.bootstrap_servers))
    lines, balanced = oracle.explain(settings.bootstrap_servers)
    return JobReport(balanced and all(c.exact for c in checks),
                     summary(key, checks, lines, processed_s))


def summary(name: str, checks: Sequence[TopicCheck], explain: list[str], processed_s: float) -> str:
    rows = [f"{name}: input", *(f"  {line}" for line in explain),
            *_table(checks)]
    rows.append(f"  {processed_s:.1f}s from job running to all input processed (committed at a checkpoint)")
    return "\n".join(rows)


def _table(checks: Sequence[TopicCheck]) -> list[str]:
    """Each output's expected and emitted records, and whether they equal the oracle's."""
    return [f"  {'output':48} {'expected':>9} {'emitted':>9}  equals the oracle", *(
        f"  {c.topic:48} {c.expected:>9} {c.actual:>9}  "
        + ("yes" if c.exact else f"NO ({c.missing} missing, {c.unexpected} unexpected)") for c in checks)]
