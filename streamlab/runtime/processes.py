"""Start and stop the platform's own processes, and only those.

Each service runs in its own session (process group). Its pid and the process's start time
are recorded in ``<state>/pids/<name>.json``; a recorded pid counts as ours only while a
process with that pid *and* that start time exists, so a recycled pid is never signalled.
The start time is compared in clock ticks since boot where Linux tells them: the wall-clock
start time psutil derives moves with the wall clock (a step of it, or a suspended machine
resuming), and a TaskManager started half an hour earlier stopped looking like ours.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from streamlab.errors import UserError


def start_ticks(pid: int) -> int | None:
    """The process's start in clock ticks since boot (``/proc/<pid>/stat``), None off Linux or
    when no such process exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22, counted after "pid (comm)"


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    pid: int
    create_time: float
    log: Path
    ticks: int | None = None  # start_ticks when spawned

    def alive(self) -> bool:
        try:
            proc = psutil.Process(self.pid)
            if self.ticks is not None and (ticks := start_ticks(self.pid)) is not None:
                same = ticks == self.ticks
            else:
                same = abs(proc.create_time() - self.create_time) < 0.05
            return same and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False


def _pid_file(state: Path, name: str) -> Path:
    return state / "pids" / f"{name}.json"


def spawn(
    state: Path, name: str, argv: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path
) -> ManagedProcess:
    """Start ``argv`` detached in its own session, logging to ``log``, and record it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    _pid_file(state, name).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    managed = ManagedProcess(name, proc.pid, psutil.Process(proc.pid).create_time(), log, start_ticks(proc.pid))
    _pid_file(state, name).write_text(json.dumps(
        {"pid": managed.pid, "create_time": managed.create_time, "ticks": managed.ticks, "log": str(log)}))
    return managed


def recorded(state: Path, name: str) -> ManagedProcess | None:
    path = _pid_file(state, name)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return ManagedProcess(name, data["pid"], data["create_time"], Path(data["log"]), data.get("ticks"))


def running(state: Path, name: str) -> ManagedProcess | None:
    proc = recorded(state, name)
    return proc if proc is not None and proc.alive() else None


def all_recorded(state: Path) -> list[ManagedProcess]:
    pids = state / "pids"
    if not pids.is_dir():
        return []
    found = (recorded(state, path.stem) for path in sorted(pids.glob("*.json")))
    return [proc for proc in found if proc is not None]


def stop(state: Path, name: str, timeout_s: float = 30.0) -> bool:
    """Stop the recorded process group gracefully, then forcibly; True if something ran."""
    proc = recorded(state, name)
    if proc is None:
        return False
    was_alive = proc.alive()
    if was_alive:
        _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while proc.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        if proc.alive():
            _signal_group(proc, signal.SIGKILL)
            while proc.alive():
                time.sleep(0.1)
    _reap_group(proc)
    _pid_file(state, name).unlink(missing_ok=True)
    return was_alive


def kill(proc: ManagedProcess) -> None:
    """SIGKILL the whole group at once: a crash, as the fault tests need it."""
    _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: ManagedProcess, sig: signal.Signals) -> None:
    if not proc.alive():
        return
    try:
        os.killpg(proc.pid, sig)  # the group id is the leader's pid (start_new_session)
    except ProcessLookupError:
        pass


def group_members(proc: ManagedProcess) -> list[psutil.Process]:
    """Processes still in the leader's group that were started after it (so are its own).

    A live process holding the leader's pid with another start time means the pid was
    recycled: that group is someone else's. Linux never hands out a pid that is still some
    group's id, so a group named after our dead leader is ours.
    """
    if psutil.pid_exists(proc.pid) and not proc.alive():
        try:
            if psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
                return []
        except psutil.NoSuchProcess:
            pass
    members = []
    for other in psutil.process_iter(["pid", "create_time"]):
        try:
            if (
                os.getpgid(other.pid) == proc.pid
                and other.info["create_time"] >= proc.create_time - 0.05
            ):
                members.append(other)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


def _reap_group(proc: ManagedProcess) -> None:
    """Kill what the leader left behind in its group (e.g. Python UDF workers)."""
    for member in group_members(proc):
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass


def require_free_port(host: str, port: int, what: str, env_var: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise UserError(
                f"{what} port {port} on {host} is already in use: "
                f"stop what uses it or set {env_var} to a free port"
            ) from None


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct ports free right now (for an isolated platform: tests, benchmarks)."""
    sockets = []
    try:
        for _ in range(n):
            sock = socket.socket()
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port_block(n: int, host: str = "127.0.0.1") -> int:
    """The first of ``n`` consecutive ports free right now (a Kafka cluster's brokers count
    their ports up from one base)."""
    for _ in range(100):
        [base] = free_ports(1, host)
        sockets = []
        try:
            for port in range(base, base + n):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind((host, port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise UserError(f"found no {n} consecutive free ports on {host}")


def wait_started(proc: ManagedProcess, ready: Callable[[], bool], timeout_s: float, what: str,
                 poll_s: float = 0.2) -> ManagedProcess:
    """Wait until ``ready()``: a UserError with the log's last lines if the process exits first,
    or is not ready within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if not proc.alive():
            raise UserError(f"{what} exited during startup; last log lines:\n{tail(proc.log)}")
        if time.monotonic() > deadline:
            raise UserError(f"{what} not ready after {timeout_s:.0f}s; last log lines:\n{tail(proc.log)}")
        time.sleep(poll_s)
    return proc


def tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])
