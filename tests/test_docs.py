"""The lessons site builds strictly: every snippet include resolves to a real file."""

from __future__ import annotations

import os
import subprocess

from conftest import REPO, VENV_BIN


def test_mkdocs_build_strict(tmp_path):
    result = subprocess.run(
        [str(VENV_BIN / "mkdocs"), "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "lessons" / "14-stateless-topology" / "index.html").read_text()
    assert "CROSS JOIN UNNEST" in page  # the job's real code, included, not pasted
    state = (tmp_path / "site" / "lessons" / "16-state-and-fault-tolerance" / "index.html").read_text()
    assert "local-backup" in state and "MEASURES" in state  # the cluster's settings, the stores job
    dashboard = (tmp_path / "site" / "lessons" / "17-dashboard" / "index.html").read_text()
    assert "QueueFull" in dashboard and "subscribe" in dashboard  # the hub and the WebSocket route
