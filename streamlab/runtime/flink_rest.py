"""A small client for the Flink REST API: the calls the CLI, the demo, the DAGs and the tests need.

Transient failures (connection refused or reset, timeouts, 502/503/504 while a JobManager is
busy or restarting) are retried with exponential backoff; anything else raises
``FlinkRestError`` with Flink's own message, so the caller can say what went wrong in a line.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from streamlab.errors import UserError

# States of a live job: not finished, cancelled, failed, suspended, or being cancelled.
ACTIVE_STATES = {"INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "FAILING"}
TRANSIENT_STATUS = {502, 503, 504}


class FlinkRestError(UserError):
    """A request Flink refused or that kept failing; the message is Flink's (one line)."""


class FlinkRest:
    def __init__(self, base_url: str, timeout_s: float = 10.0, retries: int = 4, backoff_s: float = 0.5) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s)
        self._retries = retries
        self._backoff_s = backoff_s

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        delay = self._backoff_s
        for attempt in range(self._retries + 1):
            try:
                response = self._client.request(method, path, json=body)
            except httpx.TransportError as error:
                if attempt == self._retries:
                    raise FlinkRestError(f"no Flink cluster answers at {self._client.base_url} "
                                         f"({method} {path}: {error}): run `streamlab up` first") from error
            else:
                if response.status_code not in TRANSIENT_STATUS or attempt == self._retries:
                    if response.is_error:
                        raise FlinkRestError(f"{method} {path}: HTTP {response.status_code}: {_errors(response)}")
                    return response.json() if response.content else {}
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _get(self, path: str) -> Any:
        return self._request("GET", path)

    def overview(self) -> dict[str, Any]:
        return self._get("/overview")

    def jobs(self) -> list[dict[str, Any]]:
        """All jobs the cluster knows, newest first: id, name, state, start-time."""
        return sorted(
            self._get("/jobs/overview")["jobs"], key=lambda job: job["start-time"], reverse=True
        )

    def running_job(self, name: str) -> dict[str, Any] | None:
        for job in self.jobs():
            if job["name"] == name and job["state"] in ACTIVE_STATES:
                return job
        return None

    def job(self, job_id: str) -> dict[str, Any]:
        return self._get(f"/jobs/{job_id}")

    def taskmanagers(self) -> list[dict[str, Any]]:
        """The registered TaskManagers (``id`` is the resource id, with their slots)."""
        return self._get("/taskmanagers")["taskmanagers"]

    def taskmanagers_of(self, job_id: str) -> set[str]:
        """The resource ids of the TaskManagers the job's tasks run on."""
        return {tm["taskmanager-id"] for vertex in self.job(job_id)["vertices"]
                for tm in self._get(f"/jobs/{job_id}/vertices/{vertex['id']}/taskmanagers")["taskmanagers"]}

    def job_config(self, job_id: str) -> dict[str, Any]:
        """The job's execution config, with its global job parameters under ``user-config``."""
        return self._get(f"/jobs/{job_id}/config")

    def failure(self, job_id: str) -> str:
        """The root cause line of the job's most recent failure, or '' when it never failed."""
        last = self.last_failure(job_id)
        return last[0] if last else ""

    def last_failure(self, job_id: str) -> tuple[str, int] | None:
        """The root cause line of the job's most recent failure and when it happened (epoch ms)."""
        entries = self._get(f"/jobs/{job_id}/exceptions").get("exceptionHistory", {}).get("entries", [])
        if not entries:
            return None
        newest = max(entries, key=lambda entry: entry.get("timestamp", 0))
        lines = (newest.get("stacktrace") or newest.get("exceptionName") or "unknown failure").strip().splitlines()
        causes = [line.strip().removeprefix("Caused by: ") for line in lines if line.startswith("Caused by: ")]
        return (causes or lines)[-1 if causes else 0][:500], int(newest.get("timestamp", 0))

    def restarts(self, job_id: str) -> int:
        """How often the job restarted since it was submitted (Flink's ``numRestarts`` metric)."""
        metrics = self._get(f"/jobs/{job_id}/metrics?get=numRestarts")
        return int(float(metrics[0]["value"])) if metrics else 0

    def flame_graph(self, job_id: str, vertex_id: str) -> dict[str, Any]:
        """The vertex's latest on-CPU flame graph (the cluster needs ``rest.flamegraph.enabled``);
        the first request starts the sampling, so it may come back without ``data``."""
        return self._get(f"/jobs/{job_id}/vertices/{vertex_id}/flamegraph?type=on_cpu")

    def checkpoints(self, job_id: str) -> dict[str, Any]:
        """Counts, the latest completed/savepoint/restored checkpoint and the recent history."""
        return self._get(f"/jobs/{job_id}/checkpoints")

    def last_completed_checkpoint(self, job_id: str) -> dict[str, Any] | None:
        latest = self.checkpoints(job_id).get("latest", {}) or {}
        return latest.get("completed")

    def trigger_savepoint(self, job_id: str, target_directory: str) -> str:
        """Start a canonical savepoint; returns the trigger id to poll with ``savepoint_status``."""
        body = {"target-directory": target_directory, "cancel-job": False, "formatType": "CANONICAL"}
        return self._request("POST", f"/jobs/{job_id}/savepoints", body)["request-id"]

    def stop_with_savepoint(self, job_id: str, target_directory: str) -> str:
        """Stop the job after a final canonical savepoint; poll with ``savepoint_status``."""
        body = {"targetDirectory": target_directory, "drain": False, "formatType": "CANONICAL"}
        return self._request("POST", f"/jobs/{job_id}/stop", body)["request-id"]

    def savepoint_status(self, job_id: str, trigger_id: str) -> dict[str, Any]:
        """``{"status": {"id": "IN_PROGRESS"|"COMPLETED"}, "operation": {"location"|"failure-cause"}}``."""
        return self._get(f"/jobs/{job_id}/savepoints/{trigger_id}")

    def dispose_savepoint(self, path: str) -> str:
        """Ask Flink to delete a savepoint and its state; poll with ``disposal_status``."""
        return self._request("POST", "/savepoint-disposal", {"savepoint-path": path})["request-id"]

    def disposal_status(self, trigger_id: str) -> dict[str, Any]:
        return self._get(f"/savepoint-disposal/{trigger_id}")

    def cancel(self, job_id: str) -> None:
        self._request("PATCH", f"/jobs/{job_id}?mode=cancel")


def _errors(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or [response.text]
    except ValueError:
        errors = [response.text]
    # Flink puts a whole Java stack trace in an error; its first line is the message.
    return "; ".join(str(e).strip().splitlines()[0] for e in errors if str(e).strip())[:500]
