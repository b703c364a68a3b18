"""The page's third-party files, vendored from the npm registry: the page loads nothing from a CDN."""

from __future__ import annotations

from pathlib import Path

from streamlab import npm
from streamlab.config import Settings

CHART_JS = ("chart.js", "4.5.1", "dist/chart.umd.min.js")


def vendor_dir(settings: Settings) -> Path:
    return settings.state / "dashboard" / "vendor"


def ensure(settings: Settings) -> Path:
    """Extract the pinned files once (the tarball itself is cached per machine)."""
    package, version, path = CHART_JS
    target = vendor_dir(settings) / package / version
    if not (target / path).exists():
        npm.extract(package, version, [path], target)
    return target / path
