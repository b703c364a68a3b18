"""Releases: a job's code frozen when it is deployed, named by its fingerprint.

An upgrade that fails must go back to the code that ran before, but by then the checkout
already holds the new code. So every deploy runs from a snapshot under
``<state>/releases/<job>/<fingerprint>/``: the job's script and every project module it imports,
found by reading the imports (not by running them). The fingerprint hashes exactly those files
and the job's arguments, so a change anywhere else in the repo does not upgrade the job.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from streamlab.errors import UserError

# The project's own packages a job may import; everything else comes from the venv.
PACKAGES = ("flink_jobs", "streamlab")


@dataclass(frozen=True)
class Release:
    job: str  # the lesson's key (streamlab.lessons)
    fingerprint: str
    root: Path  # goes first on the job's PYTHONPATH
    script: Path  # relative to the code directory, as in the lesson's contract (Lesson.script)

    @property
    def entry_point(self) -> Path:
        return self.root / self.script


def _module_file(code_dir: Path, module: str) -> Path | None:
    base = code_dir.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


# CPython 3.11's ast.parse is not thread-safe ("AST constructor recursion depth mismatch"),
# and jobs are deployed two at a time (deploy.for_each_job): one parse at a time.
_PARSE = threading.Lock()


def _imported_modules(source: Path) -> set[str]:
    """Project modules named by the file's import statements (``from p import m`` may name a
    module ``p.m`` or just an attribute of ``p``; both are offered, files decide)."""
    names: set[str] = set()
    with _PARSE:
        tree = ast.parse(source.read_text(), str(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] in PACKAGES}


def module_closure(code_dir: Path, script: Path) -> list[Path]:
    """The script and every project file it needs, transitively, with their packages' ``__init__``."""
    found: set[Path] = set()
    pending = [script]
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.add(path)
        for module in _imported_modules(path):
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):  # a module's parent packages run first
                file = _module_file(code_dir, ".".join(parts[:depth]))
                if file is not None and file not in found:
                    pending.append(file)
    return sorted(found)


def fingerprint(code_dir: Path, files: list[Path], job_args: list[str]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(code_dir)).encode() + b"\0" + file.read_bytes() + b"\0")
    digest.update("\0".join(job_args).encode())
    return digest.hexdigest()[:16]


def releases_dir(state: Path, job: str) -> Path:
    return state / "releases" / job


def build(state: Path, job: str, code_dir: Path, script: Path, job_args: list[str]) -> Release:
    """Snapshot the job's code (once per fingerprint) and return the release."""
    if not (code_dir / script).is_file():
        raise UserError(f"job script {code_dir / script} does not exist: "
                        f"STREAMLAB_CODE_DIR must name a checkout of this project")
    files = module_closure(code_dir, code_dir / script)
    name = fingerprint(code_dir, files, job_args)
    root = releases_dir(state, job) / name
    if not root.is_dir():
        staging = root.with_name(f".{name}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        for file in files:
            target = staging / file.relative_to(code_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)
        staging.rename(root)  # atomic: a release directory is complete or absent
    return Release(job, name, root, script)


def find(state: Path, job: str, script: Path, name: str) -> Release | None:
    """An earlier release of the job by fingerprint (the rollback target), if still on disk."""
    release = Release(job, name, releases_dir(state, job) / name, script)
    return release if release.entry_point.is_file() else None
