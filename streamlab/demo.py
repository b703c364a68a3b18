"""`make demo`: the platform, a fixed data set, Lesson 14 running, and proof it is exact."""

from __future__ import annotations

import time
from collections.abc import Callable

from streamlab import deploy, generator, jobwatch, kafka_io, platform, producer
from streamlab.config import Settings
from validation import oracle

DEMO_SPEC = generator.GeneratorSpec(seed=14, count=20_000)
INPUTS = ["clicks", "orders"]


def run(settings: Settings, echo: Callable[[str], None] = print) -> int:
    """Run the demo end to end; return the exit code (non-zero when outputs do not reconcile)."""
    started = time.monotonic()
    platform.up(settings, echo)
    existing = sum(kafka_io.end_offsets(settings.bootstrap_servers, ["clicks", "orders", "payments"]).values())
    if existing:
        echo(f"-> raw topics already hold {existing} events: reusing them (`make clean` starts afresh)")
    else:
        echo(f"-> generating {DEMO_SPEC.count} events (seed {DEMO_SPEC.seed}) ...")
        produced = producer.produce(generator.generate(DEMO_SPEC), settings.bootstrap_servers)
        echo("   " + ", ".join(f"{t} {n}" for t, n in sorted(produced.items()) if ":" not in t))
    echo("-> deploying lesson14 ...")
    deploy_started = time.monotonic()
    job_id = deploy.deploy(settings, "lesson14")
    echo(f"   running as Flink job {job_id}")
    echo("-> waiting until all input is processed ...")
    spec = deploy.job_spec("lesson14")
    jobwatch.wait_caught_up(settings, spec.name, INPUTS, echo=echo)
    processed_s = time.monotonic() - deploy_started
    echo("-> reconciling every output topic with the DuckDB oracle ...")
    checks = jobwatch.wait_exact(lambda: oracle.check_lesson14(settings.bootstrap_servers))
    inputs = kafka_io.end_offsets(settings.bootstrap_servers, INPUTS)
    echo("")
    echo(summary(checks, {t: sum(v for (n, _), v in inputs.items() if n == t) for t in INPUTS},
                 processed_s, time.monotonic() - started))
    echo("")
    echo("Look further:  .venv/bin/streamlab status   |   Flink UI " + settings.flink_rest_url)
    echo("Read a topic:  .venv/bin/streamlab read l14-items-electronics --limit 5")
    return 0 if all(c.exact for c in checks) else 1


def summary(checks, inputs: dict[str, int], processed_s: float, total_s: float) -> str:
    rows = [f"{'Lesson 14':30} {'expected':>9} {'emitted':>9}  reconciles"]
    rows += [f"  in: {topic:25} {count:>9} {count:>9}" for topic, count in inputs.items()]
    for c in checks:
        verdict = "yes" if c.exact else f"NO ({c.missing} missing, {c.unexpected} unexpected)"
        rows.append(f"  out: {c.topic:24} {c.expected:>9} {c.actual:>9}  {verdict}")
    clicks_out = next(c.actual for c in checks if c.topic == "l14-clicks")
    dead = next(c.actual for c in checks if c.topic == "dead-letter")
    rows.append(f"  filtered (bots, invalid): {inputs.get('clicks', 0) - clicks_out} clicks; "
                f"dead-lettered: {dead}")
    rows.append(f"  elapsed: {processed_s:.1f}s from deploy to all input processed, {total_s:.1f}s in all")
    ok = all(c.exact for c in checks)
    rows.append("RESULT: every output equals the oracle" if ok else "RESULT: outputs DO NOT reconcile")
    return "\n".join(rows)
