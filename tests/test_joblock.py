"""One operation per job at a time: a second one waits, then gives up naming the holder; the
holder may lock again; a dead holder leaves no lock; the CLI says so in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.jobs import joblock

REPO = Path(__file__).resolve().parent.parent
HOLD = """
import sys, time
from streamlab.jobs import joblock
from streamlab.config import Settings
with joblock.held(Settings(state_dir=sys.argv[1]), sys.argv[2], "savepoint"):
    print("held", flush=True)
    time.sleep(60)
"""


def hold(state: Path, key: str) -> subprocess.Popen[str]:
    """Another process holding ``key``'s lock, as a DAG task taking a savepoint would."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state), key], stdout=subprocess.PIPE,
                            text=True, cwd=REPO)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path, lock_wait_s=0.5)


def test_a_second_operation_gives_up_naming_the_holder(settings: Settings) -> None:
    holder = hold(settings.state, "lesson14-stateless")
    try:
        started = time.monotonic()
        with pytest.raises(UserError, match=rf"lesson14-stateless is busy with savepoint \(pid {holder.pid}, for \d+s\); "
                                            r"deploy waited 0s"):
            with joblock.held(settings, "lesson14-stateless", "deploy"):
                pass
        assert 0.5 <= time.monotonic() - started < 5
        with joblock.held(settings, "lesson15-windows", "deploy"):  # other jobs are free
            pass
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_goes_with_a_killed_holder(settings: Settings) -> None:
    holder = hold(settings.state, "lesson14-stateless")
    holder.kill()
    holder.wait()
    with joblock.held(settings, "lesson14-stateless", "deploy"):
        assert joblock.holder(settings, "lesson14-stateless")["pid"] == os.getpid()
    assert joblock.holder(settings, "lesson14-stateless") is None  # released: the file says nobody


def test_a_holder_may_lock_again_but_another_thread_waits(settings: Settings) -> None:
    failed: list[BaseException] = []

    def other() -> None:
        try:
            with joblock.held(settings, "lesson14-stateless", "cancel"):
                pass
        except UserError as err:
            failed.append(err)

    with joblock.held(settings, "lesson14-stateless", "deploy"):
        with joblock.held(settings, "lesson14-stateless", "stop"):  # an upgrade's stop-with-savepoint
            assert joblock.holder(settings, "lesson14-stateless")["operation"] == "deploy"
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(10)
    assert len(failed) == 1 and "busy with deploy" in str(failed[0])


def test_a_waiting_operation_goes_on_once_the_holder_is_done(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, lock_wait_s=30)
    holder = hold(settings.state, "lesson14-stateless")
    threading.Timer(1.0, holder.kill).start()
    started = time.monotonic()
    with joblock.all_held(settings, ["lesson15-windows", "lesson14-stateless"], "drill job-restore"):
        assert 0.9 <= time.monotonic() - started < 10
        assert joblock.holder(settings, "lesson15-windows")["operation"] == "drill job-restore"
    holder.wait()


@pytest.mark.parametrize("command", [["savepoint", "lesson14-stateless"], ["stop", "lesson14-stateless"],
                                     ["cancel", "lesson14-stateless"],
                                     ["deploy", "lesson14-stateless"], ["restore", "lesson14-stateless", "--from", "."],
                                     ["drill", "job-restore"]])
def test_the_cli_says_the_job_is_busy_in_one_line(tmp_path: Path, command: list[str]) -> None:
    holder = hold(tmp_path, "lesson14-stateless")
    try:
        if command[0] == "restore":
            (tmp_path / "_metadata").write_text("")  # a savepoint to restore from
            command = [*command[:-1], str(tmp_path)]
        env = dict(os.environ, STREAMLAB_STATE_DIR=str(tmp_path), STREAMLAB_LOCK_WAIT_S="1")
        result = subprocess.run([str(Path(sys.executable).parent / "streamlab"), *command], env=env,
                                capture_output=True, text=True, timeout=60, cwd=REPO)
        assert result.returncode == 1, result.stderr
        lines = [line for line in result.stderr.splitlines() if "waits for" not in line]
        assert len(lines) == 1 and "lesson14-stateless is busy with savepoint" in lines[0], result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_busy_names_the_holder_only_while_the_lock_is_held(tmp_path):
    settings = Settings(state_dir=tmp_path)
    assert joblock.busy(settings, "lesson15-windows") is None  # never locked
    with joblock.held(settings, "lesson15-windows", "drill taskmanager-kill"):
        found = subprocess.run([sys.executable, "-c", BUSY, str(tmp_path)], capture_output=True, text=True,
                               timeout=60)
        assert found.stdout.strip() == "drill taskmanager-kill", found.stderr
    assert joblock.busy(settings, "lesson15-windows") is None  # released


# Another process asks: a lock this process holds is its own (flock is per open file).
BUSY = """
import sys
from pathlib import Path
from streamlab.config import Settings
from streamlab.jobs import joblock
print((joblock.busy(Settings(state_dir=Path(sys.argv[1])), "lesson15-windows") or {}).get("operation"))
"""
