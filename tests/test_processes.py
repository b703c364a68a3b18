"""Pid records: a process counts as ours only while its pid *and* start time match."""

from __future__ import annotations

import json
import socket

import pytest

from streamlab.errors import UserError
from streamlab.runtime import processes
from conftest import STATE_ROOT


def test_spawn_record_and_stop(tmp_path):
    state = STATE_ROOT / "test-processes"
    proc = processes.spawn(state, "sleeper", ["sleep", "60"], {}, state / "sleeper.log", cwd=tmp_path)
    assert processes.running(state, "sleeper") == proc
    assert processes.stop(state, "sleeper") is True
    assert not proc.alive()
    assert processes.recorded(state, "sleeper") is None
    assert processes.stop(state, "sleeper") is False


def test_recycled_pid_is_not_ours(tmp_path):
    state = STATE_ROOT / "test-processes"
    proc = processes.spawn(state, "sleeper", ["sleep", "60"], {}, state / "sleeper.log", cwd=tmp_path)
    try:
        record = state / "pids" / "sleeper.json"
        data = json.loads(record.read_text())
        data["create_time"] -= 1000  # same pid, different process: must not be signalled
        data["ticks"] -= 100_000
        record.write_text(json.dumps(data))
        assert processes.running(state, "sleeper") is None
        assert processes.stop(state, "sleeper") is False
        assert proc.alive()
    finally:
        processes.kill(proc)


def test_a_wall_clock_step_leaves_a_process_ours(tmp_path):
    """The wall-clock start time moves when the clock is stepped or a suspended machine resumes;
    the start in ticks since boot does not, and decides."""
    state = STATE_ROOT / "test-processes"
    proc = processes.spawn(state, "sleeper", ["sleep", "60"], {}, state / "sleeper.log", cwd=tmp_path)
    try:
        record = state / "pids" / "sleeper.json"
        data = json.loads(record.read_text())
        assert data["ticks"] == processes.start_ticks(proc.pid)
        data["create_time"] += 5.0
        record.write_text(json.dumps(data))
        assert processes.running(state, "sleeper") is not None
        assert processes.stop(state, "sleeper") is True
        assert not proc.alive()
    finally:
        processes.kill(proc)


def test_port_in_use_is_a_user_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(UserError, match="already in use.*STREAMLAB_X"):
            processes.require_free_port("127.0.0.1", sock.getsockname()[1], "X", "STREAMLAB_X")


def test_a_start_is_waited_for_and_a_death_during_it_is_its_log(tmp_path):
    state = STATE_ROOT / "test-processes"
    ready = tmp_path / "ready"
    proc = processes.spawn(state, "starter", ["sh", "-c", f"sleep 0.3; touch {ready}; sleep 60"], {"PATH": "/usr/bin:/bin"},
                           state / "starter.log", cwd=tmp_path)
    try:
        assert processes.wait_started(proc, ready.exists, 30, "the starter") == proc
    finally:
        processes.stop(state, "starter")
    dying = processes.spawn(state, "dier", ["sh", "-c", "echo no such config; exit 3"], {"PATH": "/usr/bin:/bin"},
                            state / "dier.log", cwd=tmp_path)
    with pytest.raises(UserError, match="the dier exited during startup; last log lines:\nno such config"):
        processes.wait_started(dying, lambda: False, 30, "the dier")
