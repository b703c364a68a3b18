"""`python -m bench` / `make bench`: backlog-drain throughput of each job against the raw
consume throughput of the same topics, measured in the same run on the same machine.

For each job: a fresh platform under ``<state>/bench`` on free ports, N generated events
pre-loaded, then (1) a plain confluent-kafka consumer reads the job's input topics from the
start (the baseline), (2) the job is deployed and timed from RUNNING until its consumer group
has committed the end offsets. Committed offsets move at checkpoints, so a drain time is
rounded up to the next checkpoint (``checkpoint_interval_ms``): reported, not hidden.
"""

from __future__ import annotations

import argparse
import json
import platform as host
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from streamlab import deploy, generator, jobwatch, kafka_io, processes, producer
from streamlab import platform as platform_lib
from streamlab.config import Settings

RESULTS = Path(__file__).resolve().parent / "results"
JOBS = {"lesson14": ["clicks", "orders"], "lesson15-windows": ["clicks", "orders"]}


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


def bench_job(base: Settings, key: str, events: int, echo) -> dict[str, object]:
    state = base.state / "bench" / key
    if state.exists():
        shutil.rmtree(state)
    kafka, controller, rest, rpc = processes.free_ports(4)
    settings = Settings(state_dir=state, jars_dir=base.jars, kafka_port=kafka,
                        kafka_controller_port=controller, flink_rest_port=rest, flink_rpc_port=rpc)
    inputs = JOBS[key]
    try:
        platform_lib.up(settings, echo=lambda _: None)
        echo(f"{key}: pre-loading {events} events ...")
        producer.produce(generator.generate(generator.GeneratorSpec(seed=99, count=events)),
                         settings.bootstrap_servers, progress=False)
        records, raw_s = raw_consume_rate(settings.bootstrap_servers, inputs)
        echo(f"{key}: raw consume {records} records in {raw_s:.2f}s; deploying ...")
        deploy.deploy(settings, key)
        started = time.monotonic()
        jobwatch.wait_caught_up(settings, deploy.job_spec(key).name, inputs, timeout_s=1800)
        job_s = time.monotonic() - started
        return {
            "job": key, "input_topics": inputs, "records": records,
            "raw_consume_s": round(raw_s, 3), "raw_consume_per_s": round(records / raw_s),
            "job_drain_s": round(job_s, 3), "job_per_s": round(records / job_s),
            "ratio_job_to_raw": round((records / job_s) / (records / raw_s), 4),
            "checkpoint_interval_ms": settings.checkpoint_interval_ms,
        }
    finally:
        platform_lib.down(settings, echo=lambda _: None)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="fact events to pre-load (default 100000)")
    parser.add_argument("--job", choices=sorted(JOBS), action="append", help="only these jobs (repeatable)")
    args = parser.parse_args()
    base = Settings()
    rows = [bench_job(base, key, args.events, print) for key in (args.job or list(JOBS))]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"drain-{stamp}.json"
    out.write_text(json.dumps({"when": stamp, "machine": {"cpus": __import__("os").cpu_count(),
                                                          "python": host.python_version()},
                               "events": args.events, "results": rows}, indent=2) + "\n")
    print(f"\n{'job':18} {'records':>8} {'raw/s':>9} {'job/s':>8} {'job/raw':>8}")
    for row in rows:
        print(f"{row['job']:18} {row['records']:>8} {row['raw_consume_per_s']:>9} "
              f"{row['job_per_s']:>8} {row['ratio_job_to_raw']:>8.3f}")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
