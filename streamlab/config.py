"""The one typed configuration of streamlab.

Every field can be overridden by an environment variable named ``STREAMLAB_<FIELD>``
(for example ``STREAMLAB_KAFKA_PORT=19092``). Everything the platform writes — data, logs,
pid files, temp dirs, jars — lives under ``state_dir``, never in shared ``/tmp`` defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import httpx
from croniter import croniter
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Airflow's schedule presets (airflow/sdk/definitions/timetables/_cron.py, and @once, @continuous).
SCHEDULE_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STREAMLAB_", frozen=True)

    state_dir: Path = Field(Path(".streamlab"), description="Where all runtime state lives.")
    jars_dir: Path | None = Field(
        None, description="Maven-resolved jars; default <state_dir>/jars. Tests share one."
    )
    host: str = Field("127.0.0.1", description="Interface every service binds to.")

    kafka_port: int = Field(9092, ge=1, le=65535, description="Kafka client listener.")
    kafka_controller_port: int = Field(9093, ge=1, le=65535, description="KRaft controller.")
    kafka_heap: str = Field("512m", description="Broker JVM heap (-Xmx).")
    kafka_bootstrap: str | None = Field(
        None, description="An existing Kafka cluster's bootstrap servers (host:port,...): every client, "
        "job and tool uses them instead of the platform's own brokers."
    )
    kafka_brokers: int = Field(
        1, ge=1, le=5, description="Kafka brokers, each also a KRaft controller. Broker i (from 0) "
        "listens on STREAMLAB_KAFKA_PORT + 2i, its controller on STREAMLAB_KAFKA_CONTROLLER_PORT + 2i. "
        "With 3, every topic has 3 replicas and the output topics need 2 in sync."
    )

    kstreams_heap: str = Field("384m", description="Heap (-Xmx) of each Kafka Streams peer instance.")
    flink_rest_port: int = Field(8081, ge=1, le=65535, description="Flink REST API and web UI.")
    flink_rest: str | None = Field(
        None, description="An existing Flink cluster's REST URL (http://host:port): deploys, savepoints "
        "and drills go there instead of to the platform's own cluster."
    )
    flink_rpc_port: int = Field(6123, ge=1, le=65535, description="JobManager RPC.")
    flink_taskmanager_slots: int = Field(
        8, ge=1, description="Slots per TaskManager: each job runs at parallelism 1 in one slot."
    )
    flink_taskmanager_memory: str = Field("3072m", description="TaskManager process size.")
    flink_taskmanagers: int = Field(
        2, ge=1, le=8, description="TaskManagers in the session cluster, each with the slots and memory above. "
        "With 2 or more, one is a spare: after a TaskManager dies, its jobs restart at once in the others' "
        "free slots (Flink's counterpart of a Kafka Streams standby) instead of waiting for a new JVM."
    )
    flink_jobmanager_memory: str = Field("1024m", description="JobManager process size.")
    checkpoint_interval_ms: int = Field(
        2000, ge=100, description="Checkpoint interval; also how often exactly-once output commits."
    )

    airflow: bool = Field(
        True,
        description="Start the embedded Airflow with `up`; off for benchmark and test platforms "
        "that do not need it.",
    )
    airflow_port: int = Field(8080, ge=1, le=65535, description="Airflow API server and web UI.")
    airflow_parallelism: int = Field(
        4, ge=1, description="Airflow task instances running at once (LocalExecutor processes)."
    )

    # --8<-- [start:schedules]
    # When each operations DAG runs on its own (cron or an Airflow preset such as @hourly; `none`
    # means only when triggered). `up` starts the DAGs live; a DAG paused in Airflow stays paused.
    schedule_deploy_streaming_jobs: str | None = Field(
        "*/5 * * * *", description="Looks for jobs whose code or config changed and rolls out only those."
    )
    schedule_savepoint_backup: str | None = Field("@hourly", description="Savepoints every running job.")
    schedule_load_and_validate: str | None = Field(
        "*/10 * * * *", description="Loads the warehouse and validates the marts."
    )
    schedule_recovery_drill: str | None = Field("0 2 * * *", description="Drills every fault, nightly.")
    schedule_job_health: str | None = Field(
        "*/3 * * * *", description="Finds jobs in a restart loop or with a stale checkpoint; alerts, and "
        "rolls back those named in STREAMLAB_HEALTH_ROLLBACK."
    )
    # --8<-- [end:schedules]
    health_stale_checkpoints: int = Field(
        60, ge=2, description="A running job whose newest checkpoint is older than this many checkpoint "
        "intervals is unhealthy (job_health DAG)."
    )
    health_rollback: str = Field(
        "", description="Jobs the job_health DAG rolls back to their last good release when unhealthy: "
        "comma-separated keys, `all`, or empty for alerts only (the Kubernetes operator's rollback is opt-in too)."
    )

    dashboard: bool = Field(
        True, description="Start the live dashboard with `up`; off for test and benchmark platforms "
        "that do not need it."
    )
    dashboard_port: int = Field(8050, ge=1, le=65535, description="Dashboard page, query API and WebSocket.")
    kstreams_http_port: int = Field(
        8060, ge=1, le=65000, description="Interactive queries of the Kafka Streams peers' stores: instance n "
        "of a peer with queryable stores answers on this port + n (`streamlab peer query`)."
    )
    dashboard_windows: int = Field(
        60, ge=2, le=1440, description="1-minute revenue windows the dashboard keeps per category."
    )
    dashboard_client_queue: int = Field(
        256, ge=1, description="Updates buffered per WebSocket client; a client that falls this far "
        "behind is dropped (it reconnects and resumes) so it never slows the others."
    )
    # --8<-- [start:alert_settings]
    webhook_url: str | None = Field(
        None, description="Where each alert is POSTed as JSON (retried, sent once per alert); "
        "unset: alerts are only logged."
    )
    alert_min_severity: Literal["low", "medium", "high"] = Field(
        "medium", description="Alerts below this severity are shown and logged but not sent to the webhook."
    )
    alert_min_amount_cents: int = Field(
        0, ge=0, description="Alerts about less than this amount are not sent to the webhook."
    )
    # --8<-- [end:alert_settings]

    code_dir: Path | None = Field(
        None, description="Checkout whose flink_jobs/ `deploy` and the deploy DAG roll out; "
        "default the one streamlab runs from."
    )

    startup_timeout_s: float = Field(90.0, gt=0, description="How long `up` waits for readiness.")
    lock_wait_s: float = Field(
        600.0, ge=0, description="How long a deploy, savepoint, stop, cancel, restore or drill waits for "
        "another one on the same job (from the CLI or a DAG) to finish before it gives up."
    )

    @field_validator(
        "schedule_deploy_streaming_jobs", "schedule_savepoint_backup", "schedule_load_and_validate",
        "schedule_recovery_drill", "schedule_job_health")
    @classmethod
    def _schedule_is_cron(cls, schedule: str | None) -> str | None:
        """Checked here, so a typo stops `up` with one line instead of a DAG import error in Airflow."""
        if schedule is None or schedule.strip().lower() in ("", "none"):
            return None
        schedule = schedule.strip()
        if schedule not in SCHEDULE_PRESETS and not croniter.is_valid(schedule):
            raise ValueError(f"'{schedule}' is neither a cron expression nor one of {', '.join(SCHEDULE_PRESETS)}, "
                             "nor `none`")
        return schedule

    @field_validator("webhook_url")
    @classmethod
    def _webhook_is_http(cls, url: str | None) -> str | None:
        """Checked once here, so the notifier never retries a URL no request can be made to."""
        if url is None:
            return None
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as err:
            raise ValueError(f"not a URL: {err}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("needs an http:// or https:// URL with a host")
        return url

    @property
    def jars(self) -> Path:
        return (self.jars_dir or self.state_dir / "jars").resolve()

    @property
    def code(self) -> Path:
        return (self.code_dir or Path(__file__).resolve().parent.parent).resolve()

    @property
    def state(self) -> Path:
        return self.state_dir.resolve()

    @property
    def bootstrap_servers(self) -> str:
        if self.kafka_bootstrap:
            return self.kafka_bootstrap
        return ",".join(f"{self.host}:{self.kafka_port + 2 * i}" for i in range(self.kafka_brokers))

    @property
    def replication_factor(self) -> int:
        return min(3, self.kafka_brokers)

    @property
    def min_insync_replicas(self) -> int:
        """2 of 3: one broker may fail and writes go on, but never to a lone copy."""
        return max(1, min(2, self.replication_factor - 1))

    @property
    def flink_rest_url(self) -> str:
        if self.flink_rest:
            return self.flink_rest.rstrip("/")
        return f"http://{self.host}:{self.flink_rest_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://{self.host}:{self.dashboard_port}"

    @property
    def airflow_url(self) -> str:
        return f"http://{self.host}:{self.airflow_port}"
