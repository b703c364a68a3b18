"""The README documents every setting and every subcommand."""

from __future__ import annotations

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
