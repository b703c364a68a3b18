"""What runs and how far it got: broker, topics with end offsets, cluster, jobs (checkpoints,
restarts, last failure), Airflow and how to log in to it; ``snapshot`` is the same as JSON."""

from __future__ import annotations

import stat
import time
from typing import Any

from streamlab import (
    airflow_service, deploy, flink_cluster, jobhealth, kafka_broker, kafka_io, ops, processes, topics, warehouse,
)
from streamlab.config import Settings
from streamlab.dashboard import service as dashboard
from streamlab.flink_rest import ACTIVE_STATES, FlinkRest


def _age(ms: int) -> str:
    return f"{max(0.0, time.time() - ms / 1000):.0f}s ago"


def _catalog_lines(settings: Settings) -> list[str]:
    """The newest savepoint per job, the last drill per scenario, the last load and validation,
    from the ops catalog (read from the published warehouse: never waits for a writer)."""
    savepoints, drills = ops.latest_savepoints(settings), ops.latest_drills(settings)
    lines = ["Savepoints  newest per job (ops.savepoints)" if savepoints else
             "Savepoints  none yet (`streamlab savepoint JOB` or the savepoint_backup DAG)"]
    for job, row in sorted(savepoints.items()):
        lines.append(f"  {job:28} {row['size_bytes']:>12,} bytes  "
                     f"{_age(int(row['taken_at'].timestamp() * 1000))}  {row['path']}")
    lines.append("Drills      last per scenario (ops.drills)" if drills else
                 "Drills      none yet (`streamlab drill SCENARIO` or the recovery_drill DAG)")
    for scenario, row in sorted(drills.items()):
        lines.append(f"  {scenario:28} {'PASSED' if row['passed'] else 'FAILED'}  recovered in "
                     f"{row['recovery_s']:.1f}s (threshold {row['threshold_s']:.0f}s), "
                     f"{row['rows_checked']:,} rows: {row['missing']} missing, {row['unexpected']} unexpected  "
                     f"{_age(int(row['started_at'].timestamp() * 1000))}")
    summary = ops.warehouse_summary(settings)
    load, check = summary.get("load"), summary.get("validation")
    lines.append(f"Warehouse   {warehouse.replica_path(settings)}" if load else
                 "Warehouse   nothing loaded yet (`streamlab load` or the load_and_validate DAG)")
    if load:
        lines.append(f"  last load #{load['load_id']} {_age(int(load['committed_at'].timestamp() * 1000))}, "
                     f"{load['records']:,} records in all")
    if check:
        verdict = "PASSED" if not check["failed"] else f"FAILED ({check['failed']} expectations)"
        lines.append(f"  last validation {verdict}, {check['expectations']} expectations, "
                     f"{_age(int(check['validated_at'].timestamp() * 1000))} (`streamlab validate`)")
    return lines


def _airflow_lines(settings: Settings) -> list[str]:
    running = airflow_service.running(settings)
    if not running and not settings.airflow:
        return ["Airflow   off (STREAMLAB_AIRFLOW=false)"]
    components = ", ".join(
        f"{component} pid {running[name].pid}" if name in running else f"{component} not running"
        for name, component in airflow_service.COMPONENTS.items()
    ) if running else "not running"
    lines = [f"Airflow   {settings.airflow_url}  {components}"]
    password = airflow_service.password(settings)
    if password is not None:
        path = airflow_service.password_file(settings)
        lines.append(f"  user {airflow_service.USER}, password {password} "
                     f"(stored in {path}, mode {stat.S_IMODE(path.stat().st_mode):04o})")
    return lines


def flink_jobs(settings: Settings) -> list[dict[str, Any]]:
    """Every job the cluster knows, with its last checkpoint, release, restarts and last failure
    (a job in a restart loop reads RUNNING most of the time: only these show it)."""
    rest = FlinkRest(settings.flink_rest_url)
    now_ms = int(time.time() * 1000)
    rows = []
    for job in rest.jobs():
        row: dict[str, Any] = {"name": job["name"], "state": job["state"], "job_id": job["jid"],
                               "last_checkpoint": None, "release": None}
        if job["state"] in ACTIVE_STATES:
            done = rest.last_completed_checkpoint(job["jid"])
            if done:
                row["last_checkpoint"] = {"id": done["id"],
                                          "age_s": round((now_ms - done["latest_ack_timestamp"]) / 1000, 1)}
            row["release"] = deploy.fingerprint(rest, job["jid"]) or None
            row.update(jobhealth.failures(rest, job["jid"]).as_dict(now_ms))
        rows.append(row)
    return rows


def snapshot(settings: Settings) -> dict[str, Any]:
    """``status --json``: what runs, each job's health, where each service answers."""
    brokers = {node: processes.running(settings.state, kafka_broker.node_name(node))
               for node in kafka_broker.nodes(settings)}
    jm = processes.running(settings.state, flink_cluster.JOBMANAGER)
    jobs: list[dict[str, Any]] | None = None
    error = None
    if jm:
        try:
            jobs = flink_jobs(settings)
        except Exception as err:  # noqa: BLE001 - status reports, it does not fail
            error = str(err)
    page = processes.running(settings.state, dashboard.NAME)
    return {
        "kafka": {"bootstrap_servers": settings.bootstrap_servers,
                  "brokers": {str(node): proc.pid if proc else None for node, proc in brokers.items()}},
        "flink": {"rest": settings.flink_rest_url, "jobmanager": jm.pid if jm else None,
                  "taskmanagers": [tm.pid if tm else None for tm in
                                   (processes.running(settings.state, name)
                                    for name in flink_cluster.taskmanagers(settings))],
                  "jobs": jobs, "error": error},
        "airflow": {"url": settings.airflow_url,
                    "running": sorted(airflow_service.running(settings)) if settings.airflow else None},
        "dashboard": {"url": settings.dashboard_url, "pid": page.pid if page else None},
    }


def _job_lines(job: dict[str, Any]) -> list[str]:
    checkpoint = (f"#{job['last_checkpoint']['id']} {job['last_checkpoint']['age_s']:.0f}s ago"
                  if job["last_checkpoint"] else "-")
    line = f"  job {job['name']:36} {job['state']:10} {job['job_id']}  last checkpoint {checkpoint}"
    if job["state"] not in ACTIVE_STATES:
        return [line]
    line += f"  release {job['release'] or '-'}  restarts {job['restarts']}"
    lines = [line + ("  RESTART LOOP" if job["restart_loop"] else "")]
    if job["last_failure"]:
        lines.append(f"      last failure {job['last_failure_age_s']:.0f}s ago: {job['last_failure']}")
    return lines


def report(settings: Settings) -> str:
    lines = []
    brokers = {node: processes.running(settings.state, kafka_broker.node_name(node))
               for node in kafka_broker.nodes(settings)}
    shown = [(f"broker {node} " if len(brokers) > 1 else "")
             + (f"running (pid {proc.pid})" if proc else "not running") for node, proc in brokers.items()]
    lines.append(f"Kafka     {settings.bootstrap_servers}  " + ", ".join(shown))
    if any(brokers.values()):
        ends = kafka_io.end_offsets(settings.bootstrap_servers, [t.name for t in topics.CATALOG])
        lines.append(f"  {'topic':24} {'partitions':>10} {'end offsets':>12}")
        for topic in topics.CATALOG:
            parts = [v for (name, _), v in ends.items() if name == topic.name]
            lines.append(f"  {topic.name:24} {len(parts):>10} {sum(parts):>12}")
    jm = processes.running(settings.state, flink_cluster.JOBMANAGER)
    tms = [processes.running(settings.state, name) for name in flink_cluster.taskmanagers(settings)]
    lines.append(f"Flink     {settings.flink_rest_url}  "
                 + (f"jobmanager pid {jm.pid}" if jm else "jobmanager not running") + ", "
                 + ", ".join(f"taskmanager pid {tm.pid}" if tm else "taskmanager not running" for tm in tms))
    if jm:
        rest = FlinkRest(settings.flink_rest_url)
        try:
            overview = rest.overview()
            lines.append(f"  taskmanagers {overview['taskmanagers']}, slots "
                         f"{overview['slots-available']}/{overview['slots-total']} free")
            for job in flink_jobs(settings):
                lines.extend(_job_lines(job))
        except Exception as err:  # noqa: BLE001 - status reports, it does not fail
            lines.append(f"  REST API not answering: {err}")
    lines.extend(_airflow_lines(settings))
    page = processes.running(settings.state, dashboard.NAME)
    lines.append(f"Dashboard {settings.dashboard_url}  " + (f"running (pid {page.pid})" if page else "not running"))
    lines.extend(_catalog_lines(settings))
    return "\n".join(lines)
