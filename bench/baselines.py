"""Raw Kafka on the same broker in the same run: the yardstick every job figure is divided by.

Two clients measure it: confluent-kafka (the library the generator and the checks use) and
Kafka's own perf tools from the broker's jars (``ProducerPerformance``, ``ConsumerPerformance``),
so a slow Python client cannot flatter the jobs' ratios.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import asdict, dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from streamlab.config import Settings
from streamlab.data import kafka_io
from streamlab.errors import UserError
from streamlab.runtime import jars

PERF_TOPIC = "bench-perf"  # the perf producer's own topic: random bytes must not reach the jobs


@dataclass(frozen=True)
class Rate:
    client: str
    what: str
    records: int
    seconds: float
    percentiles_ms: dict[str, float] | None = None  # the perf producer's send latency

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds else float("nan")

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "seconds": round(self.seconds, 3), "per_s": round(self.per_s)}


def consume(bootstrap: str, topics: list[str]) -> Rate:
    """One confluent-kafka consumer reads ``topics`` from the beginning to their end, timed from
    its first record: connecting and the first fetch take ~0.5 s here whatever the size, which
    would otherwise dominate a small backlog and flatter every ratio against it."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
                         "enable.auto.commit": False, "enable.partition.eof": True, "log_level": 0,
                         "fetch.wait.max.ms": 10})  # the end of a partition shows at once, not after 0.5 s
    parts = [TopicPartition(t, p, OFFSET_BEGINNING) for t in topics for p in kafka_io.partitions(bootstrap, t)]
    consumer.assign(parts)
    done, count, first = 0, 0, None
    while done < len(parts):
        for msg in consumer.consume(10_000, timeout=0.05):  # a call waits its timeout out for a full batch
            if msg.error() is None:
                count += 1
                first = first or time.monotonic()
            elif msg.error().code() == KafkaError._PARTITION_EOF:
                done += 1
    elapsed = time.monotonic() - first if first else float("nan")
    consumer.close()
    return Rate("confluent-kafka", f"consume {'+'.join(topics)}", count, elapsed)


def _perf_tool(settings: Settings, main: str, *args: str) -> str:
    argv = [jars.require_java(), "-Xmx512m", "-cp", jars.kafka_classpath(settings.jars),
            f"org.apache.kafka.tools.{main}", *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise UserError(f"Kafka's {main} failed: {(result.stderr or result.stdout).strip().splitlines()[-1:]}")
    return result.stdout


def parse_producer_performance(output: str) -> tuple[int, float, dict[str, float]]:
    """Records, records/s and send-latency percentiles from ProducerPerformance's summary line."""
    summary = [line for line in output.splitlines() if "records sent" in line][-1]
    records = int(re.search(r"(\d+) records sent", summary).group(1))
    per_s = float(re.search(r"([\d.]+) records/sec", summary).group(1))
    percentiles = {f"p{name}": float(ms) for ms, name in re.findall(r"(\d+) ms ([\d.]+)th", summary)}
    return records, per_s, percentiles


def parse_consumer_performance(output: str) -> tuple[int, float]:
    """Records and records/s from ConsumerPerformance's CSV header and row: the fetch rate, without
    the group join that the other consumers (which assign partitions) do not wait for."""
    lines = [line for line in output.splitlines() if line.count(",") >= 5]
    header = [name.strip() for name in lines[0].split(",")]
    row = dict(zip(header, (value.strip() for value in lines[1].split(","))))
    return int(row["data.consumed.in.nMsg"]), float(row["fetch.nMsg.sec"])


def perf_produce(settings: Settings, records: int, record_size: int) -> Rate:
    """Kafka's ProducerPerformance, unthrottled, acks=all like the generator, into ``PERF_TOPIC``."""
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    if PERF_TOPIC not in admin.list_topics(timeout=10).topics:
        admin.create_topics([NewTopic(PERF_TOPIC, 3, settings.replication_factor)])[PERF_TOPIC].result()
    out = _perf_tool(settings, "ProducerPerformance", "--topic", PERF_TOPIC, "--num-records", str(records),
                     "--record-size", str(record_size), "--throughput", "-1", "--producer-props",
                     f"bootstrap.servers={settings.bootstrap_servers}", "acks=all", "linger.ms=20",
                     "compression.type=lz4")
    count, per_s, percentiles = parse_producer_performance(out)
    return Rate("kafka-perf", f"produce {PERF_TOPIC} ({record_size} B)", count, count / per_s, percentiles)


def perf_consume(settings: Settings, topic: str, records: int) -> Rate:
    """Kafka's ConsumerPerformance reading ``records`` of ``topic`` from its beginning."""
    out = _perf_tool(settings, "ConsumerPerformance", "--bootstrap-server", settings.bootstrap_servers,
                     "--topic", topic, "--messages", str(records), "--timeout", "60000")
    count, per_s = parse_consumer_performance(out)
    return Rate("kafka-perf", f"consume {topic}", count, count / per_s if per_s else float("nan"))
