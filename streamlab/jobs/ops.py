"""The operations catalog: savepoints taken and drills run, in the warehouse's ``ops`` schema,
and savepoint retention.

Writes go through ``warehouse.writer`` (one transaction, then published to the replica);
reads come from the replica, so ``status`` never waits for a writer.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from streamlab import lessons, warehouse
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.jobs import lifecycle
from streamlab.jobs.lifecycle import Savepoint

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.savepoints (
  job VARCHAR NOT NULL,
  job_id VARCHAR NOT NULL,
  path VARCHAR NOT NULL PRIMARY KEY,
  size_bytes BIGINT NOT NULL,
  duration_s DOUBLE NOT NULL,
  trigger VARCHAR NOT NULL,          -- 'savepoint' (backup) or 'stop' (upgrade)
  status VARCHAR NOT NULL,           -- 'COMPLETED' or 'DISPOSED'
  taken_at TIMESTAMPTZ NOT NULL,
  disposed_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS ops.drills (
  scenario VARCHAR NOT NULL,         -- taskmanager-kill, job-restore, broker-restart
  started_at TIMESTAMPTZ NOT NULL,
  recovery_s DOUBLE NOT NULL,        -- fault until every job processed all input again
  threshold_s DOUBLE NOT NULL,
  rows_checked BIGINT NOT NULL,      -- output rows compared with the oracle
  missing BIGINT NOT NULL,
  unexpected BIGINT NOT NULL,        -- duplicates included
  passed BOOLEAN NOT NULL
);
-- Added after the first release of the catalog: the code (streamlab.jobs.releases) that wrote it.
ALTER TABLE ops.savepoints ADD COLUMN IF NOT EXISTS release VARCHAR;
-- Added with the Kafka Streams drill: fault until every input partition moved on again (failover).
ALTER TABLE ops.drills ADD COLUMN IF NOT EXISTS resumed_s DOUBLE;
CREATE TABLE IF NOT EXISTS ops.health (
  job VARCHAR NOT NULL,
  job_id VARCHAR NOT NULL,           -- the Flink job found unwell
  found_at TIMESTAMPTZ NOT NULL,
  finding VARCHAR NOT NULL,          -- restart-loop, stale-checkpoint
  detail VARCHAR NOT NULL,
  action VARCHAR NOT NULL,           -- alerted, rolled-back, rollback-failed
  release VARCHAR NOT NULL,          -- the release that was unwell
  rolled_back_to VARCHAR,            -- the release that runs instead
  savepoint VARCHAR                  -- the state it started from
);
"""


@dataclass(frozen=True)
class Retention:
    max_count: int = 5  # per job
    max_age: timedelta = timedelta(days=7)


@contextmanager
def connect(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse writer, with the ``ops`` tables in place."""
    with warehouse.writer(settings) as con:
        con.execute(SCHEMA)
        yield con


def record_savepoint(settings: Settings, point: Savepoint, taken_at: datetime | None = None) -> None:
    with connect(settings) as con:
        con.execute(
            "INSERT INTO ops.savepoints (job, job_id, path, size_bytes, duration_s, trigger, status, taken_at, release)"
            " VALUES (?, ?, ?, ?, ?, ?, 'COMPLETED', ?, ?)",
            [point.job, point.job_id, str(point.path), point.size_bytes, point.duration_s,
             point.trigger, taken_at or datetime.now(timezone.utc), point.release or None],
        )


def savepoints(settings: Settings, job: str | None = None, status: str = "COMPLETED") -> list[dict]:
    """Catalogued savepoints, newest first."""
    rows = _read_catalog(settings, "savepoints", (
        "SELECT job, path, size_bytes, duration_s, trigger, taken_at, release FROM ops.savepoints"
        " WHERE status = ? AND (? IS NULL OR job = ?) ORDER BY taken_at DESC"), [status, job, job])
    names = ["job", "path", "size_bytes", "duration_s", "trigger", "taken_at", "release"]
    return [dict(zip(names, row)) for row in rows]


def _read_catalog(settings: Settings, table: str, query: str, params: list | None = None) -> list[tuple]:
    """Rows of an ``ops`` table, from the replica (none when there is no catalog yet)."""
    if not warehouse.replica_path(settings).exists():
        return []
    with warehouse.reader(settings) as con:
        return con.execute(query, params or []).fetchall() if warehouse.has_table(con, "ops", table) else []


def latest_savepoints(settings: Settings) -> dict[str, dict]:
    """Each job's newest catalogued savepoint."""
    rows = _read_catalog(settings, "savepoints", """
        SELECT job, path, size_bytes, taken_at FROM ops.savepoints WHERE status = 'COMPLETED'
        QUALIFY row_number() OVER (PARTITION BY job ORDER BY taken_at DESC) = 1""")
    return {job: {"path": p, "size_bytes": size, "taken_at": at} for job, p, size, at in rows}


def latest_drills(settings: Settings) -> dict[str, dict]:
    """Each scenario's most recent drill (``resumed_s`` None where a catalog predates it)."""
    rows = _read_catalog(settings, "drills", """
        SELECT to_json(d) FROM ops.drills d
        QUALIFY row_number() OVER (PARTITION BY scenario ORDER BY started_at DESC) = 1""")
    drills = {}
    for (text,) in rows:
        row = json.loads(text)
        drills[row.pop("scenario")] = {**row, "started_at": datetime.fromisoformat(row["started_at"]),
                                       "resumed_s": row.get("resumed_s")}
    return drills


@dataclass(frozen=True)
class HealthAction:
    """What the job_health DAG found and did about it (a row of ``ops.health``)."""
    job: str
    job_id: str
    finding: str
    detail: str
    action: str
    release: str
    rolled_back_to: str | None = None
    savepoint: str | None = None
    found_at: datetime | None = None

    def describe(self) -> str:
        text = f"{self.job} ({self.job_id}): {self.finding}, {self.detail} -> {self.action}"
        if self.rolled_back_to:
            text += f" from release {self.release} to {self.rolled_back_to}, state from {self.savepoint}"
        return text


def record_health(settings: Settings, action: HealthAction) -> None:
    with connect(settings) as con:
        con.execute("INSERT INTO ops.health VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [action.job, action.job_id, action.found_at or datetime.now(timezone.utc), action.finding,
                     action.detail, action.action, action.release, action.rolled_back_to, action.savepoint])


def health_actions(settings: Settings, since: datetime | None = None) -> list[HealthAction]:
    """What the job_health DAG did, newest first (since ``since``)."""
    rows = _read_catalog(settings, "health", """
        SELECT job, job_id, finding, detail, action, release, rolled_back_to, savepoint, found_at FROM ops.health
        WHERE ? IS NULL OR found_at >= ? ORDER BY found_at DESC""", [since, since])
    return [HealthAction(*row) for row in rows]


def rolled_back_releases(settings: Settings, job: str) -> set[str]:
    """Releases of the job that job_health rolled back from: the deploy DAG does not roll them
    out again (a new release, or `streamlab deploy` by hand, does)."""
    return {a.release for a in health_actions(settings) if a.job == job and a.action == "rolled-back"}


def warehouse_summary(settings: Settings) -> dict:
    """The last load and the last validation run (absent keys when there was none)."""
    out: dict = {}
    loads = _read_catalog(settings, "loads", "SELECT max(load_id), max(committed_at), sum(records) FROM ops.loads")
    if loads and loads[0][0] is not None:
        out["load"] = dict(zip(["load_id", "committed_at", "records"], loads[0]))
    runs = _read_catalog(settings, "validations", """
        SELECT validated_at, count(*), count(*) FILTER (WHERE NOT success) FROM ops.validations
        GROUP BY run_id, validated_at ORDER BY validated_at DESC LIMIT 1""")
    if runs:
        out["validation"] = dict(zip(["validated_at", "expectations", "failed"], runs[0]))
    return out


# --8<-- [start:savepoint_retention]
def expired(catalog: list[dict], retention: Retention, now: datetime) -> list[str]:
    """Paths to dispose of, per job: savepoints without their ``_metadata`` (unusable), and good
    ones beyond ``max_count`` or older than ``max_age`` — but never the newest good one, the
    one a restore would use."""
    out = []
    for job in {row["job"] for row in catalog}:
        rows = sorted((r for r in catalog if r["job"] == job), key=lambda r: r["taken_at"], reverse=True)
        good = [r for r in rows if (Path(r["path"]) / "_metadata").is_file()]
        out += [r["path"] for r in rows if r not in good]
        out += [r["path"] for index, r in enumerate(good)
                if index > 0 and (index >= retention.max_count or now - r["taken_at"] > retention.max_age)]
    return sorted(out)
# --8<-- [end:savepoint_retention]


def dispose(settings: Settings, path: str, timeout_s: float = 120.0) -> None:
    """Delete a savepoint through Flink (which knows its state files) and mark it disposed; one
    without ``_metadata`` Flink cannot read, so its directory is simply removed."""
    if not (Path(path) / "_metadata").is_file():
        shutil.rmtree(path, ignore_errors=True)
        _mark_disposed(settings, path)
        return
    client = lifecycle.rest(settings)
    trigger_id = client.dispose_savepoint(Path(path).as_uri())
    deadline = time.monotonic() + timeout_s
    while client.disposal_status(trigger_id)["status"]["id"] != "COMPLETED":
        if time.monotonic() > deadline:
            raise UserError(f"disposing of {path} did not finish within {timeout_s:.0f}s")
        time.sleep(0.5)
    failure = client.disposal_status(trigger_id).get("operation", {}).get("failure-cause")
    if failure:
        raise UserError(f"disposing of {path} failed: {failure.get('stack-trace', '').strip().splitlines()[0]}")
    _mark_disposed(settings, path)


def _mark_disposed(settings: Settings, path: str) -> None:
    with connect(settings) as con:
        con.execute("UPDATE ops.savepoints SET status = 'DISPOSED', disposed_at = ? WHERE path = ?",
                    [datetime.now(timezone.utc), path])


def running_jobs(settings: Settings) -> list[str]:
    """Keys of the catalog's jobs that run now."""
    client = lifecycle.rest(settings)
    return [key for key, spec in lessons.BY_KEY.items() if client.running_job(spec.name) is not None]


def backup(settings: Settings, key: str, stop: bool = False) -> Savepoint:
    """A savepoint of one running job (with ``stop``, its final one), verified (``_metadata``)
    and recorded in the catalog."""
    point = (lifecycle.stop_with_savepoint if stop else lifecycle.savepoint)(settings, key)
    record_savepoint(settings, point)
    return point


def enforce_retention(settings: Settings, retention: Retention) -> list[str]:
    """Dispose of every expired savepoint; returns their paths."""
    gone = expired(savepoints(settings), retention, datetime.now(timezone.utc))
    for path in gone:
        dispose(settings, path)
    return gone
