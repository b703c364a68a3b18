"""The operations DAGs and when each runs, in one place.

The schedules themselves are settings (``STREAMLAB_SCHEDULE_<DAG>``, ``streamlab.config``), so
the CLI, `up`, `status` and the docs read the same values as the DAG files. Every DAG shares
the rest: no backfill, one run at a time, and live from the start (a DAG someone paused in
Airflow's UI stays paused: Airflow keeps that in its database).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from cron_descriptor import get_description

from streamlab.config import Settings

# In the order a newcomer meets them: the demo runs the first four, in this order.
DAGS = ("deploy_streaming_jobs", "savepoint_backup", "recovery_drill", "load_and_validate", "job_health")
PRESETS_IN_WORDS = {"@once": "once", "@continuous": "continuously", "@hourly": "hourly", "@daily": "daily at 00:00",
                    "@weekly": "weekly", "@monthly": "monthly", "@quarterly": "quarterly", "@yearly": "yearly"}


def schedule(settings: Settings, dag_id: str) -> str | None:
    return getattr(settings, f"schedule_{dag_id}")


def dag_args(dag_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``@dag`` for one of ``DAGS``: its configured schedule and the rest."""
    if dag_id not in DAGS:
        raise ValueError(f"{dag_id} is not one of the operations DAGs: {', '.join(DAGS)}")
    return {"schedule": schedule(settings or Settings(), dag_id), "catchup": False, "max_active_runs": 1,
            "is_paused_upon_creation": False, "tags": ["streamlab", "operations"]}


# A mapped task's label in the grid (``@task(map_index_template=MAP_LABEL)``), set by ``label``:
# the job or scenario it works on instead of its index.
MAP_LABEL = "{{ map_label }}"


def label(value: str) -> None:
    """Call in a mapped task whose decorator has ``map_index_template=MAP_LABEL``."""
    from airflow.sdk import get_current_context  # only in a task: the CLI need not load Airflow

    get_current_context()["map_label"] = value  # type: ignore[typeddict-unknown-key]


def in_words(cron: str | None) -> str:
    """'every 5 minutes', 'at 02:00 AM UTC', 'only when triggered'."""
    if cron is None:
        return "only when triggered"
    if cron in PRESETS_IN_WORDS:
        return PRESETS_IN_WORDS[cron]
    words = get_description(cron)
    return words[0].lower() + words[1:] + (" UTC" if ":" in words else "")  # Airflow's default time zone


def missed_slot(run_type: str, logical_date: datetime | None, grace: timedelta = timedelta(hours=1),
                now: datetime | None = None) -> str | None:
    """Why a scheduled run should not go ahead: one that starts long after its slot (a DAG
    that went live within a tenth of its interval after a tick runs that tick at once; so does
    a scheduler that was down at the tick), so a drill never kills processes at an hour nobody
    chose. A manual run, or one on time, goes ahead (None)."""
    if run_type != "scheduled" or logical_date is None:
        return None
    late = (now or datetime.now(timezone.utc)) - logical_date
    if late <= grace:
        return None
    return f"this run's slot was {logical_date:%Y-%m-%d %H:%M} UTC, {late / timedelta(hours=1):.1f} h ago: it waits for the next"
