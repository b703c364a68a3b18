"""Where a benchmark run is written (``bench/results/<when>/``) and published (``docs/benchmark/``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PUBLISHED = ROOT / "docs" / "benchmark"


def write(result: dict, out_dir: Path, publish: bool, echo: Callable[[str], None] = print) -> None:
    """``bench.json``, ``results.md`` and the plots into ``out_dir``; copied for the docs site
    too when ``publish``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    (out_dir / "results.md").write_text(report.markdown(result))
    written = report.plots(result, out_dir)
    echo(f"written: {out_dir} (bench.json, results.md, {', '.join(path.name for path in written)})")
    if publish:
        PUBLISHED.mkdir(parents=True, exist_ok=True)
        for path in [out_dir / "bench.json", out_dir / "results.md", *written]:
            shutil.copy2(path, PUBLISHED / path.name)
        echo(f"published to {PUBLISHED.relative_to(ROOT)}/ for the docs site (`make docs`)")
