"""The page's third-party files, installed from package-lock.json: the page loads nothing from a CDN."""

from __future__ import annotations

from pathlib import Path

from streamlab.runtime import frontend

CHART_JS = ("chart.js", "dist/chart.umd.min.js")  # its version: package.json


def chart_js() -> Path:
    """The pinned Chart.js (``npm ci`` once per machine)."""
    return frontend.file(*CHART_JS)
