"""One operation per job at a time: deploy, upgrade, savepoint, stop, cancel, restore and drill
each hold the job's lock, whether the CLI or a DAG task runs them.

Without it a `streamlab deploy` and the deploy DAG could both find the job running, both stop it
with a savepoint and both submit the new code: two copies of a job writing to the same topics.
The lock is an ``flock`` on a file under the state dir, so the kernel drops it when its holder
dies (a killed task leaves nothing to clean up), and the file says who holds it. An operation
that waits longer than ``lock_wait_s`` gives up with one line naming the holder.

A holder may take its own job's lock again (an upgrade's savepoint, a drill's restore): each
thread remembers what it holds, and another thread of the same process waits like any process.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from streamlab.config import Settings
from streamlab.errors import UserError

log = logging.getLogger(__name__)
_held: set[tuple[int, str]] = set()  # (thread, lock path) pairs this process holds
_guard = threading.Lock()


def lock_path(settings: Settings, key: str) -> Path:
    return settings.state / "locks" / f"{key}.lock"


def holder(settings: Settings, key: str) -> dict | None:
    """Who holds (or last held) the job's lock: operation, pid, since (epoch s)."""
    try:
        return json.loads(lock_path(settings, key).read_text() or "null")
    except (OSError, ValueError):
        return None


def _describe(found: dict | None) -> str:
    if not found:
        return "another operation"
    return (f"{found.get('operation', '?')} (pid {found.get('pid', '?')}, "
            f"for {max(0.0, time.time() - float(found.get('since', time.time()))):.0f}s)")


@contextmanager
def held(settings: Settings, key: str, operation: str) -> Iterator[None]:
    """Hold the job's lock for ``operation``, waiting up to ``settings.lock_wait_s`` for it (and
    saying once, as a warning, whom it waits for: on stderr from the CLI, in a DAG's task log)."""
    path = lock_path(settings, key)
    mine = (threading.get_ident(), str(path))
    with _guard:
        again = mine in _held
        _held.add(mine)
    if again:
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as handle:
            _acquire(settings, key, handle, operation)
            try:
                handle.seek(0)
                handle.truncate()
                json.dump({"operation": operation, "pid": os.getpid(), "since": time.time()}, handle)
                handle.flush()
                yield
            finally:
                handle.truncate(0)
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        with _guard:
            _held.discard(mine)


def busy(settings: Settings, key: str) -> dict | None:
    """Who holds the job's lock right now (None when nobody does), without waiting: a job in the
    middle of a drill or an upgrade restarts on purpose, and job_health leaves it alone."""
    path = lock_path(settings, key)
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return holder(settings, key) or {}
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def _acquire(settings: Settings, key: str, handle: IO[str], operation: str) -> None:
    deadline = time.monotonic() + settings.lock_wait_s
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            who = _describe(holder(settings, key))
            if time.monotonic() >= deadline:
                raise UserError(f"{key} is busy with {who}; {operation} waited "
                                f"{settings.lock_wait_s:.0f}s (STREAMLAB_LOCK_WAIT_S): try again when "
                                f"it finishes") from None
            if not told:
                log.warning("%s of %s waits for %s", operation, key, who)
                told = True
            time.sleep(0.2)


@contextmanager
def all_held(settings: Settings, keys: Iterable[str], operation: str) -> Iterator[None]:
    """Hold several jobs' locks, always taken in the same order so two holders cannot deadlock."""
    with ExitStack() as stack:
        for key in sorted(set(keys)):
            stack.enter_context(held(settings, key, operation))
        yield
