"""`python -m bench.demo`: how long `make demo` takes after setup, on a platform of its own.

The figure is the demo's run, timed as its own "in all" is: services up, 20,000 events, seven jobs deployed and
reconciled with the oracle, the TaskManager kill drill, the warehouse load and its validation.
`python -m bench` runs this last (not in ``--quick``); ``--into DIR`` adds a measurement to a
finished run's ``DIR/bench.json`` under its own timestamp and re-renders that run's report.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from bench import publish
from streamlab.apps import demo
from streamlab.apps import platform as platform_lib
from streamlab.apps.commands import OneLineParser
from streamlab.config import Settings
from streamlab.errors import UserError


def measure(base: Settings, echo: Callable[[str], None] = print) -> dict[str, object]:
    """Run the demo end to end on free ports under ``<state>/bench/demo``; its time and verdict.

    A demo that fails is a figure too (``passed`` false, with its error): it comes last in
    ``python -m bench``, whose other figures must not be lost with it."""
    state = base.state / "bench" / "demo"
    if state.exists():
        shutil.rmtree(state)
    settings = platform_lib.isolated(state, base.jars, airflow=True, dashboard=True)
    lines: list[str] = []
    started = time.monotonic()
    try:
        code, error = demo.run(settings, echo=lines.append), None
    except UserError as failure:
        code, error = 1, str(failure)
    finally:
        took = time.monotonic() - started
        platform_lib.down(settings, echo=lambda _: None)
    echo(f"make demo (after setup): {took:.1f} s, exit {code}" + (f": {error}" if error else ""))
    return {"when": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"), "in_all_s": round(took, 1),
            "passed": code == 0, "drill": next((line for line in lines if line.startswith("DRILL ")), None),
            "steps_s": next((demo.Steps.parse(line) for line in lines if line.startswith(demo.Steps.PREFIX)), {}),
            **({"error": error} if error else {})}


def parser() -> argparse.ArgumentParser:
    cli = OneLineParser(prog="python -m bench.demo", description=__doc__.split("\n\n")[0])
    cli.add_argument("--into", type=Path, metavar="DIR", required=True,
                     help="a `make bench` result directory: add the figure to DIR/bench.json and re-render it")
    cli.add_argument("--no-publish", action="store_true", help="do not copy the re-rendered run to docs/benchmark/")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        source = args.into / "bench.json"
        if not source.is_file():
            raise UserError(f"no {source}: point --into at a directory `make bench` wrote")
        result = json.loads(source.read_text())
        result["demo"] = measure(Settings())
        publish.write(result, args.into, not args.no_publish)
        return 0 if result["demo"]["passed"] else 1
    except UserError as error:
        print(f"python -m bench.demo: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
