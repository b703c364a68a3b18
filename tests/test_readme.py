"""The README documents every setting, every subcommand and every module of the layout."""

from __future__ import annotations

import re
import subprocess

from streamlab.config import Settings
from conftest import REPO, VENV_BIN


def test_every_setting_is_documented():
    readme = (REPO / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"`STREAMLAB_{name.upper()}`" in readme, name


def test_every_subcommand_is_documented():
    readme = (REPO / "README.md").read_text()
    help_text = subprocess.run([str(VENV_BIN / "streamlab"), "--help"], capture_output=True, text=True).stdout
    # Subcommands are the lines indented by four spaces under "COMMAND" in the help.
    commands = [line.split()[0] for line in help_text.splitlines()
                if line.startswith("    ") and not line.startswith("     ")]
    assert "demo" in commands
    for command in commands:
        assert f"`streamlab {command}" in readme, command


def test_the_layout_table_names_every_package_and_module():
    readme = (REPO / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `streamlab/` |"))
    named = set(re.findall(r"`([a-z_]+)/?`", row))
    present = {path.stem for path in (REPO / "streamlab").rglob("*.py") if path.stem != "__init__"}
    present |= {path.name for path in (REPO / "streamlab").rglob("*") if path.is_dir() and path.name != "__pycache__"}
    assert present <= named, sorted(present - named)
    for folder in ("flink_jobs", "validation", "bench", "dags", "tests", "docs"):
        assert f"| `{folder}/`" in readme, folder
