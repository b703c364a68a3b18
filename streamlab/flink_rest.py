"""A small client for the Flink REST API: the calls the CLI, the demo and the tests need."""

from __future__ import annotations

from typing import Any

import httpx


# States of a live job: not finished, cancelled, failed, suspended, or being cancelled.
ACTIVE_STATES = {"INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "FAILING"}


class FlinkRest:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s)

    def _get(self, path: str) -> Any:
        response = self._client.get(path)
        response.raise_for_status()
        return response.json()

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

    def checkpoints(self, job_id: str) -> dict[str, Any]:
        return self._get(f"/jobs/{job_id}/checkpoints")

    def last_completed_checkpoint(self, job_id: str) -> dict[str, Any] | None:
        latest = self.checkpoints(job_id).get("latest", {}) or {}
        return latest.get("completed")
