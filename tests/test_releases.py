"""Releases: the files a job needs, found by its imports, and a fingerprint that changes
exactly when they (or the job's arguments) do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from streamlab import lessons
from streamlab.errors import UserError
from streamlab.jobs import releases
from conftest import REPO

WINDOWS = lessons.get("lesson15-windows").script
AGGREGATIONS = lessons.get("lesson15-aggregations").script
ARGS = ["--bootstrap-servers", "127.0.0.1:9092"]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for package in ("flink_jobs", "streamlab"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def relative(code_dir: Path, files: list[Path]) -> set[str]:
    return {str(f.relative_to(code_dir)) for f in files}


def test_closure_holds_the_imported_project_modules_only(checkout):
    files = relative(checkout, releases.module_closure(checkout, checkout / AGGREGATIONS))
    assert {"flink_jobs/lesson15_aggregations/job.py", "flink_jobs/common/streams.py",
            "flink_jobs/common/kafka_ddl.py",
            "flink_jobs/common/runner.py", "flink_jobs/__init__.py", "streamlab/wire/events.py",
            "streamlab/__init__.py"} <= files
    assert "streamlab/apps/cli.py" not in files and "flink_jobs/lesson15_windows/job.py" not in files
    # a job needs only the wire facts of the platform: a change to the generator upgrades no job
    assert {f for f in files if f.startswith("streamlab/")} <= {
        "streamlab/__init__.py", "streamlab/wire/__init__.py", "streamlab/wire/contract.py",
        "streamlab/wire/events.py", "streamlab/wire/expectations.py", "streamlab/wire/headers.py",
        "streamlab/wire/topics.py"}


def test_fingerprint_follows_the_jobs_own_files_and_arguments(checkout, tmp_path):
    state = tmp_path / "state"
    first = releases.build(state, "lesson15-windows", checkout, WINDOWS, ARGS)
    assert releases.build(state, "lesson15-windows", checkout, WINDOWS, ARGS) == first

    (checkout / "streamlab/apps/cli.py").write_text("# not imported by any job\n")
    (checkout / AGGREGATIONS).write_text("# another job's code\n")
    assert releases.build(state, "lesson15-windows", checkout, WINDOWS, ARGS) == first

    assert releases.build(state, "lesson15-windows", checkout, WINDOWS,
                          ["--bootstrap-servers", "elsewhere:9092"]).fingerprint != first.fingerprint
    streams = checkout / "flink_jobs/common/streams.py"
    streams.write_text(streams.read_text() + "# a shared module changed\n")
    second = releases.build(state, "lesson15-windows", checkout, WINDOWS, ARGS)
    assert second.fingerprint != first.fingerprint


def test_a_release_is_a_frozen_copy_found_again_by_fingerprint(checkout, tmp_path):
    state = tmp_path / "state"
    release = releases.build(state, "lesson15-windows", checkout, WINDOWS, ARGS)
    (checkout / WINDOWS).write_text("raise SystemExit('the next version')\n")
    assert "def build" in release.entry_point.read_text()
    assert releases.find(state, "lesson15-windows", WINDOWS, release.fingerprint) == release
    assert releases.find(state, "lesson15-windows", WINDOWS, "0" * 16) is None


def test_a_checkout_without_the_job_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="STREAMLAB_CODE_DIR"):
        releases.build(tmp_path / "state", "lesson15-windows", tmp_path, WINDOWS, ARGS)
