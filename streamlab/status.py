"""What runs and how far it got: broker, topics with end offsets, cluster, jobs, checkpoints."""

from __future__ import annotations

import time

import duckdb

from streamlab import flink_cluster, kafka_broker, kafka_io, ops, processes, topics
from streamlab.config import Settings
from streamlab.flink_rest import FlinkRest


def _age(ms: int) -> str:
    return f"{max(0.0, time.time() - ms / 1000):.0f}s ago"


def _savepoint_lines(settings: Settings) -> list[str]:
    try:
        latest = ops.latest_savepoints(settings)
    except duckdb.Error as err:  # a loader holds the write lock: say so, do not wait
        return [f"Savepoints  catalog busy ({str(err).splitlines()[0]})"]
    if not latest:
        return ["Savepoints  none yet (`streamlab savepoint JOB` or the savepoint_backup DAG)"]
    lines = ["Savepoints  newest per job (ops.savepoints)"]
    for job, row in sorted(latest.items()):
        lines.append(f"  {job:28} {row['size_bytes']:>12,} bytes  "
                     f"{_age(int(row['taken_at'].timestamp() * 1000))}  {row['path']}")
    return lines


def report(settings: Settings) -> str:
    lines = []
    broker = processes.running(settings.state, kafka_broker.NAME)
    lines.append(f"Kafka     {settings.bootstrap_servers}  "
                 + (f"running (pid {broker.pid})" if broker else "not running"))
    if broker:
        ends = kafka_io.end_offsets(settings.bootstrap_servers, [t.name for t in topics.CATALOG])
        lines.append(f"  {'topic':24} {'partitions':>10} {'end offsets':>12}")
        for topic in topics.CATALOG:
            parts = [v for (name, _), v in ends.items() if name == topic.name]
            lines.append(f"  {topic.name:24} {len(parts):>10} {sum(parts):>12}")
    jm = processes.running(settings.state, flink_cluster.JOBMANAGER)
    tm = processes.running(settings.state, flink_cluster.TASKMANAGER)
    lines.append(f"Flink     {settings.flink_rest_url}  "
                 + (f"jobmanager pid {jm.pid}" if jm else "jobmanager not running") + ", "
                 + (f"taskmanager pid {tm.pid}" if tm else "taskmanager not running"))
    if jm:
        rest = FlinkRest(settings.flink_rest_url)
        try:
            overview = rest.overview()
            lines.append(f"  taskmanagers {overview['taskmanagers']}, slots "
                         f"{overview['slots-available']}/{overview['slots-total']} free")
            for job in rest.jobs():
                checkpoint = "-"
                if job["state"] == "RUNNING":
                    done = rest.last_completed_checkpoint(job["jid"])
                    if done:
                        checkpoint = f"#{done['id']} {_age(done['latest_ack_timestamp'])}"
                lines.append(f"  job {job['name']:28} {job['state']:10} {job['jid']}  "
                             f"last checkpoint {checkpoint}")
        except Exception as err:  # noqa: BLE001 - status reports, it does not fail
            lines.append(f"  REST API not answering: {err}")
    lines.extend(_savepoint_lines(settings))
    return "\n".join(lines)
