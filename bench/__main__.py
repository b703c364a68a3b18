"""`python -m bench` / `make bench`: backlog-drain throughput of each job against the raw
consume throughput of the same topics, measured in the same run on the same machine; and the
end-to-end latency of the join and alert jobs at a steady input rate below their capacity.

For each job: a fresh platform under ``<state>/bench`` on free ports, N generated events
pre-loaded, then (1) a plain confluent-kafka consumer reads the job's input topics from the
start (the baseline), (2) the job is deployed and timed from RUNNING until its consumer group
has committed the end offsets. Committed offsets move at checkpoints, so a drain time is
rounded up to the next checkpoint (``checkpoint_interval_ms``): reported, not hidden.

Latency: a fresh platform, the job running, events produced at ``--rate`` for ``--duration``
seconds; each output record's latency is the time a read_committed consumer received it less
the Kafka create time of the last input record it depends on. Exactly-once outputs become
visible at checkpoints, so the checkpoint interval is the floor.
"""

from __future__ import annotations

import argparse
import json
import platform as host
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from streamlab import deploy, generator, jobwatch, kafka_io, producer
from streamlab import platform as platform_lib
from streamlab.config import Settings

RESULTS = Path(__file__).resolve().parent / "results"
JOBS = list(deploy.JOBS)
# job: (output topic, the ids of the input records an output depends on: (topic, id))
LATENCY: dict[str, tuple[str, Callable[[dict], list[tuple[str, str]]]]] = {
    "lesson15-joins": ("l15-paid-orders",
                       lambda out: [("orders", out["order_id"]), ("payments", out["payment_id"])]),
    "lesson15-alerts": ("alerts", lambda out: [("payments", pid) for pid in out["payment_ids"]]),
}
ID_FIELD = {"orders": "order_id", "payments": "payment_id"}


def raw_consume_rate(bootstrap: str, topics: list[str]) -> tuple[int, float]:
    """Records and seconds for one consumer to read ``topics`` from the beginning to the end."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
                         "enable.auto.commit": False, "enable.partition.eof": True, "log_level": 0})
    parts = [TopicPartition(t, p, OFFSET_BEGINNING) for t in topics
             for p in kafka_io.partitions(bootstrap, t)]
    started = time.monotonic()
    consumer.assign(parts)
    done, count = 0, 0
    while done < len(parts):
        for msg in consumer.consume(10_000, timeout=1.0):
            if msg.error() is None:
                count += 1
            elif msg.error().code() == KafkaError._PARTITION_EOF:
                done += 1
    elapsed = time.monotonic() - started
    consumer.close()
    return count, elapsed


@contextmanager
def fresh_platform(base: Settings, name: str) -> Iterator[Settings]:
    state = base.state / "bench" / name
    if state.exists():
        shutil.rmtree(state)
    settings = platform_lib.isolated(state, base.jars)
    try:
        platform_lib.up(settings, echo=lambda _: None)
        yield settings
    finally:
        platform_lib.down(settings, echo=lambda _: None)


def bench_job(base: Settings, key: str, events: int, echo) -> dict[str, object]:
    spec = deploy.job_spec(key)
    inputs = list(spec.inputs)
    with fresh_platform(base, key) as settings:
        echo(f"{key}: pre-loading {events} events ...")
        producer.produce(generator.generate(generator.GeneratorSpec(seed=99, count=events)),
                         settings.bootstrap_servers, progress=False)
        records, raw_s = raw_consume_rate(settings.bootstrap_servers, inputs)
        echo(f"{key}: raw consume {records} records in {raw_s:.2f}s; deploying ...")
        deploy.deploy(settings, key)
        started = time.monotonic()
        jobwatch.wait_caught_up(settings, spec.name, inputs, timeout_s=1800)
        job_s = time.monotonic() - started
        return {
            "job": key, "input_topics": inputs, "records": records,
            "raw_consume_s": round(raw_s, 3), "raw_consume_per_s": round(records / raw_s),
            "job_drain_s": round(job_s, 3), "job_per_s": round(records / job_s),
            "ratio_job_to_raw": round((records / job_s) / (records / raw_s), 4),
            "checkpoint_interval_ms": settings.checkpoint_interval_ms,
        }


def _receive(bootstrap: str, topic: str, stop: threading.Event, received: list[tuple[float, bytes]]) -> None:
    """Record the wall-clock time each committed output record reaches a consumer."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
                         "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "log_level": 0})
    consumer.subscribe([topic])
    while not stop.is_set():
        for msg in consumer.consume(1000, timeout=0.05):
            if msg.error() is None:
                received.append((time.time() * 1000, msg.value()))
    consumer.close()


def bench_latency(base: Settings, key: str, rate: int, duration_s: int, echo) -> dict[str, object]:
    spec = deploy.job_spec(key)
    topic, depends_on = LATENCY[key]
    with fresh_platform(base, f"{key}-latency") as settings:
        deploy.deploy(settings, key)
        stop, received = threading.Event(), []
        reader = threading.Thread(target=_receive, args=(settings.bootstrap_servers, topic, stop, received))
        reader.start()
        try:
            echo(f"{key}: producing {rate} events/s for {duration_s}s ...")
            now_ms = int(time.time() * 1000)
            producer.produce(generator.generate(generator.GeneratorSpec(
                seed=98, count=rate * duration_s, start_ms=now_ms, fraud_fraction=0.05)),
                settings.bootstrap_servers, rate=rate, progress=False)
            jobwatch.wait_caught_up(settings, spec.name, list(spec.inputs), timeout_s=600)
            time.sleep(2 * settings.checkpoint_interval_ms / 1000)
        finally:
            stop.set()
            reader.join()
        created = {
            (name, json.loads(m.value)[field]): m.timestamp_ms
            for name, field in ID_FIELD.items()
            for m in kafka_io.read_all(settings.bootstrap_servers, name)
            if m.value and not m.headers and _is_json_with(m.value, field)
        }
        latencies = sorted(
            at - max(created[dep] for dep in depends_on(json.loads(value)))
            for at, value in received
        )
    return {
        "job": key, "output_topic": topic, "rate_per_s": rate, "duration_s": duration_s,
        "outputs": len(latencies),
        "p50_ms": round(_percentile(latencies, 50)), "p99_ms": round(_percentile(latencies, 99)),
        "max_ms": round(latencies[-1]) if latencies else None,
        "checkpoint_interval_ms": settings.checkpoint_interval_ms,
    }


def _is_json_with(value: bytes, field: str) -> bool:
    try:
        return field in json.loads(value)
    except ValueError:
        return False


def _percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="fact events to pre-load (default 100000)")
    parser.add_argument("--job", choices=sorted(JOBS), action="append", help="only these jobs (repeatable)")
    parser.add_argument("--rate", type=int, default=1000, help="events/s for the latency runs (default 1000)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of each latency run (default 60)")
    args = parser.parse_args()
    base = Settings()
    keys = args.job or JOBS
    rows = [bench_job(base, key, args.events, print) for key in keys]
    latency = [bench_latency(base, key, args.rate, args.duration, print) for key in keys if key in LATENCY]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{stamp}.json"
    out.write_text(json.dumps({"when": stamp, "machine": {"cpus": __import__("os").cpu_count(),
                                                          "python": host.python_version()},
                               "events": args.events, "results": rows, "latency": latency},
                              indent=2) + "\n")
    print(f"\n{'job':18} {'records':>8} {'raw/s':>9} {'job/s':>8} {'job/raw':>8}")
    for row in rows:
        print(f"{row['job']:18} {row['records']:>8} {row['raw_consume_per_s']:>9} "
              f"{row['job_per_s']:>8} {row['ratio_job_to_raw']:>8.3f}")
    if latency:
        print(f"\n{'job':18} {'output':16} {'rate/s':>7} {'outputs':>8} {'p50 ms':>7} {'p99 ms':>7}")
        for row in latency:
            print(f"{row['job']:18} {row['output_topic']:16} {row['rate_per_s']:>7} {row['outputs']:>8} "
                  f"{row['p50_ms']:>7} {row['p99_ms']:>7}")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
