"""What runs and how far it got: broker, topics with end offsets, cluster, jobs (checkpoints,
restarts, last failure), Airflow and how to log in to it; ``snapshot`` is the same as JSON."""

from __future__ import annotations

import stat
import time
from typing import Any

import httpx

from streamlab import warehouse
from streamlab.apps.dashboard import service as dashboard
from streamlab.config import Settings
from streamlab.data import kafka_io, topics
from streamlab.errors import UserError
from streamlab.jobs import deploy, jobhealth, ops, schedules
from streamlab.runtime import airflow_service, flink_cluster, job_client, kafka_broker, kafka_streams, processes
from streamlab.runtime.airflow_rest import AirflowRest
from streamlab.runtime.flink_rest import ACTIVE_STATES, FlinkRest


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
        moved = f"moved on after {row['resumed_s']:.1f}s, " if row.get("resumed_s") is not None else ""
        lines.append(f"  {scenario:28} {'PASSED' if row['passed'] else 'FAILED'}  {moved}recovered in "
                     f"{row['recovery_s']:.1f}s (threshold {row['threshold_s']:.0f}s), "
                     f"{row['rows_checked']:,} rows: {row['missing']} missing, {row['unexpected']} unexpected  "
                     f"{_age(int(row['started_at'].timestamp() * 1000))}")
    health = {}
    for action in ops.health_actions(settings):  # newest first: the first per job is its latest
        health.setdefault(action.job, action)
    lines.append("Health      last finding per job (ops.health, the job_health DAG)" if health else
                 "Health      no job found unwell (the job_health DAG)")
    for job, action in sorted(health.items()):
        lines.append(f"  {job:28} {action.action.upper()}  {action.finding}: {action.detail}  "
                     f"{_age(int(action.found_at.timestamp() * 1000))}")
        if action.rolled_back_to:
            lines.append(f"  {'':28} release {action.release} -> {action.rolled_back_to}, state from {action.savepoint}")
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


def _airflow(settings: Settings) -> dict[str, Any]:
    running = airflow_service.running(settings)
    password = airflow_service.password(settings)
    path = airflow_service.password_file(settings)
    return {"enabled": settings.airflow, "url": settings.airflow_url, "dags": _dags(settings) if running else None,
            "components": {component: running[name].pid if name in running else None
                           for name, component in airflow_service.COMPONENTS.items()},
            "user": airflow_service.USER if password is not None else None, "password": password,
            "password_file": str(path) if password is not None else None,
            "password_file_mode": f"{stat.S_IMODE(path.stat().st_mode):04o}" if password is not None else None}


def _dags(settings: Settings) -> dict[str, Any] | str:
    """Each operations DAG: its schedule, whether it is paused, its newest run (or why not known)."""
    try:
        client = AirflowRest(settings, timeout_s=5.0)
    except UserError as err:
        return str(err)
    try:
        listed = client.dags()
        out: dict[str, Any] = {}
        for dag_id in schedules.DAGS:
            runs = client.runs(dag_id, limit=1) if dag_id in listed else []
            out[dag_id] = {"schedule": schedules.schedule(settings, dag_id),
                           "paused": listed[dag_id]["is_paused"] if dag_id in listed else None,
                           "last_run": ({"state": runs[0]["state"], "run_after": runs[0]["run_after"],
                                         "url": client.run_url(dag_id, runs[0]["dag_run_id"])} if runs else None)}
        return out
    except (UserError, httpx.HTTPError) as err:
        return str(err)
    finally:
        client.close()


def _topics(settings: Settings) -> dict[str, dict[str, int]]:
    ends = kafka_io.end_offsets(settings.bootstrap_servers, [t.name for t in topics.CATALOG])
    return {topic.name: {"partitions": sum(1 for name, _ in ends if name == topic.name),
                         "end_offsets": sum(v for (name, _), v in ends.items() if name == topic.name)}
            for topic in topics.CATALOG}


def flink_jobs(settings: Settings) -> list[dict[str, Any]]:
    """Every job the cluster knows, with its last checkpoint, release, restarts and last failure
    (a job in a restart loop reads RUNNING most of the time: only these show it)."""
    rest = FlinkRest(settings.flink_rest_url)
    now_ms = int(time.time() * 1000)
    return [{**jobhealth.job_row(rest, job, now_ms),
             "release": (deploy.fingerprint(rest, job["jid"]) or None) if job["state"] in ACTIVE_STATES else None}
            for job in rest.jobs()]


def snapshot(settings: Settings) -> dict[str, Any]:
    """``status --json``, and what ``report`` prints: what runs, the topics, each job's health,
    where each service answers."""
    brokers = {node: processes.running(settings.state, kafka_broker.node_name(node))
               for node in kafka_broker.nodes(settings)}
    jm = processes.running(settings.state, flink_cluster.JOBMANAGER)
    jobs: list[dict[str, Any]] | None = None
    slots: dict[str, int] | None = None
    error = None
    if jm:
        try:
            overview = FlinkRest(settings.flink_rest_url).overview()
            slots = {"taskmanagers": overview["taskmanagers"], "available": overview["slots-available"],
                     "total": overview["slots-total"]}
            jobs = flink_jobs(settings)
        except Exception as err:  # noqa: BLE001 - status reports, it does not fail
            error = str(err)
    page = processes.running(settings.state, dashboard.NAME)
    return {
        "kafka": {"bootstrap_servers": settings.bootstrap_servers,
                  "brokers": {str(node): proc.pid if proc else None for node, proc in brokers.items()},
                  "topics": _topics(settings) if any(brokers.values()) else None},
        "flink": {"rest": settings.flink_rest_url, "jobmanager": jm.pid if jm else None,
                  "taskmanagers": [tm.pid if tm else None for tm in
                                   (processes.running(settings.state, name)
                                    for name in flink_cluster.taskmanagers(settings))],
                  "job_client": client.pid if (client := processes.running(settings.state, job_client.NAME)) else None,
                  "slots": slots, "jobs": jobs, "error": error},
        "airflow": _airflow(settings),
        "dashboard": {"url": settings.dashboard_url, "pid": page.pid if page else None},
        "kafka_streams": {lesson.peer.job: [proc.pid for proc in kafka_streams.instances(settings, lesson.peer.job)]
                          for lesson in kafka_streams.peered() if lesson.peer},
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


def _airflow_lines(airflow: dict[str, Any]) -> list[str]:
    pids = airflow["components"]
    if not any(pids.values()) and not airflow["enabled"]:
        return ["Airflow   off (STREAMLAB_AIRFLOW=false)"]
    shown = ", ".join(f"{component} pid {pid}" if pid else f"{component} not running"
                      for component, pid in pids.items()) if any(pids.values()) else "not running"
    lines = [f"Airflow   {airflow['url']}  {shown}"]
    if airflow["password"] is not None:
        lines.append(f"  user {airflow['user']}, password {airflow['password']} "
                     f"(stored in {airflow['password_file']}, mode {airflow['password_file_mode']})")
    dags = airflow.get("dags")
    if isinstance(dags, str):
        lines.append(f"  DAGs not known: {dags}")
    for dag_id, dag in (dags or {}).items() if isinstance(dags, dict) else ():
        run = dag["last_run"]
        last = f"last run {run['state']} ({run['run_after'][:19]}Z) {run['url']}" if run else "no run yet"
        paused = "PAUSED" if dag["paused"] else "live" if dag["paused"] is not None else "not parsed yet"
        lines.append(f"  dag {dag_id:22} {schedules.in_words(dag['schedule'])}, {paused}; {last}")
    return lines


def render(shown: dict[str, Any]) -> list[str]:
    """The services part of ``report``: ``snapshot`` as lines."""
    kafka, flink, page = shown["kafka"], shown["flink"], shown["dashboard"]
    brokers = kafka["brokers"]
    lines = [f"Kafka     {kafka['bootstrap_servers']}  " + ", ".join(
        (f"broker {node} " if len(brokers) > 1 else "") + (f"running (pid {pid})" if pid else "not running")
        for node, pid in brokers.items())]
    if kafka["topics"] is not None:
        lines.append(f"  {'topic':24} {'partitions':>10} {'end offsets':>12}")
        lines.extend(f"  {name:24} {topic['partitions']:>10} {topic['end_offsets']:>12}"
                     for name, topic in kafka["topics"].items())
    lines.append(f"Flink     {flink['rest']}  "
                 + (f"jobmanager pid {flink['jobmanager']}" if flink["jobmanager"] else "jobmanager not running")
                 + ", " + ", ".join(f"taskmanager pid {pid}" if pid else "taskmanager not running"
                                    for pid in flink["taskmanagers"])
                 + (f", job client pid {flink['job_client']}" if flink["job_client"] else
                    ", job client not running (the next submission starts it)"))
    if flink["error"]:
        lines.append(f"  REST API not answering: {flink['error']}")
    if flink["slots"]:
        lines.append(f"  taskmanagers {flink['slots']['taskmanagers']}, slots "
                     f"{flink['slots']['available']}/{flink['slots']['total']} free")
    for job in flink["jobs"] or []:
        lines.extend(_job_lines(job))
    lines.extend(_airflow_lines(shown["airflow"]))
    lines.append(f"Dashboard {page['url']}  " + (f"running (pid {page['pid']})" if page["pid"] else "not running"))
    peers = ", ".join(f"{job} ({len(pids)} instance{'s' if len(pids) > 1 else ''}, pid {', '.join(map(str, pids))})"
                      for job, pids in shown["kafka_streams"].items() if pids)
    lines.append(f"Kafka Streams peers  {peers or 'none running (`streamlab peer start JOB`)'}")
    return lines


def report(settings: Settings) -> str:
    return "\n".join([*render(snapshot(settings)), *_catalog_lines(settings)])
