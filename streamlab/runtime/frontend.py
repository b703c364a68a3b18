"""Third-party front-end files, for pages that must work offline (no CDN): the dashboard's
Chart.js, the lessons site's mermaid and search shim, the Data Docs' scripts and styles.

They are npm packages pinned in ``package.json`` and locked, with each tarball's integrity hash,
in ``package-lock.json``. ``npm ci`` installs exactly that lockfile and refuses a tarball whose
hash differs. It installs into a per-machine cache named by the lockfile's hash
(``$XDG_CACHE_HOME/streamlab/npm/<hash>``, as pip caches wheels), so a fresh clone with the same
lockfile installs nothing, and a changed lockfile gets a fresh install beside the old one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from streamlab.errors import UserError

REPO = Path(__file__).resolve().parents[2]
MANIFEST = ("package.json", "package-lock.json", ".npmrc")  # what npm ci reads
INSTALL_TIMEOUT_S = 900.0


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "streamlab" / "npm"


def install_dir() -> Path:
    """Where this lockfile's packages are installed (``node_modules/`` inside)."""
    digest = hashlib.sha256(b"".join((REPO / name).read_bytes() for name in MANIFEST)).hexdigest()[:16]
    return cache_root() / digest


def install() -> Path:
    """``npm ci`` this checkout's lockfile once per machine; returns its install dir."""
    target = install_dir()
    if (target / ".installed").is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise UserError("npm is not on PATH: install Node.js 20 (it brings npm), then `streamlab setup`")
    staging = target.with_name(f"{target.name}.partial{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in MANIFEST:
        shutil.copy2(REPO / name, staging / name)
    try:
        done = subprocess.run([npm, "ci", "--prefer-offline", "--no-progress"], cwd=staging,
                              capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        raise UserError(f"npm ci did not finish in {INSTALL_TIMEOUT_S:.0f}s; check access to "
                        "registry.npmjs.org") from None
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        errors = [line for line in done.stderr.splitlines() if line.startswith("npm error") and line.strip() != "npm error"]
        raise UserError(f"npm ci failed: {(errors or ['(no message)'])[0].removeprefix('npm error ')}")
    (staging / ".installed").touch()
    try:
        staging.rename(target)
    except OSError:  # another process installed the same lockfile meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


def package_dir(package: str) -> Path:
    """An installed package's directory (``package`` as in package.json, aliases included)."""
    found = install() / "node_modules" / package
    if not found.is_dir():
        raise UserError(f"{package} is not in package.json: add it there and run `npm install --package-lock-only`")
    return found


def file(package: str, inner: str) -> Path:
    """One file of an installed package."""
    found = package_dir(package) / inner
    if not found.is_file():
        raise UserError(f"{package} has no {inner} (see its directory {found.parent})")
    return found
