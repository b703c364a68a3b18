"""The front-end files come through npm's own lockfile: every package is pinned and carries an
integrity hash, `npm ci` refuses a tarball that does not match it, and every file the dashboard,
the lessons site and the Data Docs serve is in the install."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from streamlab.apps import docsite
from streamlab.apps.dashboard import assets
from streamlab.runtime import frontend
from streamlab.warehouse import data_docs

REPO = Path(__file__).resolve().parent.parent


def test_every_package_is_pinned_and_locked_with_its_hash() -> None:
    wanted = json.loads((REPO / "package.json").read_text())["dependencies"]
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == wanted
    assert all(version[0].isdigit() or version.startswith("npm:") for version in wanted.values())  # exact pins
    for path, entry in lock["packages"].items():
        if path:
            assert entry["integrity"].startswith("sha512-"), path


def test_every_served_file_is_installed() -> None:
    used = [assets.CHART_JS, *docsite.VENDORED.values(), *((pkg, path) for pkg, path, _ in data_docs.ASSETS.values())]
    for package, inner in used:
        assert frontend.file(package, inner).stat().st_size > 0
    lock = json.loads((REPO / "package-lock.json").read_text())
    for package, _ in used:
        installed = json.loads((frontend.package_dir(package) / "package.json").read_text())
        assert installed["version"] == lock["packages"][f"node_modules/{package}"]["version"]


def test_npm_ci_refuses_a_tarball_whose_hash_differs(tmp_path: Path) -> None:
    for name in frontend.MANIFEST:
        shutil.copy2(REPO / name, tmp_path / name)
    lock = json.loads((tmp_path / "package-lock.json").read_text())
    forged = "sha512-" + base64.b64encode(hashlib.sha512(b"not chart.js").digest()).decode()
    lock["packages"]["node_modules/chart.js"]["integrity"] = forged
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    done = subprocess.run(["npm", "ci", "--prefer-offline", "--no-progress"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode != 0
    assert "EINTEGRITY" in done.stderr or "integrity checksum failed" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "node_modules" / "chart.js").exists()
