"""The page's third-party files, vendored from the npm registry: the page loads nothing from a CDN."""

from __future__ import annotations

from pathlib import Path

from streamlab import npm

CHART_JS = ("chart.js", "4.5.1", "dist/chart.umd.min.js")


def chart_js() -> Path:
    """The pinned Chart.js, extracted once per machine."""
    return npm.pinned_file(*CHART_JS)
