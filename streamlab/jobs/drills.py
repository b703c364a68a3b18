"""Recovery drills: inject a fault while the jobs of Lessons 14-16 work through new data,
measure how long they take to recover, and prove with the oracle that nothing was lost or
written twice — the stateful jobs' state, and every job's exactly-once output.

Scenarios:

* ``taskmanager-kill`` — kill -9 the TaskManager (state and open transactions lost); the jobs
  restart from their latest checkpoint in the spare TaskManager's free slots, and the killed one
  comes back as the next spare (with one TaskManager, the jobs wait for its replacement).
* ``job-restore`` — stop the windows job with a savepoint mid-stream and start it again from
  it. (Cancelling and restoring from an *older* savepoint would emit again what was committed
  after it: exactly-once holds from the latest checkpoint or a stop-with-savepoint.)
* ``broker-restart`` — stop the Kafka brokers, start them again; sources and transactional
  sinks fail, the jobs restart from their latest checkpoint.
* ``broker-kill`` (3 brokers) — kill -9 the broker leading an output partition; the other
  replicas take over, the jobs restart from their latest checkpoint, and the broker rejoins
  once they caught up.
* ``kstreams-instance-kill`` — the other fault-tolerance model: kill -9 one of two instances of
  the windows lesson's Kafka Streams peer, each with a standby replica of the other's state;
  the group moves its tasks to the survivor, which promotes its standbys (Lesson 16's
  "changelog vs checkpoint"). The peer's topics are reconciled with the same oracle.

Each drill also measures how long after the fault every input partition moved on again
(``resumed_s``: detection, failover and restore, the part of recovery that is the engine's).

With several TaskManagers, ``taskmanager-kill`` kills the one the probe job runs on: its jobs
move to the others' free slots.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from confluent_kafka import KafkaException

from streamlab import lessons
from streamlab.config import Settings
from streamlab.data import generator, kafka_io, topics
from streamlab.data import producer as producer_lib
from streamlab.errors import UserError
from streamlab.jobs import joblock, jobwatch, lifecycle, ops, peers, rollout
from streamlab.runtime import flink_cluster, kafka_broker, kafka_streams, processes
from streamlab.runtime.flink_rest import FlinkRest
from validation.oracle import TopicCheck

PROBE_JOB = "lesson15-windows"  # reads the most (clicks): the fault hits it part-way
LEADER_KILLED_FOR = "l15-revenue-1m"  # broker-kill: the leader of its partition 0 goes
PACE_S = 20.0  # a drill's data set arrives over this long, so the fault lands while it flows
FAULT_AT = 0.5  # share of PACE_S produced before the fault: half before it, half during recovery
DATA_AFTER_FAULT_S = PACE_S * (1 - FAULT_AT)  # the floor of a drill's recovery time


@dataclass(frozen=True)
class DrillResult:
    scenario: str
    started_at: datetime
    recovery_s: float  # from the fault until every job has processed all input (the rest arrives meanwhile)
    checks: list[TopicCheck] = field(default_factory=list)
    resumed_s: float | None = None  # from the fault until the probe's every input partition moved on

    @property
    def missing(self) -> int:
        return sum(c.missing for c in self.checks)

    @property
    def unexpected(self) -> int:
        return sum(c.unexpected for c in self.checks)

    @property
    def exact(self) -> bool:
        return self.missing == 0 and self.unexpected == 0

    def passed(self, threshold_s: float) -> bool:
        return self.exact and self.recovery_s <= threshold_s

    def describe(self, threshold_s: float) -> str:
        """One line; an inexact drill also names each topic that differs, with sample rows of each side."""
        wrong = "".join(f"; {c.describe()}" for c in self.checks if not c.exact)
        resumed = f"moved on after {self.resumed_s:.1f}s, " if self.resumed_s is not None else ""
        return (f"{self.scenario}: {resumed}recovered in {self.recovery_s:.1f}s (threshold {threshold_s:.0f}s); "
                f"{sum(c.expected for c in self.checks)} output rows reconciled with the oracle: "
                f"{self.missing} missing, {self.unexpected} unexpected -> "
                + ("PASSED" if self.passed(threshold_s) else "FAILED") + wrong)


def record(settings: Settings, result: DrillResult, threshold_s: float) -> bool:
    """Record a drill in the operations catalog (``ops.drills``); it passed when exact and
    recovered within ``threshold_s``."""
    passed = result.passed(threshold_s)
    with ops.connect(settings) as con:
        con.execute("INSERT INTO ops.drills (scenario, started_at, recovery_s, threshold_s, rows_checked, missing,"
                    " unexpected, passed, resumed_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [result.scenario, result.started_at, result.recovery_s, threshold_s,
                     sum(c.expected for c in result.checks), result.missing, result.unexpected, passed,
                     result.resumed_s])
    return passed


# --8<-- [start:kill_taskmanager]
def _kill_taskmanager(settings: Settings, probe_job: str) -> None:
    """kill -9 the TaskManager the probe job runs on. With a spare, its jobs restart in the other
    TaskManager's free slots and the killed one comes back after the recovery (``inject_mid_run``);
    alone, the jobs wait for a new one."""
    rest = FlinkRest(settings.flink_rest_url)
    hosts = rest.taskmanagers_of(rest.running_job(lessons.get(probe_job).name)["jid"])
    names = [n for n in flink_cluster.taskmanagers(settings) if any(h.startswith(n + "_") for h in hosts)]
    # A TaskManager started before resource ids named their process has a random id.
    name = names[0] if names else flink_cluster.TASKMANAGER
    taskmanager = processes.running(settings.state, name)
    if taskmanager is None:
        raise UserError(f"no {name} of this platform runs (see {settings.state / 'pids'}): nothing to kill")
    processes.kill(taskmanager)
    while taskmanager.alive():
        time.sleep(0.1)
    if settings.flink_taskmanagers == 1:
        flink_cluster.restart_taskmanagers(settings)
# --8<-- [end:kill_taskmanager]


def _stop_and_restore(settings: Settings, probe_job: str) -> None:
    point = lifecycle.stop_with_savepoint(settings, probe_job)
    lifecycle.restore(settings, probe_job, point.path)


def _restart_broker(settings: Settings, probe_job: str) -> None:
    kafka_broker.stop(settings)
    time.sleep(3)
    kafka_broker.start(settings)
    # The broker answers metadata before it leads its partitions again.
    deadline = time.monotonic() + settings.startup_timeout_s
    while True:
        try:
            kafka_io.end_offsets(settings.bootstrap_servers, [t.name for t in topics.CATALOG])
            return
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _kill_leader_broker(settings: Settings, probe_job: str) -> None:
    """kill -9 the broker leading an output partition: its partitions elect new leaders among
    the other replicas, the jobs' open transactions on it fail and they restart from their
    last checkpoint. It stays down until the jobs caught up (see ``inject_mid_run``)."""
    kafka_broker.kill(settings, kafka_io.leader(settings.bootstrap_servers, LEADER_KILLED_FOR))


# --8<-- [start:kill_kstreams_instance]
def _kill_peer_instance(settings: Settings, probe_job: str) -> None:
    """kill -9 instance 0 of the peer (no clean close: its tasks' transactions stay open until
    they time out). Nothing restarts it until the drill has recovered (``inject_mid_run``): a
    member joining would start the rebalance the session timeout is there to start."""
    instance = processes.running(settings.state, kafka_streams.process_name(probe_job, 0))
    if instance is None:
        raise UserError(f"{probe_job}-0 is not running: nothing to kill")
    processes.kill(instance)
    while instance.alive():
        time.sleep(0.1)
# --8<-- [end:kill_kstreams_instance]


FAULTS: dict[str, Callable[[Settings, str], None]] = {
    "taskmanager-kill": _kill_taskmanager,
    "job-restore": _stop_and_restore,
    "broker-restart": _restart_broker,
    "broker-kill": _kill_leader_broker,
    "kstreams-instance-kill": _kill_peer_instance,
}
# The faults of a Kafka Streams peer, by the lesson whose peer they hit: its two instances
# each keep a standby replica of the other's state.
PEER_FAULTS = {"kstreams-instance-kill": "lesson15-windows"}
PEER_STANDBYS = 1
MULTI_BROKER = {"broker-kill"}  # the faults a one-broker platform cannot survive by design


def scenarios_for(settings: Settings) -> list[str]:
    """The faults this platform's shape can take."""
    return [name for name in FAULTS if settings.kafka_brokers >= 3 or name not in MULTI_BROKER]


def _require(settings: Settings, scenario: str) -> None:
    if scenario not in FAULTS:
        raise UserError(f"unknown drill '{scenario}': choose one of {', '.join(FAULTS)}")
    if scenario not in scenarios_for(settings):
        raise UserError(f"{scenario} needs 3 brokers, this platform has {settings.kafka_brokers}: "
                        "start one with `streamlab up --brokers 3` (in a state dir of its own)")


def next_data_set(settings: Settings, seed: int, count: int) -> generator.GeneratorSpec:
    """A data set starting the hour after the newest event in the topics (nothing late by design)."""
    start = kafka_io.next_start_ms(settings.bootstrap_servers)
    return generator.GeneratorSpec(seed=seed, count=count, start_ms=start, late_fraction=0.05,
                                   malformed_fraction=0.03, fraud_fraction=0.02)


class _PacedFeed(threading.Thread):
    """Produces records at a steady rate in the background. Produced all at once, a data set
    can be finished by a fast job before the fault: paced, the fault lands mid-stream on any
    machine. The idempotent producer buffers through a broker restart without duplicates."""

    def __init__(self, bootstrap_servers: str, records: list[generator.Record], seconds: float):
        super().__init__(name="drill-feed", daemon=True)
        self._bootstrap_servers = bootstrap_servers
        self._records = records
        self._rate = len(records) / seconds
        self._error: Exception | None = None

    def run(self) -> None:
        try:
            producer_lib.produce(self._records, self._bootstrap_servers, rate=self._rate, progress=False)
        except Exception as exc:  # noqa: BLE001 - handed to the drill by finish()
            self._error = exc

    def finish(self, timeout_s: float) -> None:
        self.join(timeout_s)
        if self.is_alive():
            raise UserError(f"the drill's data was still being produced after {timeout_s:.0f}s")
        if self._error is not None:
            raise self._error


@dataclass(frozen=True)
class Recovery:
    recovery_s: float  # fault until every group has processed all input again
    resumed_s: float  # fault until the probe's every input partition moved on again


def inject_mid_run(settings: Settings, scenario: str, data: generator.GeneratorSpec,
                   probe_job: str = PROBE_JOB, jobs: list[str] | None = None,
                   timeout_s: float = 600.0) -> Recovery:
    """Produce ``data`` over ``PACE_S``, inject the fault once ``probe_job`` has committed
    progress on it and ``FAULT_AT`` of the time has passed, while the rest still arrives, and
    wait until every one of ``jobs`` (default: every job with an oracle) has processed all
    input again; the recovery time has ``DATA_AFTER_FAULT_S`` as its floor. A peer's fault
    probes and waits for the peer instead (``PEER_FAULTS``)."""
    _require(settings, scenario)
    if scenario in PEER_FAULTS:
        peer = lessons.get(PEER_FAULTS[scenario]).peer
        assert peer is not None
        probe, group, inputs = peer.job, peer.job, list(peer.inputs)
        groups = {peer.job: inputs}
    else:
        lesson = lessons.get(probe_job)
        probe, group, inputs = probe_job, lesson.name, list(lesson.inputs)
        groups = lessons.input_groups(jobs or list(lessons.BY_KEY))
    records = list(generator.generate(data))
    # Heartbeats close the data set's windows; they follow after the recovery (see below).
    beats = [record for record in records if record.kind == "heartbeat"]
    before = kafka_io.committed_offsets(settings.bootstrap_servers, group, inputs)
    feed = _PacedFeed(settings.bootstrap_servers, [r for r in records if r.kind != "heartbeat"], PACE_S)
    feed.start()
    fed_from = time.monotonic()
    deadline = time.monotonic() + 120
    while kafka_io.committed_offsets(settings.bootstrap_servers, group, inputs) == before:
        if time.monotonic() > deadline:
            raise UserError(f"{group} made no progress on the drill's data in 120s")
        time.sleep(0.2)
    time.sleep(max(0.0, fed_from + FAULT_AT * PACE_S - time.monotonic()))
    at_fault = kafka_io.committed_offsets(settings.bootstrap_servers, group, inputs)
    if not feed.is_alive():
        if sum(at_fault.values()) >= sum(kafka_io.end_offsets(settings.bootstrap_servers, inputs).values()):
            raise UserError(f"{group} finished the drill's data before the fault: use more events")
    fault_at = time.monotonic()
    FAULTS[scenario](settings, probe)
    resumed_s = _moved_on(settings, group, inputs, at_fault, fault_at, timeout_s)
    feed.finish(timeout_s)
    jobwatch.wait_all_caught_up(settings, groups, timeout_s)
    recovery_s = time.monotonic() - fault_at
    kafka_broker.start(settings)  # a killed broker rejoins (nothing to do after the other faults)
    if scenario == "taskmanager-kill":  # and so does a killed TaskManager, as the spare, and
        flink_cluster.restart_taskmanagers(settings)  # takes jobs again: the next spare is warm
        lifecycle.rebalance(settings, jobs or list(lessons.BY_KEY))
    if scenario in PEER_FAULTS:  # and so does a killed instance, as a standby
        kafka_streams.start(settings, probe, 0, standby_replicas=PEER_STANDBYS)
    # Flink does not checkpoint watermarks: a partition read to its end before the fault has
    # none after the restore until a record comes. A live store keeps sending; a drill sends
    # the data set's final heartbeats after the recovery so every window can close.
    producer_lib.produce(beats, settings.bootstrap_servers, progress=False)
    jobwatch.wait_all_caught_up(settings, groups, timeout_s)
    return Recovery(round(recovery_s, 1), round(resumed_s, 1))


def _moved_on(settings: Settings, group: str, inputs: list[str], at_fault: dict[tuple[str, int], int],
              fault_at: float, timeout_s: float) -> float:
    """Seconds from the fault until ``group`` committed past where it stood at the fault on every
    input partition (or to the partition's end): the engine noticed, failed over and restored."""
    deadline = fault_at + timeout_s
    while time.monotonic() < deadline:
        try:
            now = kafka_io.committed_offsets(settings.bootstrap_servers, group, inputs)
            ends = kafka_io.end_offsets(settings.bootstrap_servers, inputs)
        except KafkaException:  # a broker fault: not answering yet
            time.sleep(0.2)
            continue
        if all(now[partition] > offset or now[partition] >= ends[partition] for partition, offset in at_fault.items()):
            return time.monotonic() - fault_at
        time.sleep(0.2)
    raise UserError(f"{group} did not move on in {timeout_s:.0f}s after the fault")


# --8<-- [start:drill_run]
def run(settings: Settings, scenario: str, count: int = 15_000, seed: int | None = None,
        jobs: list[str] | None = None) -> DrillResult:
    """The whole drill: every job with an oracle (or ``jobs``) running, new data, the fault,
    recovery, the oracle. A peer's fault runs the peer and reconciles it instead."""
    _require(settings, scenario)
    if scenario in PEER_FAULTS:
        return _run_peer(settings, scenario, count, seed)
    jobs = jobs or list(lessons.BY_KEY)
    with joblock.all_held(settings, jobs, f"drill {scenario}"):
        return _run(settings, scenario, count, seed, jobs)


def _run(settings: Settings, scenario: str, count: int, seed: int | None, jobs: list[str]) -> DrillResult:
    # A stopped job resumes from its state, as in production; changed code rolls out first,
    # except a release job_health rolled back from (rollout.plan).
    for key in rollout.plan(settings, jobs).due:
        rollout.roll_out(settings, key)
    started_at = datetime.now(timezone.utc)
    data = _data_set(settings, seed, count)
    probe = PROBE_JOB if PROBE_JOB in jobs else jobs[0]
    recovery = inject_mid_run(settings, scenario, data, probe_job=probe, jobs=jobs)
    checks: list[TopicCheck] = []
    for key in jobs:
        check = lessons.oracle(key).check
        checks += jobwatch.wait_exact(lambda: check(settings.bootstrap_servers))  # noqa: B023 - called here
    return DrillResult(scenario, started_at, recovery.recovery_s, checks, recovery.resumed_s)
# --8<-- [end:drill_run]


def _run_peer(settings: Settings, scenario: str, count: int, seed: int | None) -> DrillResult:
    """Two instances of the peer, each with a standby of the other's state, caught up with the
    topics; then new data, the fault, recovery, and the peer's topics against the oracle."""
    peer = lessons.get(PEER_FAULTS[scenario]).peer
    assert peer is not None
    kafka_streams.stop(settings, peer.job)  # whatever shape it ran in, it runs in the drill's
    peers.start(settings, peer.job, instances=2, standby_replicas=PEER_STANDBYS)
    jobwatch.wait_caught_up(settings, peer.job, list(peer.inputs), timeout_s=600)
    started_at = datetime.now(timezone.utc)
    recovery = inject_mid_run(settings, scenario, _data_set(settings, seed, count))
    checks = peers.check(settings, peer.job)
    return DrillResult(scenario, started_at, recovery.recovery_s, checks, recovery.resumed_s)


def _data_set(settings: Settings, seed: int | None, count: int) -> generator.GeneratorSpec:
    # Ids carry the seed: a seed no data set has used keeps them unique (seconds since 1970).
    return next_data_set(settings, seed if seed is not None else int(time.time()), count)
