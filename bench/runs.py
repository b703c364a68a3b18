"""The measured runs: all jobs draining one backlog together, each job draining it alone, and
end-to-end latency at a steady input rate.

A drain ends when the job's consumer group has committed the end of every input partition.
Flink commits offsets at checkpoints, so a drain is rounded up to the next checkpoint
(``checkpoint_interval_ms``): reported, not hidden.
"""

from __future__ import annotations

import json
import math
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from bench import baselines, probes
from streamlab import lessons
from streamlab.apps import platform as platform_lib
from streamlab.config import Settings
from streamlab.data import generator, kafka_io, producer
from streamlab.data.generator import Record
from streamlab.jobs import deploy, drills, jobwatch, lifecycle, peers
from streamlab.runtime import kafka_streams
from streamlab.runtime.flink_rest import FlinkRest

Echo = Callable[[str], None]

ID_FIELD = {"clicks": "event_id", "orders": "order_id", "payments": "payment_id"}


@dataclass(frozen=True)
class Backlog:
    """The data set of one scale, and what producing it cost (the raw produce baseline)."""

    records: list[Record]
    produced: dict[str, int]  # records per topic, heartbeats counted per partition
    produce: baselines.Rate


T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """``work()``'s result and its wall time in seconds."""
    started = time.monotonic()
    return work(), time.monotonic() - started


@contextmanager
def fresh_platform(base: Settings, name: str, brokers: int = 1, taskmanagers: int = 2) -> Iterator[Settings]:
    """A platform of its own under ``<state>/bench/<name>`` on free ports, emptied first, stopped after."""
    state = base.state / "bench" / name
    if state.exists():
        shutil.rmtree(state)
    settings = platform_lib.isolated(state, base.jars, brokers=brokers, taskmanagers=taskmanagers)
    try:
        platform_lib.up(settings, echo=lambda _: None)
        yield settings
    finally:
        platform_lib.down(settings, echo=lambda _: None)


def _rest(settings: Settings) -> FlinkRest:
    return FlinkRest(settings.flink_rest_url)


def all_jobs_drain(settings: Settings, keys: list[str], spec: generator.GeneratorSpec, echo: Echo,
                   peaks: probes.MemoryPeaks) -> tuple[Backlog, dict[str, object]]:
    """Every job drains the same backlog at once, timed from the moment the backlog appears.

    The backlog is produced in one open Kafka transaction before the jobs are deployed; they
    read committed data only, so they see nothing until it commits, all at the same instant.
    Deploying seven jobs one by one would otherwise give the first a head start of minutes.
    """
    records = list(generator.generate(spec))
    # --8<-- [start:backlog_release]
    txn = producer.make_producer(settings.bootstrap_servers, **{
        "transactional.id": f"bench-backlog-{time.time_ns()}", "transaction.timeout.ms": 900_000})
    txn.init_transactions()
    txn.begin_transaction()
    echo(f"   producing {len(records)} records in one transaction ...")
    started = time.monotonic()
    produced = producer.send(txn, records, progress=False)
    produce = baselines.Rate("confluent-kafka", "produce the data set (acks=all, transactional)",
                             len(records), time.monotonic() - started)
    echo(f"   deploying {len(keys)} jobs, {deploy.SUBMITS_AT_ONCE} at a time ...")
    submitted = deploy.for_each_job(keys, lambda key: timed(lambda: deploy.deploy(settings, key)))
    job_ids = {key: job_id for key, (job_id, _) in submitted.items()}
    checkpoints = probes.Checkpoints(started_ms=int(time.time() * 1000))
    with probes.sampling(settings, peaks, checkpoints, job_ids):
        cpu_before = probes.cpu_seconds(settings)
        txn.commit_transaction()
        started = time.monotonic()
        # The commit marker is each partition's last offset, and a source commits the offset after
        # its last record: the heartbeats again, outside the transaction, give the end a record.
        producer.produce([r for r in records if r.kind == "heartbeat"], settings.bootstrap_servers, progress=False)
        # --8<-- [end:backlog_release]
        echo(f"   {len(keys)} jobs draining {len(records)} records ...")
        caught_up = jobwatch.wait_all_caught_up(settings, lessons.input_groups(keys), timeout_s=3600)
        drain_s = time.monotonic() - started
        cpu = probes.cpu_spent(cpu_before, probes.cpu_seconds(settings))
    inputs = sorted({topic for key in keys for topic in lessons.get(key).inputs})
    input_records = sum(produced.get(topic, 0) for topic in inputs)
    return Backlog(records, dict(produced), produce), {
        "jobs": keys, "records": len(records), "input_records": input_records,
        "drain_s": round(drain_s, 3), "records_per_s": round(len(records) / drain_s),
        "input_records_per_s": round(input_records / drain_s),
        "caught_up_s": {key: round(caught_up[lessons.get(key).name] - started, 1) for key in keys},
        # Each job's deploy, submission to all its tasks running, as a data engineer waits for it.
        "submission_s": {key: round(seconds, 1) for key, (_, seconds) in submitted.items()},
        "cpu_s": cpu,
        "checkpoints": checkpoints.as_json(),
    }


def cancel_all(settings: Settings, keys: list[str]) -> None:
    for key in keys:
        if _rest(settings).running_job(lessons.get(key).name) is not None:
            lifecycle.cancel(settings, key)


def top_up(settings: Settings, min_records: int, seed: int, echo: Echo) -> dict[str, int]:
    """More of the topics that hold fewer than ``min_records`` records, from a data set that
    continues in event time: a job alone must drain long enough to be timed, and the orders
    of a 16x backlog (about 9,000) take a fast job well under a checkpoint interval.

    Only the short fact topics and the reference data grow, so a jobs-alone run of a click job
    is not made to read a million clicks it does not need. Returns the records added per topic.
    """
    bootstrap = settings.bootstrap_servers
    # The generator fills the fact topics at very different rates (about 88% clicks, 6% orders).
    have = {topic: sum(kafka_io.end_offsets(bootstrap, [topic]).values()) for topic in sorted(generator.FACT_TOPICS)}
    short = {topic for topic, count in have.items() if count < min_records}
    if not short:
        return {}
    spec = generator.GeneratorSpec(seed=seed, count=10**9, heartbeat=False,
                                   start_ms=kafka_io.next_start_ms(bootstrap))
    added: dict[str, int] = {}
    records = []
    for record in generator.generate(spec):
        if record.topic in short or record.topic not in generator.FACT_TOPICS:  # or reference data
            records.append(record)
            added[record.topic] = added.get(record.topic, 0) + 1
        if all(have[topic] + added.get(topic, 0) >= min_records for topic in short):
            break
    echo(f"   topping up {', '.join(sorted(short))} to {min_records:,} records ({len(records):,} records) ...")
    producer.produce(records, bootstrap, progress=False)
    return added


def drain_rate(progress: list[tuple[float, int]], records: int, started: float,
               drain_s: float) -> tuple[float, float]:
    """(records/s, start-up s) of a drain from its offset commits, ``progress`` being (monotonic
    time, input records committed) at each change and ``started`` when the deploy began.

    The rate is taken between the first and the last commit, so start-up does not dilute it;
    commits come with checkpoints, so the end may be up to one interval late (the rate errs
    low). That window must hold at least half of the input: when the first commit comes later
    (a checkpoint held up at the start), a few records over a moment would read as a huge
    rate, and the rate from deploy is taken instead.
    """
    if not progress:
        return records / drain_s, drain_s
    (first_at, first_done), (last_at, last_done) = progress[0], progress[-1]
    if first_done <= records / 2 and last_at > first_at:
        return (last_done - first_done) / (last_at - first_at), first_at - started
    return records / drain_s, first_at - started


def one_job_drain(settings: Settings, key: str, echo: Echo,
                  options: dict[str, str] | None = None) -> dict[str, object]:
    """The job alone, from the beginning of its inputs (its group deleted), with empty state.

    Its rate is ``drain_rate``'s: between its first and last offset commit, the start-up (the
    client building the plan, tasks deploying, the first checkpoint) reported apart.
    """
    spec = lessons.get(key)
    inputs = list(spec.inputs)
    # A job still running (the latency runs leave every job live) would be found by deploy and
    # kept: it would "drain" from where it was, near the end, at an impossible rate.
    cancel_all(settings, [key])
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})  # alive until its future is done
    admin.delete_consumer_groups([spec.name], request_timeout=30)[spec.name].result()
    peaks = probes.MemoryPeaks()
    raw = baselines.consume(settings.bootstrap_servers, inputs)
    echo(f"   {key}: raw consume {raw.records} records in {raw.seconds:.2f}s; deploying alone ...")
    started = time.monotonic()
    job_id = deploy.deploy(settings, key, options=options)
    checkpoints = probes.Checkpoints(started_ms=int(time.time() * 1000))
    with probes.sampling(settings, peaks, checkpoints, {key: job_id}):
        drained = _drain(settings, spec.name, inputs, raw.records, started)
    lifecycle.cancel(settings, key)
    return {"job": key, "input_topics": inputs, "raw_consume_per_s": round(raw.per_s), **drained,
            "checkpoints": checkpoints.as_json().get(key, []), "memory": peaks.as_json()}


def _drain(settings: Settings, group: str, inputs: list[str], records: int, started: float) -> dict[str, object]:
    """Wait until ``group`` has committed the end of ``inputs`` (``records`` records), begun at
    ``started``; its rate by ``drain_rate``."""
    progress: list[tuple[float, int]] = []  # (when, input records committed) at each change

    def note(done: int) -> None:
        if done and (not progress or done != progress[-1][1]):
            progress.append((time.monotonic(), done))

    jobwatch.wait_caught_up(settings, group, inputs, timeout_s=3600, progress=note, poll_s=0.2)
    drain_s = time.monotonic() - started
    steady, startup_s = drain_rate(progress, records, started, drain_s)
    return {"records": records, "drain_s": round(drain_s, 3), "startup_s": round(startup_s, 3),
            "records_per_s": round(steady), "from_deploy_records_per_s": round(records / drain_s)}


def peer_drain(settings: Settings, key: str, echo: Echo) -> dict[str, object]:
    """The lesson's Kafka Streams peer alone, reset, from the beginning of the backlog its PyFlink
    job has just drained alone: the same records in the same run. Its rate is ``drain_rate``'s, as
    the job's; memory is its peak while it drains (the job's is the TaskManager's, with its
    Python workers). A global table's topic is read apart from the group, so not timed."""
    peer = lessons.get(key).peer
    assert peer is not None
    inputs = list(peer.inputs)
    raw = baselines.consume(settings.bootstrap_servers, inputs)
    echo(f"   {peer.job}: raw consume {raw.records} records in {raw.seconds:.2f}s; starting alone ...")
    peers.reset(settings, peer.job)
    peaks = probes.MemoryPeaks()
    started = time.monotonic()
    peers.start(settings, peer.job)
    with probes.sampling(settings, peaks):
        drained = _drain(settings, peer.job, inputs, raw.records, started)
    kafka_streams.stop(settings, peer.job)
    return {"job": key, "peer": peer.job, "input_topics": inputs, "raw_consume_per_s": round(raw.per_s), **drained,
            "memory": peaks.as_json()}


def peer_latency(settings: Settings, key: str, rate: int, duration_s: int, seed: int, echo: Echo) -> dict:
    """The latency of the lesson's latency output, written by its peer alone and then by its
    PyFlink job alone, each fed the same rate of live input (every other job cancelled); each
    first catches up on what came since it last ran."""
    lesson = lessons.get(key)
    assert lesson.peer is not None and lesson.latency is not None
    cancel_all(settings, list(lessons.BY_KEY))
    echo(f"   {lesson.peer.job}: latency alone at {rate} events/s")
    peers.start(settings, lesson.peer.job)
    jobwatch.wait_caught_up(settings, lesson.peer.job, list(lesson.peer.inputs), timeout_s=900)
    peer_row = latency(settings, [], rate, duration_s, seed, echo, peer_lessons=[key])[0]
    kafka_streams.stop(settings, lesson.peer.job)
    echo(f"   {key}: latency alone at {rate} events/s")
    deploy.deploy(settings, key)
    jobwatch.wait_caught_up(settings, lesson.name, list(lesson.inputs), timeout_s=900)
    job_row = latency(settings, [key], rate, duration_s, seed + 1, echo)[0]
    lifecycle.cancel(settings, key)
    return {"job": key, "peer": lesson.peer.job, "rate_per_s": rate, "duration_s": duration_s,
            "peer_latency": peer_row, "job_latency": job_row}


def recovery(settings: Settings, keys: list[str], count: int, seed: int, echo: Echo) -> list[float]:
    """Lesson 16's TaskManager drill, ``count`` times with every job running: the seconds from
    ``kill -9`` until every job has processed all input again (the drill's data keeps arriving
    for ``drills.DATA_AFTER_FAULT_S`` after the fault, so that is the floor). Exactness after a fault is the
    suite's and the demo's to prove: here the topics already hold each job's output twice
    (all jobs together, then each alone), so the oracles are not asked."""
    deploy.deploy_all(settings, keys)  # the sweep leaves its job stopped
    times = []
    for i in range(count):
        data = drills.next_data_set(settings, seed + i, DRILL_EVENTS)
        times.append(drills.inject_mid_run(settings, "taskmanager-kill", data, jobs=keys).recovery_s)
        echo(f"   drill {i + 1}/{count}: recovered in {times[-1]} s")
    return times


DRILL_EVENTS = 12_000  # as in `make demo`


def _receive(bootstrap: str, topics: list[str], stop: threading.Event,
             received: list[tuple[str, float, bytes]], isolation: str) -> None:
    """Every record appended to ``topics`` from now on (``isolation``: committed ones only, or
    also those of open transactions), with the wall-clock time it reached a consumer."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
                         "isolation.level": isolation, "enable.auto.commit": False, "log_level": 0})
    ends = kafka_io.end_offsets(bootstrap, topics)
    consumer.assign([TopicPartition(topic, partition, offset) for (topic, partition), offset in ends.items()])
    while not stop.is_set():
        for msg in consumer.consume(1000, timeout=0.05):
            if msg.error() is None:
                received.append((msg.topic(), time.time() * 1000, msg.value()))
    consumer.close()


ISOLATIONS = ("read_committed", "read_uncommitted")


def latency(settings: Settings, keys: list[str], rate: int, duration_s: int, seed: int, echo: Echo,
            uncommitted: bool = False, interval_ms: int | None = None, peer_lessons: list[str] = ()) -> list[dict]:
    """Produce live events at ``rate`` for ``duration_s`` with every job running; per output,
    the time from the Kafka create time of the last input a record depends on until a
    read_committed consumer has it. Exactly-once outputs appear at checkpoints, so a record
    waits up to one checkpoint interval (half of one on average) on top of its processing.
    With ``uncommitted``, a read_uncommitted consumer measures too: what a reader that
    accepts at-least-once (records of transactions that may yet abort) would see. ``peer_lessons``:
    lessons whose Kafka Streams peer is timed too, on its topic for the same output."""
    outputs = {}  # output topic: (who wrote it, how its records map to the inputs; see Lesson.latency)
    groups = lessons.input_groups(keys)
    for key in keys:
        if lessons.get(key).latency:
            outputs[lessons.get(key).latency.output] = (key, lessons.get(key).latency)
    for key in peer_lessons:
        lesson = lessons.get(key)
        assert lesson.peer is not None and lesson.latency is not None
        outputs[lesson.peer.topic(lesson.latency.output)] = (lesson.peer.job, lesson.latency)
        groups[lesson.peer.job] = list(lesson.peer.inputs)
    stop = threading.Event()
    received: dict[str, list[tuple[str, float, bytes]]] = {}
    readers = []
    for isolation in ISOLATIONS[:2 if uncommitted else 1]:
        received[isolation] = []
        readers.append(threading.Thread(target=_receive, args=(
            settings.bootstrap_servers, list(outputs), stop, received[isolation], isolation)))
    for reader in readers:
        reader.start()
    try:
        echo(f"   producing {rate} events/s for {duration_s}s ...")
        # Event time carries on after the data already there: earlier than the watermark, the
        # joins and alerts would drop every event as late. Latency is measured in wall-clock time.
        spec = generator.GeneratorSpec(seed=seed, count=rate * duration_s, fraud_fraction=0.05,
                                       start_ms=kafka_io.next_start_ms(settings.bootstrap_servers))
        producer.produce(generator.generate(spec), settings.bootstrap_servers, rate=rate, progress=False)
        jobwatch.wait_all_caught_up(settings, groups, timeout_s=900)
        time.sleep(2 * (interval_ms or settings.checkpoint_interval_ms) / 1000)  # the last commits
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    created = _create_times(settings.bootstrap_servers, seed)
    rows = []
    for isolation, records in received.items():
        for topic, (key, probe) in outputs.items():
            samples = sorted(at - max(created[dep] for dep in probe.inputs(json.loads(value)))
                             for out_topic, at, value in records if out_topic == topic)
            row = {"job": key, "output_topic": topic, "rate_per_s": rate, "duration_s": duration_s,
                   "outputs": len(samples), **percentiles(samples)}
            rows.append(row if isolation == "read_committed" else {**row, "isolation": isolation})
    return rows


# The checkpoint intervals of the sweep: exactly-once latency against throughput.
SWEEP_INTERVALS_MS = (200, 500, 1000, 2000, 5000)
SWEEP_JOB = "lesson14-stateless"  # stateless, with a per-record latency output (l14-clicks)


def checkpoint_sweep(settings: Settings, rate: int, duration_s: int, seed: int, echo: Echo) -> list[dict]:
    """``SWEEP_JOB`` alone with each checkpoint interval: its drain rate of the topped-up topics,
    and its output latency at ``rate`` read committed (exactly-once) and uncommitted."""
    points = []
    for i, interval in enumerate(SWEEP_INTERVALS_MS):
        options = {"execution.checkpointing.interval": f"{interval}ms"}
        echo(f"   checkpoints every {interval} ms: {SWEEP_JOB} drains alone ...")
        drained = one_job_drain(settings, SWEEP_JOB, echo, options=options)
        deploy.deploy(settings, SWEEP_JOB, options=options)  # from the end: it starts live
        rows = latency(settings, [SWEEP_JOB], rate, duration_s, seed + i, echo, uncommitted=True,
                       interval_ms=interval)
        lifecycle.cancel(settings, SWEEP_JOB)
        points.append({"interval_ms": interval, "records_per_s": drained["records_per_s"],
                       "raw_consume_per_s": drained["raw_consume_per_s"],
                       "latency": {row.get("isolation", "read_committed"): percentiles_of(row) for row in rows}})
    return points


def percentiles_of(row: dict) -> dict[str, float | None]:
    return {field: row[field] for field in ("p50_ms", "p99_ms", "p999_ms", "max_ms")}


def _create_times(bootstrap: str, seed: int) -> dict[tuple[str, str], int]:
    """Kafka create time of every input record of one data set: its ids read ``<kind>-<seed>-…``."""
    marker = f"-{seed}-".encode()
    created = {}
    for topic, field in ID_FIELD.items():
        for message in kafka_io.read_all(bootstrap, topic):
            if message.headers or not message.value or marker not in message.value:
                continue
            try:
                record_id = json.loads(message.value).get(field)
            except ValueError:
                continue
            if isinstance(record_id, str) and record_id.split("-")[1:2] == [str(seed)]:
                created[(topic, record_id)] = message.timestamp_ms
    return created


def percentiles(samples: list[float]) -> dict[str, float | None]:
    """p50/p99/p999 by the nearest-rank method (no interpolation past the data), and the max."""
    if not samples:
        return {"p50_ms": None, "p99_ms": None, "p999_ms": None, "max_ms": None}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)]

    return {"p50_ms": round(rank(50)), "p99_ms": round(rank(99)), "p999_ms": round(rank(99.9)),
            "max_ms": round(ordered[-1])}
