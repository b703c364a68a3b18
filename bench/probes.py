"""What the platform costs while a run goes on: the peak memory of each process the platform
started and every checkpoint each job completes (sampled from a background thread), and the
CPU seconds each process spent, by kind of thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from streamlab.config import Settings
from streamlab.runtime import processes
from streamlab.runtime.flink_rest import FlinkRest

MB = 1024 * 1024


@dataclass
class MemoryPeaks:
    """Per recorded process: the peak RSS of the process itself and of its whole group (the
    TaskManager's group also holds the Python UDF workers it starts)."""

    process_mb: dict[str, float] = field(default_factory=dict)
    group_mb: dict[str, float] = field(default_factory=dict)

    def sample(self, settings: Settings) -> None:
        for proc in processes.all_recorded(settings.state):
            if not proc.alive():
                continue
            members = processes.group_members(proc)
            rss = {member.pid: _rss(member) for member in members}
            leader = rss.get(proc.pid, 0.0)
            self.process_mb[proc.name] = max(self.process_mb.get(proc.name, 0.0), leader)
            self.group_mb[proc.name] = max(self.group_mb.get(proc.name, 0.0), sum(rss.values()))

    def as_json(self) -> dict[str, dict[str, float]]:
        return {name: {"process_mb": round(self.process_mb[name], 1), "group_mb": round(self.group_mb[name], 1)}
                for name in sorted(self.process_mb)}


def _rss(proc: psutil.Process) -> float:
    try:
        return proc.memory_info().rss / MB
    except psutil.NoSuchProcess:
        return 0.0


# --8<-- [start:cpu_kinds]
# A thread's kind, by the start of its name (Linux keeps 15 characters of it). Flink's flame
# graphs sample only the tasks' threads: the JIT compilers, the collector, the broker and the
# JobManager are invisible there.
THREAD_KINDS = (("C1 CompilerThre", "jit"), ("C2 CompilerThre", "jit"), ("GC Thread", "gc"), ("G1 ", "gc"))
# --8<-- [end:cpu_kinds]


def cpu_seconds(settings: Settings) -> dict[str, dict[str, float]]:
    """CPU seconds (user + system) each recorded process has spent so far, by thread kind
    (``THREAD_KINDS``; ``work`` for the rest), its child processes not counted."""
    out: dict[str, dict[str, float]] = {}
    for proc in processes.all_recorded(settings.state):
        if not proc.alive():
            continue
        kinds = out.setdefault(proc.name, {"work": 0.0, "jit": 0.0, "gc": 0.0})
        try:
            threads = psutil.Process(proc.pid).threads()
        except psutil.NoSuchProcess:
            continue
        for thread in threads:
            kinds[_thread_kind(proc.pid, thread.id)] += thread.user_time + thread.system_time
    return out


def _thread_kind(pid: int, tid: int) -> str:
    try:
        name = Path(f"/proc/{pid}/task/{tid}/comm").read_text()
    except OSError:  # the thread ended, or no /proc: count it as work
        return "work"
    return next((kind for prefix, kind in THREAD_KINDS if name.startswith(prefix)), "work")


def cpu_spent(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Seconds per process and thread kind between two ``cpu_seconds`` readings."""
    return {name: {kind: round(seconds - before.get(name, {}).get(kind, 0.0), 1) for kind, seconds in kinds.items()}
            for name, kinds in sorted(after.items())}


@dataclass
class Checkpoints:
    """Completed checkpoints per job, by id: Flink's history keeps only the last few."""

    started_ms: int
    by_job: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)

    def sample(self, rest: FlinkRest, job_ids: dict[str, str]) -> None:
        for key, job_id in job_ids.items():
            for entry in rest.checkpoints(job_id).get("history", []):
                if entry.get("status") != "COMPLETED" or entry.get("is_savepoint"):
                    continue
                self.by_job.setdefault(key, {})[entry["id"]] = {
                    "at_s": round((entry["latest_ack_timestamp"] - self.started_ms) / 1000, 2),
                    "duration_ms": entry["end_to_end_duration"],
                    "state_bytes": entry["state_size"],
                    "checkpointed_bytes": entry.get("checkpointed_size", entry["state_size"]),
                }

    def as_json(self) -> dict[str, list[dict[str, float]]]:
        return {key: [{"id": cid, **entry} for cid, entry in sorted(entries.items())]
                for key, entries in sorted(self.by_job.items())}


@contextmanager
def sampling(settings: Settings, peaks: MemoryPeaks, checkpoints: Checkpoints | None = None,
             job_ids: dict[str, str] | None = None, every_s: float = 1.0) -> Iterator[None]:
    """Sample memory (and the given jobs' checkpoints) until the block ends, once more at its end."""
    rest = FlinkRest(settings.flink_rest_url)
    stop = threading.Event()

    def once() -> None:
        peaks.sample(settings)
        if checkpoints is not None and job_ids:
            checkpoints.sample(rest, job_ids)

    def loop() -> None:
        while not stop.wait(every_s):
            once()

    sampler = threading.Thread(target=loop, name="bench-probes", daemon=True)
    sampler.start()
    try:
        yield
    finally:
        stop.set()
        sampler.join()
        once()
