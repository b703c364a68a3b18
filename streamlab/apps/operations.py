"""Airflow as the operating surface: the operations DAGs live after `up`, and a DAG run followed
from the terminal, for the demo."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.jobs import schedules
from streamlab.runtime import airflow_service
from streamlab.runtime.airflow_rest import AirflowRest, TaskState

Echo = Callable[[str], None]


def _unpaused_file(settings: Settings) -> Path:
    return airflow_service.home(settings) / "unpaused-by-up.txt"


def make_live(settings: Settings, echo: Echo) -> None:
    """Wait until Airflow has parsed every operations DAG, unpause each the first time (a DAG
    paused afterwards, in the UI or over REST, stays paused), and say when each runs."""
    client = AirflowRest(settings)
    try:
        deadline = time.monotonic() + settings.startup_timeout_s
        while not set(schedules.DAGS) <= set(dags := client.dags()):
            errors = client.import_errors()
            if errors:
                raise UserError("Airflow cannot import the DAGs:\n" + "\n".join(errors))
            if time.monotonic() > deadline:
                missing = ", ".join(sorted(set(schedules.DAGS) - set(dags)))
                raise UserError(f"Airflow did not list {missing} within {settings.startup_timeout_s:.0f}s "
                                "(raise STREAMLAB_STARTUP_TIMEOUT_S?)")
            time.sleep(1)
        marker = _unpaused_file(settings)
        done = set(marker.read_text().split()) if marker.exists() else set()
        for dag_id in schedules.DAGS:
            if dag_id not in done and dags[dag_id]["is_paused"]:
                client.set_paused(dag_id, False)
                dags[dag_id]["is_paused"] = False
        marker.write_text("".join(f"{dag_id}\n" for dag_id in schedules.DAGS))
        width = max(map(len, schedules.DAGS))
        for dag_id in schedules.DAGS:
            words = schedules.in_words(schedules.schedule(settings, dag_id))
            state = "PAUSED (unpause it in the UI)" if dags[dag_id]["is_paused"] else "live"
            echo(f"   {dag_id:{width}}  {words}, {state}")
    finally:
        client.close()


def run_dag(settings: Settings, dag_id: str, echo: Echo, conf: dict[str, Any] | None = None,
            results: dict[str, Callable[[Any], None]] | None = None, timeout_s: float = 1800.0) -> bool:
    """Trigger a run, print its address and each task's progress, hand what a task in
    ``results`` returned to its handler as it succeeds, and wait for the run's end: whether it
    succeeded (a failed one prints each failed task's error)."""
    results = results or {}
    client = AirflowRest(settings)
    try:
        if client.dags().get(dag_id, {}).get("is_paused"):
            raise UserError(f"the {dag_id} DAG is paused, so a run of it would wait forever: unpause it in the "
                            f"Airflow UI ({settings.airflow_url}/dags/{dag_id}) and run this again")
        run_id = client.trigger(dag_id, conf)
        echo(f"   Airflow run: {client.run_url(dag_id, run_id)}")

        def progress(task: TaskState) -> None:
            if task.state == "success" and task.task_id in results:
                results[task.task_id](client.returned(dag_id, run_id, task.task_id, task.map_index))
            elif task.state in ("running", "success", "failed", "upstream_failed"):
                echo(f"   [{dag_id}] {task.label}: {task.state}")

        state = client.follow(dag_id, run_id, progress, timeout_s)
        for line in client.failures(dag_id, run_id) if state != "success" else []:
            echo(f"   FAILED {line}")
        return state == "success"
    finally:
        client.close()
