"""Bounded disk: exactly which checkpoints, releases and staging files ``prune`` removes, and
that it keeps everything a restore or a rollback can still use. ``test_dags`` runs it from the
savepoint_backup DAG against a real cluster."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from streamlab.jobs import lifecycle, prune


def checkpointed(root: Path, job_id: str, completed: bool = True) -> Path:
    run = root / job_id
    (run / "shared").mkdir(parents=True)
    if completed:
        (run / "chk-7").mkdir()
        (run / "chk-7" / "_metadata").write_text("")
    return run


def test_older_runs_go_once_a_newer_run_checkpointed(tmp_path: Path) -> None:
    old, broken, newest = (checkpointed(tmp_path, "a"), checkpointed(tmp_path, "b", completed=False),
                           checkpointed(tmp_path, "c"))
    assert prune.stale_checkpoints(tmp_path, ["a", "b", "c"], set(), None) == [old, broken]
    assert newest.is_dir()


def test_active_runs_and_the_resume_point_stay(tmp_path: Path) -> None:
    held, running = checkpointed(tmp_path, "a"), checkpointed(tmp_path, "b", completed=False)
    newer = checkpointed(tmp_path, "c")
    # "b" runs (restored from "a", no checkpoint of its own yet), and "a" holds the resume point.
    assert prune.stale_checkpoints(tmp_path, ["a", "b", "c"], {"b"}, held / "chk-7") == []
    assert prune.stale_checkpoints(tmp_path, ["a", "b", "c"], set(), newer / "chk-7") == [held, running]


def test_a_savepoint_resume_point_keeps_the_newest_checkpointed_run(tmp_path: Path) -> None:
    old = checkpointed(tmp_path, "a")
    checkpointed(tmp_path, "b")  # the newest checkpointed run: kept
    savepoint = tmp_path.parent / "savepoints" / "savepoint-1"
    assert prune.stale_checkpoints(tmp_path, ["a", "b", "b"], set(), savepoint) == [old]
    assert prune.stale_checkpoints(tmp_path, ["a", "gone"], set(), None) == []  # "gone": never on disk


def test_releases_beyond_the_newest_go_unless_they_run(tmp_path: Path) -> None:
    now = time.time()
    made = []
    for age, name in enumerate(["r5", "r4", "r3", "r2", "r1"]):  # r5 newest
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (now - age * 60, now - age * 60))
        made.append(tmp_path / name)
    (tmp_path / ".r0.partial").mkdir()
    os.utime(tmp_path / ".r0.partial", (now - 7200, now - 7200))
    (tmp_path / ".r6.partial").mkdir()  # being built right now
    assert sorted(prune.stale_releases(tmp_path, {"r1"}, keep=3, now=now)) == sorted(
        [tmp_path / "r2", tmp_path / ".r0.partial"])
    assert prune.stale_releases(tmp_path / "none", set()) == []


def test_staging_files_of_dead_writers_go(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    mine = tmp_path / f".streamlab.duckdb.{os.getpid()}"
    gone = tmp_path / f".streamlab.duckdb.{dead.stdout.strip()}"
    odd = tmp_path / ".streamlab.duckdb.x"
    for path in (mine, gone, odd, tmp_path / "streamlab.duckdb"):
        path.write_text("")
    assert sorted(prune.stale_staging(tmp_path)) == sorted([gone, odd])


def test_the_resume_point_passes_over_a_checkpoint_retired_since_it_was_listed(tmp_path):
    """Flink deletes a job's oldest retained checkpoint as it completes a new one: one listed and
    then gone is no resume point, and no crash (it failed a savepoint_backup's prune_disk)."""
    older, newer, retired = (tmp_path / name for name in ("chk-1", "chk-2", "chk-3"))
    for point in (older, newer):
        point.mkdir()
        (point / "_metadata").write_bytes(b"x")
    os.utime(older / "_metadata", (1, 1))
    assert lifecycle.newest([older, retired, newer]) == newer
    assert lifecycle.newest([retired]) is None
