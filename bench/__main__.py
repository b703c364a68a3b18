"""`python -m bench` / `make bench`: the platform benchmark.

For each input size (1×, 4×, 16× a base number of events) a fresh platform on free ports under
``<state>/bench`` measures, in this order: all jobs draining one backlog together, and the raw
Kafka baselines on the same topics (confluent-kafka and Kafka's perf tools). On the largest
platform, the topics are then topped up to ``--job-records`` records each and every job drains
them alone; end-to-end latency follows at 25/50/75% of the all-jobs capacity just measured.
Each job with a Kafka Streams peer (``peers/kafka-streams``) is followed by its peer draining the
same backlog alone. Then the checkpoint-interval sweep: Lesson 14 alone at 0.2-5 s between
checkpoints, its drain rate and its latency read committed (exactly-once) and uncommitted (what
at-least-once would show). Then Lesson 16's TaskManager kill -9 drill runs ``--drills`` times for
the recovery time, and last on that platform each peer and its job take the same live rate alone,
for their latency.
Last, `make demo` runs on a platform of its own for its "in all" time (``bench.demo``). Memory and
checkpoints are sampled throughout. ``--quick`` is one 16× platform with short latency runs at
50% load, no drill and no demo, for a change's before and after in under ten minutes.

Writes ``bench/results/<when>/`` (``bench.json``, ``results.md``, one PNG per figure) and, unless
``--no-publish``, copies them to ``docs/benchmark/`` for the docs site.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import baselines, demo, probes, publish, report, runs
from streamlab import lessons
from streamlab.apps.commands import OneLineParser, positive_int
from streamlab.config import Settings
from streamlab.data import generator
from streamlab.errors import UserError
from streamlab.jobs import deploy, drills

LOADS = (0.25, 0.50, 0.75)
QUICK = {"scales": [16], "job_records": 25_000, "latency_duration": 10, "loads": (0.50,), "drills": 0,
         "sweep": False, "demo": False}


def _echo(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def measure_scale(settings: Settings, scale: int, events: int, keys: list[str],
                  job_records: int | None, with_peers: bool) -> dict[str, object]:
    """All jobs together and the raw baselines; each job alone too when ``job_records`` is given,
    each followed by its Kafka Streams peer on the same backlog when ``with_peers``."""
    peaks = probes.MemoryPeaks()
    _echo(f"{scale}×: all {len(keys)} jobs drain {events} events together")
    backlog, together = runs.all_jobs_drain(settings, keys, generator.GeneratorSpec(seed=1000 + scale, count=events),
                                            _echo, peaks)
    runs.cancel_all(settings, keys)
    _echo(f"{scale}×: raw Kafka baselines")
    record_size = round(statistics.fmean(len(record.value) for record in backlog.records))
    inputs = sorted({topic for key in keys for topic in lessons.get(key).inputs})
    measured = {
        "produce": backlog.produce,
        "perf_produce": baselines.perf_produce(settings, len(backlog.records), record_size),
        "consume": baselines.consume(settings.bootstrap_servers, inputs),
        "perf_consume": baselines.perf_consume(settings, "clicks", backlog.produced["clicks"]),
    }
    jobs, peer_drains, topped_up = [], [], {}
    if job_records:
        topped_up = runs.top_up(settings, job_records, seed=3000 + scale, echo=_echo)
        for key in keys:
            _echo(f"{scale}×: {key} drains alone")
            jobs.append(runs.one_job_drain(settings, key, _echo))
            if with_peers and lessons.get(key).peer:
                _echo(f"{scale}×: its Kafka Streams peer drains the same backlog alone")
                peer_drains.append(runs.peer_drain(settings, key, _echo))
    return {"scale": scale, "events": events, "record_bytes_mean": record_size,
            "baselines": {name: rate.as_json() for name, rate in measured.items()},
            "all_jobs": together, "memory": peaks.as_json(), "topped_up": topped_up, "jobs": jobs,
            "peers": peer_drains}


def measure_peer_latency(settings: Settings, scale: dict, duration_s: int) -> list[dict]:
    """Each peer with a latency output and its job, alone, at half the slower one's drain rate."""
    measured = []
    for i, drained in enumerate(scale["peers"]):
        if not lessons.get(drained["job"]).latency:
            continue
        job = next(row for row in scale["jobs"] if row["job"] == drained["job"])
        rate = max(1, round(min(job["records_per_s"], drained["records_per_s"]) / 2))
        _echo(f"{drained['peer']} and {drained['job']}: latency alone at {rate} events/s")
        measured.append(runs.peer_latency(settings, drained["job"], rate, duration_s, 6000 + 2 * i, _echo))
    return measured


def measure_latency(settings: Settings, keys: list[str], capacity: int, duration_s: int,
                    loads: tuple[float, ...]) -> list[dict]:
    deploy.deploy_all(settings, keys)  # their groups are at the end of the backlog: they start live
    measured = []
    for i, load in enumerate(loads):
        rate = max(1, round(capacity * load))
        _echo(f"latency at {load:.0%} of {capacity} records/s")
        rows = runs.latency(settings, keys, rate, duration_s, seed=2000 + i, echo=_echo)
        measured.append({"load": load, "rate_per_s": rate, "rows": rows})
    return measured


def _scales(text: str) -> list[int]:
    try:
        scales = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of whole numbers, e.g. 1,4,16") from None
    if scales[0] < 1:
        raise argparse.ArgumentTypeError("scales are multiples of --events: 1 or more")
    return scales


def parser() -> argparse.ArgumentParser:
    cli = OneLineParser(prog="python -m bench", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--events", type=positive_int, default=10_000, help="events at 1× (default 10000)")
    cli.add_argument("--scales", type=_scales, default=[1, 4, 16], help="input sizes as multiples of --events "
                     "(default 1,4,16)")
    cli.add_argument("--job", choices=sorted(lessons.BY_KEY), action="append", metavar="JOB",
                     help=f"only this job (repeatable; default all: {', '.join(lessons.BY_KEY)})")
    cli.add_argument("--brokers", type=int, default=1, choices=range(1, 6), metavar="1-5",
                     help="Kafka brokers of each bench platform (default 1)")
    cli.add_argument("--taskmanagers", type=int, default=2, choices=range(1, 9), metavar="1-8",
                     help="Flink TaskManagers of each (default 2: one is the spare a killed one's jobs restart in)")
    cli.add_argument("--latency-duration", type=int, default=60, metavar="S",
                     help="seconds of input per latency load, 0 to skip latency (default 60)")
    cli.add_argument("--job-records", type=positive_int, default=100_000, metavar="N",
                     help="records each input topic holds before the jobs drain alone (default 100000)")
    cli.add_argument("--drills", type=int, default=3, choices=range(0, 10), metavar="0-9",
                     help="TaskManager kill -9 drills on the largest platform, for the recovery time (default 3)")
    cli.add_argument("--quick", action="store_true",
                     help=f"one {QUICK['scales'][0]}× platform, --job-records {QUICK['job_records']}, "
                          f"--latency-duration {QUICK['latency_duration']} at 50%% load only, "
                          f"--drills {QUICK['drills']}, no sweep: under ten minutes")
    cli.add_argument("--no-peers", dest="peers", action="store_false",
                     help="skip the Kafka Streams peers (each drains its job's backlog alone, then both take "
                          "the same live rate for latency)")
    cli.add_argument("--no-sweep", dest="sweep", action="store_false",
                     help=f"skip the checkpoint-interval sweep ({runs.SWEEP_JOB} alone at "
                          f"{', '.join(str(ms) for ms in runs.SWEEP_INTERVALS_MS)} ms)")
    cli.set_defaults(loads=LOADS)
    cli.add_argument("--no-demo", dest="demo", action="store_false",
                     help="skip the last step, `make demo` timed on a platform of its own (bench.demo)")
    cli.add_argument("--no-publish", action="store_true", help="do not copy the results to docs/benchmark/")
    cli.add_argument("--report", type=Path, metavar="DIR", help="only re-render DIR/bench.json's tables and plots")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    try:
        if args.report:
            source = args.report / "bench.json"
            if not source.is_file():
                raise UserError(f"no {source}: point --report at a directory `make bench` wrote")
            publish.write(json.loads(source.read_text()), args.report, not args.no_publish, _echo)
            return 0
        if args.events < 100:
            raise UserError("--events must be at least 100: smaller backlogs measure only start-up")
        base = Settings()
        keys = args.job or list(lessons.BY_KEY)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        result: dict[str, object] = {
            "when": stamp, "machine": {"cpus": os.cpu_count(), "python": host.python_version()},
            "shape": {"brokers": args.brokers, "taskmanagers": args.taskmanagers},
            "base_events": args.events, "checkpoint_interval_ms": base.checkpoint_interval_ms,
            "job_records": args.job_records, "quick": args.quick, "scales": [],
        }
        started = time.monotonic()
        for scale in args.scales:
            with runs.fresh_platform(base, f"x{scale}", args.brokers, args.taskmanagers) as settings:
                largest = scale == args.scales[-1]
                result["scales"].append(measure_scale(settings, scale, args.events * scale, keys,
                                                      args.job_records if largest else None, args.peers))
                if largest and args.latency_duration > 0:
                    capacity = result["scales"][-1]["all_jobs"]["records_per_s"]
                    result["latency"] = {"capacity_records_per_s": capacity, "at_scale": scale,
                                         "runs": measure_latency(settings, keys, capacity, args.latency_duration,
                                                                 args.loads)}
                if largest and args.sweep and args.latency_duration > 0:
                    rate = max(1, round(result["scales"][-1]["all_jobs"]["records_per_s"] * 0.5))
                    _echo(f"checkpoint-interval sweep: {runs.SWEEP_JOB} alone, latency at {rate} events/s")
                    result["sweep"] = {"job": runs.SWEEP_JOB, "rate_per_s": rate, "points": runs.checkpoint_sweep(
                        settings, rate, args.latency_duration, 5000, _echo)}
                if largest and args.drills:
                    _echo(f"TaskManager kill -9, {args.drills} drill(s), every job running")
                    result["recovery"] = {"scenario": "taskmanager-kill", "at_scale": scale,
                                          "data_after_fault_s": drills.DATA_AFTER_FAULT_S,
                                          "recovery_s": runs.recovery(settings, keys, args.drills, 4000, _echo)}
                if largest and args.peers and args.latency_duration > 0:
                    result["peer_latency"] = measure_peer_latency(settings, result["scales"][-1],
                                                                  args.latency_duration)
        if args.demo:
            _echo("make demo, timed on a platform of its own")
            result["demo"] = demo.measure(base, _echo)
        submissions = [s for scale in result["scales"] for s in scale["all_jobs"].get("submission_s", {}).values()]
        if submissions:  # the budget is per job: the slowest one is the figure
            result["submission"] = {"slowest_s": max(submissions), "jobs": len(submissions)}
        result["took_s"] = round(time.monotonic() - started)
        publish.write(result, publish.RESULTS / stamp, not args.no_publish, _echo)
        print()
        print(report.markdown(result))
        return 0
    except UserError as error:
        print(f"python -m bench: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
