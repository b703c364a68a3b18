"""The embedded Airflow's REST API (``/api/v2``), as `up`, the demo and `status` use it: log in
with the generated password, list and unpause DAGs, trigger a run and follow it task by task,
read what its tasks returned, and say where to watch it in the UI."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import airflow_service

FINISHED = {"success", "failed"}  # a DAG run's final states
EXCEPTION = re.compile(r"^[\w.]*(Error|Exception|Failed|RolledBack)\w*: ")  # a log line naming one


@dataclass(frozen=True)
class TaskState:
    task_id: str
    map_index: int
    state: str | None
    rendered: str  # what the task works on: a mapped task's argument, as the grid shows it

    @property
    def label(self) -> str:
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.rendered or self.map_index}]"


class AirflowRest:
    def __init__(self, settings: Settings, timeout_s: float = 30.0) -> None:
        self.base = settings.airflow_url
        password = airflow_service.password(settings)
        if password is None:
            raise UserError(f"no Airflow password under {airflow_service.home(settings)}: run `streamlab up` first")
        try:
            login = httpx.post(f"{self.base}/auth/token", json={"username": airflow_service.USER,
                                                                "password": password}, timeout=timeout_s)
        except httpx.HTTPError:
            raise UserError(f"no Airflow answers at {self.base}: run `streamlab up` first") from None
        if not login.is_success:
            raise UserError(f"Airflow at {self.base} refused the login ({login.status_code})")
        self.token = login.json()["access_token"]  # also what the UI reads from its ``_token`` cookie
        self.http = httpx.Client(base_url=f"{self.base}/api/v2", timeout=timeout_s,
                                 headers={"Authorization": f"Bearer {self.token}"})

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if not response.is_success:
            raise UserError(f"Airflow {method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.headers.get("content-type", "").startswith("application/json") \
            else response.text

    def dags(self) -> dict[str, dict[str, Any]]:
        return {dag["dag_id"]: dag for dag in self._call("GET", "/dags", params={"limit": 100})["dags"]}

    def import_errors(self) -> list[str]:
        found = self._call("GET", "/importErrors", params={"limit": 100})["import_errors"]
        return [f"{error['filename']}: {error['stack_trace'].strip().splitlines()[-1]}" for error in found]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, patience_s: float = 30.0) -> str:
        """A manual run now; its run id. A DAG the API does not find is asked for again for
        ``patience_s``: the API answered 404 for a DAG of the folder while the dag-processor
        wrote it again (a fresh clone's demo, load_and_validate, whose parse takes 20 s)."""
        deadline = time.monotonic() + patience_s
        while True:
            response = self.http.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
            if response.status_code != 404 or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        if not response.is_success:
            raise UserError(f"Airflow POST /dags/{dag_id}/dagRuns: {response.status_code} {response.text[:300]}")
        return response.json()["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id)}")

    def runs(self, dag_id: str, limit: int = 25) -> list[dict[str, Any]]:
        """Newest first."""
        return self._call("GET", f"/dags/{dag_id}/dagRuns",
                          params={"limit": limit, "order_by": "-run_after"})["dag_runs"]

    def tasks(self, dag_id: str, run_id: str) -> list[TaskState]:
        found = self._call("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances", params={"limit": 500})
        return [TaskState(ti["task_id"], ti["map_index"], ti["state"], ti.get("rendered_map_index") or "")
                for ti in found["task_instances"]]

    def returned(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        """What a task returned (its ``return_value`` XCom)."""
        entry = self._call("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances/{task_id}"
                                  "/xcomEntries/return_value", params={"map_index": map_index, "deserialize": True})
        return entry["value"]

    def log(self, dag_id: str, run_id: str, task: TaskState, attempt: int = 1) -> list[str]:
        """The task's log as lines: each event, and each exception as ``Type: value``."""
        found = self._call("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances/{task.task_id}/logs/{attempt}",
                           params={"map_index": task.map_index})
        lines = []
        for entry in found["content"]:
            if not isinstance(entry, dict):
                lines.append(str(entry))
                continue
            lines.append(str(entry.get("event", "")))
            lines += [f"{error['exc_type']}: {error['exc_value']}" for error in entry.get("error_detail") or []]
        return lines

    def follow(self, dag_id: str, run_id: str, on_change: Callable[[TaskState], None] = lambda _: None,
               timeout_s: float = 1800.0) -> str:
        """Wait for the run to finish, calling ``on_change`` with each task whose state changed;
        the run's final state."""
        deadline = time.monotonic() + timeout_s
        seen: dict[tuple[str, int], str | None] = {}
        while True:
            for task in self.tasks(dag_id, run_id):
                if seen.get((task.task_id, task.map_index), "") != task.state:
                    seen[(task.task_id, task.map_index)] = task.state
                    on_change(task)
            state = self.run(dag_id, run_id)["state"]
            if state in FINISHED:
                return state
            if time.monotonic() > deadline:
                raise UserError(f"{dag_id} run {run_id} did not finish within {timeout_s:.0f}s: "
                                f"see {self.run_url(dag_id, run_id)}")
            time.sleep(1.0)

    def run_url(self, dag_id: str, run_id: str) -> str:
        """The run in Airflow's UI (its grid, graph and task logs)."""
        return f"{self.base}/dags/{dag_id}/runs/{quote(run_id)}"

    def failures(self, dag_id: str, run_id: str) -> list[str]:
        """Each failed task with the exception that failed it."""
        out = []
        for task in self.tasks(dag_id, run_id):
            if task.state != "failed":
                continue
            # The raised exception comes first, then its causes (Airflow's ``error_detail``).
            errors = [line for line in self.log(dag_id, run_id, task) if EXCEPTION.match(line)]
            out.append(f"{task.label}: {errors[0] if errors else 'failed (see its log)'}")
        return out
