"""`python -m bench.ablation`: what each performance lever bought, as a table of before and after.

A lever's row is taken from two benchmark results (``bench.json`` of a run before the change
and of a run after it), never typed by hand: ``add`` copies both into ``docs/benchmark/runs/``,
keeps their summaries in ``docs/benchmark/ablation.json`` and re-renders
``docs/benchmark/ablation.md``; the suite derives every summary again from the copies.
Each summary is of the largest input size: all jobs together, each job alone, the slowest
checkpoint while all jobs drain, and p99 latency at 50% load.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from streamlab.apps.commands import OneLineParser
from streamlab.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "docs" / "benchmark" / "ablation.json"
TABLE = ROOT / "docs" / "benchmark" / "ablation.md"
# The levers about state (where it lives, how often it is touched, how it is checkpointed), for
# the state-store optimisation page.
STATE_TABLE = ROOT / "docs" / "benchmark" / "ablation-state.md"
STATE_LEVERS = ("heap", "RocksDB", "mini-batch", "unaligned", "one temporal join", "window shared",
                "checkpoints every")
RUNS = ROOT / "docs" / "benchmark" / "runs"  # every result the ledger names, as <when>.json
LATENCY_LOAD = 0.5


def summary(result: dict) -> dict:
    """The figures of one result that a lever moves, at its largest input size."""
    scale = result["scales"][-1]
    together = scale["all_jobs"]
    slowest = max((point["duration_ms"] for points in together["checkpoints"].values() for point in points),
                  default=None)
    p99 = {}
    for run in result.get("latency", {}).get("runs", []):
        if run["load"] == LATENCY_LOAD:
            p99 = {row["output_topic"]: row["p99_ms"] for row in run["rows"]}
    return {
        "when": result["when"], "scale": scale["scale"], "events": scale["events"],
        "checkpoint_interval_ms": result["checkpoint_interval_ms"],
        "all_jobs_per_s": together["input_records_per_s"],
        "raw_consume_per_s": scale["baselines"]["consume"]["per_s"],
        "jobs_per_s": {job["job"]: job["records_per_s"] for job in scale["jobs"]},
        # Since `--job-records`, a job alone is timed between its first and last commit on a
        # topped-up backlog; before, from deploy on the backlog itself, start-up included.
        "jobs_timed": "between commits" if "job_records" in result else "from deploy",
        "slowest_checkpoint_ms": slowest,
        "p99_ms_at_50pct": p99,
    }


def _p99(side: dict) -> str:
    values = [v for v in side["p99_ms_at_50pct"].values() if v is not None]
    return f"{min(values):,}–{max(values):,}" if values else "–"


def _jobs(side: dict) -> str:
    values = side["jobs_per_s"].values()
    if not values:
        return "–"
    start_up = " (start-up included)" if side["jobs_timed"] == "from deploy" else ""
    return f"{min(values):,}–{max(values):,}{start_up}"


def _cell(before: str, after: str) -> str:
    return f"{before} → **{after}**"


def markdown(entries: list[dict]) -> str:
    """One row per lever: each figure before → after (runs named by their timestamps)."""
    lines = [
        "| lever | runs (input size, checkpoint interval) | all jobs together (input records/s; × raw "
        "consume in the same run) | each job alone (records/s) | slowest checkpoint (ms) "
        "| p99 latency at 50% load (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for entry in entries:
        before, after = entry["before"], entry["after"]
        slowest = [f"{side['slowest_checkpoint_ms']:,}" if side["slowest_checkpoint_ms"] is not None else "–"
                   for side in (before, after)]
        together = _cell(*(f"{side['all_jobs_per_s']:,} ({side['all_jobs_per_s'] / side['raw_consume_per_s']:.4f}×)"
                           for side in (before, after)))
        runs = " → ".join(f"{side['when']} ({side['scale']}×, {side['checkpoint_interval_ms']:,} ms)"
                          for side in (before, after))
        lines.append(
            f"| {entry['lever']} | {runs} | {together} "
            f"| {_cell(_jobs(before), _jobs(after))} | {_cell(*slowest)} "
            f"| {_cell(_p99(before), _p99(after))} |")
    return "\n".join(lines) + "\n"


def about_state(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if any(word in entry["lever"] for word in STATE_LEVERS)]


def add(lever: str, before: Path, after: Path, ledger: Path = LEDGER, table: Path = TABLE,
        runs: Path = RUNS, state_table: Path = STATE_TABLE) -> list[dict]:
    """Record a lever from two bench.json files (kept in ``runs``) and re-render the tables."""
    sides = {}
    for side, path in (("before", before), ("after", after)):
        if not path.is_file():
            raise UserError(f"no {path}: name the bench.json of a `make bench` run")
        result = json.loads(path.read_text())
        runs.mkdir(parents=True, exist_ok=True)
        (runs / f"{result['when']}.json").write_text(path.read_text())
        sides[side] = summary(result)
    entries = json.loads(ledger.read_text()) if ledger.is_file() else []
    entries = [entry for entry in entries if entry["lever"] != lever]
    entries.append({"lever": lever, **sides})
    ledger.write_text(json.dumps(entries, indent=2) + "\n")
    table.write_text(markdown(entries))
    state_table.write_text(markdown(about_state(entries)))
    return entries


def parser() -> argparse.ArgumentParser:
    cli = OneLineParser(prog="python -m bench.ablation", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = cli.add_subparsers(dest="command", required=True)
    add_cmd = commands.add_parser("add", help="record a lever from a result before it and one after it")
    add_cmd.add_argument("lever", help="what changed, as the table names it")
    add_cmd.add_argument("before", type=Path, help="bench.json of a run without the lever")
    add_cmd.add_argument("after", type=Path, help="bench.json of a run with it")
    commands.add_parser("show", help="print the table from docs/benchmark/ablation.json")
    return cli


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.command == "show":
        print(markdown(json.loads(LEDGER.read_text()) if LEDGER.is_file() else []), end="")
        return 0
    try:
        add(args.lever, args.before, args.after)
    except UserError as error:
        cli.error(str(error))  # one line, exit 2
    print(f"recorded '{args.lever}' in {LEDGER.relative_to(ROOT)}; table: {TABLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
