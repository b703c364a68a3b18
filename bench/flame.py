"""`python -m bench.flame JOB|all`: where the jobs spend their CPU while they drain a backlog.

Profile before you guess: a fresh platform of its own (under ``<state>/bench/flame``) gets the
16× data set, topped up to ``--records`` per input topic, and the job (or all of them at once)
drains it. Every few seconds, Flink's own sampler (``rest.flamegraph.enabled``) takes an
on-CPU flame graph of each vertex; the frames that spend the most samples themselves ("self"
time) are summed per vertex. Writes ``bench/results/flame-<job>-<when>.md`` and, unless
``--no-publish``, ``docs/benchmark/profiles/<job>.md`` for the benchmark page.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from bench import runs
from streamlab import lessons
from streamlab.apps.commands import OneLineParser, positive_int
from streamlab.config import Settings
from streamlab.data import generator, producer
from streamlab.errors import UserError
from streamlab.jobs import deploy, jobwatch
from streamlab.runtime.flink_rest import FlinkRest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PUBLISHED = ROOT / "docs" / "benchmark" / "profiles"
SAMPLE_EVERY_S = 3.0
TOP_FRAMES = 12


class Profile:
    """Self samples per (vertex, frame), summed over the flame graphs taken while a job runs."""

    def __init__(self) -> None:
        self.self_samples: Counter[tuple[str, str]] = Counter()
        self.total: Counter[str] = Counter()

    def add(self, vertex: str, graph: dict) -> None:
        """One flame graph (Flink's JSON: nested ``name``/``value``/``children``) of ``vertex``."""
        self.total[vertex] += graph["value"]
        stack = [graph]
        while stack:
            node = stack.pop()
            children = node.get("children", [])
            own = node["value"] - sum(child["value"] for child in children)
            if own > 0:
                self.self_samples[(vertex, node["name"])] += own
            stack.extend(children)

    def markdown(self, title: str) -> str:
        lines = [f"# {title}", ""]
        for vertex, total in self.total.most_common():
            lines += [f"**{vertex}**: {total:,} samples", "", "| self | share | frame |", "|---:|---:|---|"]
            frames = [(name, n) for (v, name), n in self.self_samples.most_common() if v == vertex][:TOP_FRAMES]
            lines += [f"| {n:,} | {n / total:.1%} | `{name}` |" for name, n in frames]
            lines.append("")
        return "\n".join(lines)


def profile_jobs(settings: Settings, keys: list[str], timeout_s: float = 1800) -> Profile:
    """Deploy the jobs and sample their vertices' flame graphs until all have drained their inputs."""
    rest = FlinkRest(settings.flink_rest_url)
    job_ids = deploy.deploy_all(settings, keys)
    drained = threading.Event()
    failed: list[UserError] = []

    def wait() -> None:
        try:
            jobwatch.wait_all_caught_up(settings, lessons.input_groups(keys), timeout_s=timeout_s)
        except UserError as error:  # a job that never catches up: say so, not a partial profile
            failed.append(error)
        finally:
            drained.set()

    threading.Thread(target=wait, daemon=True).start()
    profile, seen = Profile(), {}
    while not drained.is_set():
        for key, job_id in job_ids.items():
            for vertex in rest.job(job_id)["vertices"]:
                graph = rest.flame_graph(job_id, vertex["id"])
                # The sampler answers the last finished graph until a new one is ready.
                if graph.get("data") and graph.get("endTimestamp") != seen.get(vertex["id"]):
                    seen[vertex["id"]] = graph["endTimestamp"]
                    profile.add(f"{key}: {vertex['name']}" if len(keys) > 1 else vertex["name"], graph["data"])
        drained.wait(SAMPLE_EVERY_S)
    if failed:
        raise failed[0]
    if not profile.total:  # an empty page published over the last profile would say nothing
        raise UserError(f"no flame graph came back before {', '.join(keys)} drained: "
                        "profile fewer jobs at once, or give them more --records")
    return profile


def parser() -> argparse.ArgumentParser:
    cli = OneLineParser(prog="python -m bench.flame", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("job", choices=[*sorted(lessons.BY_KEY), "all"], metavar="JOB",
                     help=f"one of: {', '.join(lessons.BY_KEY)}, or all (every job at once)")
    cli.add_argument("--records", type=positive_int, default=100_000,
                     help="records each input topic holds before the job starts (default 100000)")
    cli.add_argument("--no-publish", action="store_true", help="do not copy the profile to docs/benchmark/profiles/")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with runs.fresh_platform(Settings(), "flame") as settings:
            producer.produce(generator.generate(generator.GeneratorSpec(seed=1016, count=160_000)),
                             settings.bootstrap_servers, progress=False)
            runs.top_up(settings, args.records, seed=3016, echo=print)
            keys = list(lessons.BY_KEY) if args.job == "all" else [args.job]
            print(f"profiling {args.job} while draining ...", flush=True)
            profile = profile_jobs(settings, keys)
    except UserError as error:
        print(f"python -m bench.flame: error: {error}", file=sys.stderr)
        return 2
    when = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    text = profile.markdown(f"{args.job}: on-CPU self time per vertex ({when}, inputs ≥ {args.records:,} "
                            f"records each, {'every job at once' if args.job == 'all' else 'the job alone'})")
    out = RESULTS / f"flame-{args.job}-{when}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    if not args.no_publish:
        PUBLISHED.mkdir(parents=True, exist_ok=True)
        (PUBLISHED / f"{args.job}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
