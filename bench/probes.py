"""What the platform costs while a run goes on, sampled from a background thread: the peak
memory of each process the platform started, and every checkpoint each job completes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil

from streamlab import processes
from streamlab.config import Settings
from streamlab.flink_rest import FlinkRest

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
