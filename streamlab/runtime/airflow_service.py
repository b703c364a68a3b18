"""The embedded Airflow 3: api-server, scheduler, dag-processor and triggerer on SQLite.

Every setting reaches the four processes as ``AIRFLOW__SECTION__KEY`` environment variables
built from the project's config, so they agree on ports, paths and secrets, and everything
Airflow writes (database, logs, temp files, DAG bundles) lives under the state dir. The shared
secrets and the admin password are generated once and kept in 0600 files: a restart keeps
tokens, encrypted connection fields and the login valid.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import psutil

from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import processes

API_SERVER = "airflow-api-server"
SCHEDULER = "airflow-scheduler"
DAG_PROCESSOR = "airflow-dag-processor"
TRIGGERER = "airflow-triggerer"
# Stopped in reverse order: the API server, which running tasks report to, last.
COMPONENTS = {API_SERVER: "api-server", SCHEDULER: "scheduler", DAG_PROCESSOR: "dag-processor",
              TRIGGERER: "triggerer"}
# The section of each component in the API server's health report.
HEALTH_KEYS = {SCHEDULER: "scheduler", TRIGGERER: "triggerer", DAG_PROCESSOR: "dag_processor"}
USER = "admin"
# Their log servers listen on every interface, whatever the config says; the API server reads
# task logs from the shared log folder instead (one machine), so they are not started.
SKIP_LOG_SERVER = {SCHEDULER: ["--skip-serve-logs"], TRIGGERER: ["--skip-serve-logs"]}
# Without an airflow.cfg, each Airflow process writes one full of its own defaults and secrets: a
# second, stale copy of the settings that would only mislead.
CFG_STUB = ("# Unused: streamlab passes every Airflow setting as AIRFLOW__* environment variables "
            "(streamlab/runtime/airflow_service.py).\n")
AIRFLOW_BIN = Path(sys.executable).parent / "airflow"
DAGS = Path(__file__).resolve().parents[2] / "dags"


def home(settings: Settings) -> Path:
    """AIRFLOW_HOME: the SQLite database, secrets, password file, temp dir and DAG bundles."""
    return settings.state / "airflow"


def log_dir(settings: Settings) -> Path:
    """Task and DAG-processor logs; the components' own output goes to ``<state>/logs/*.out``."""
    return settings.state / "logs" / "airflow"


def password_file(settings: Settings) -> Path:
    """The simple auth manager's passwords file (``{"admin": "..."}``), mode 0600."""
    return home(settings) / "passwords.json"


def password(settings: Settings) -> str | None:
    path = password_file(settings)
    return json.loads(path.read_text()).get(USER) if path.exists() else None


def _private(path: Path, make: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Read the JSON at ``path``, creating it first, owner-only from the first byte on."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            json.dump(make(), out)
    return json.loads(path.read_text())


def _new_keys() -> dict[str, str]:
    return {
        # Signs the API's and the task Execution API's tokens: all components must share it.
        # 64 bytes or more: the tokens are HS512, and PyJWT warns about a shorter key.
        "jwt_secret": secrets.token_urlsafe(64),
        # Signs sessions.
        "secret_key": secrets.token_urlsafe(32),
        # Encrypts connection passwords and variables in the database (a Fernet key).
        "fernet_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }


def streamlab_env(settings: Settings) -> dict[str, str]:
    """STREAMLAB_* for DAG tasks, so their ``Settings()`` is ours (paths absolute: the
    processes run elsewhere; fields unset by default stay unset, to keep their computed
    defaults; one set to none on purpose, a schedule, says `none`)."""
    return {
        f"STREAMLAB_{name.upper()}": "none" if value is None else str(value.resolve() if isinstance(value, Path) else value)
        for name, value in settings.model_dump().items()
        if value is not None or Settings.model_fields[name].default is not None
    }


def airflow_env(settings: Settings) -> dict[str, str]:
    """The environment of every Airflow process: its whole configuration and connections (the
    shared secrets are generated on first use)."""
    keys = _private(home(settings) / "secrets.json", _new_keys)
    logs = log_dir(settings)
    config: dict[str, dict[str, object]] = {
        "core": {
            "executor": "LocalExecutor",
            "parallelism": settings.airflow_parallelism,
            "load_examples": False,
            "dags_folder": DAGS,
            # Where task processes reach the Execution API (default: localhost:8080).
            "execution_api_server_url": f"{settings.airflow_url}/execution/",
            "simple_auth_manager_users": f"{USER}:admin",
            "simple_auth_manager_passwords_file": password_file(settings),
            "fernet_key": keys["fernet_key"],
        },
        "database": {"sql_alchemy_conn": f"sqlite:///{home(settings) / 'airflow.db'}"},
        "api": {"host": settings.host, "port": settings.airflow_port,
                "secret_key": keys["secret_key"]},
        "api_auth": {"jwt_secret": keys["jwt_secret"]},
        "logging": {
            "base_log_folder": logs,
            "dag_processor_child_process_log_directory": logs / "dag_processor",
            "colored_console_log": False,
        },
        # Default: <system temp>/airflow/dag_bundles.
        "dag_processor": {"dag_bundle_storage_path": home(settings) / "dag_bundles"},
    }
    env = dict(os.environ)
    env.update(
        {f"AIRFLOW__{section.upper()}__{key.upper()}": str(value)
         for section, options in config.items() for key, value in options.items()}
    )
    env.update(
        AIRFLOW_HOME=str(home(settings)),
        TMPDIR=str(home(settings) / "tmp"),
        AIRFLOW_CONN_STREAMLAB_KAFKA=json.dumps({
            "conn_type": "kafka", "description": "the streamlab Kafka broker",
            "extra": {"bootstrap.servers": settings.bootstrap_servers},
        }),
        AIRFLOW_CONN_STREAMLAB_FLINK=json.dumps({
            "conn_type": "http", "description": "the streamlab Flink REST API",
            "host": settings.host, "port": settings.flink_rest_port,
        }),
    )
    env.update(streamlab_env(settings))
    return env


def _migrate(settings: Settings, env: dict[str, str]) -> None:
    """Create or upgrade the SQLite database (a no-op when it is current)."""
    try:
        result = subprocess.run(
            [str(AIRFLOW_BIN), "db", "migrate"], env=env, cwd=home(settings),
            capture_output=True, text=True, timeout=settings.startup_timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise UserError(
            f"`airflow db migrate` took longer than {settings.startup_timeout_s:.0f}s "
            "(raise STREAMLAB_STARTUP_TIMEOUT_S?)"
        ) from None
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise UserError("`airflow db migrate` failed; last lines:\n" + "\n".join(output[-20:]))


def _applied_file(settings: Settings) -> Path:
    return home(settings) / "applied-settings.sha256"


def _settings_digest(env: dict[str, str]) -> str:
    """Of what the components read at start: every AIRFLOW_*, STREAMLAB_* and connection."""
    ours = sorted((k, v) for k, v in env.items() if k.startswith(("AIRFLOW", "STREAMLAB_")))
    return hashlib.sha256(json.dumps(ours).encode()).hexdigest()


def start(settings: Settings) -> bool:
    """Start the components that are not running (each only then) and wait until all are
    healthy. Components that run with other settings (a schedule changed, say) are restarted
    first: Airflow reads them only when it starts. True when it restarted them."""
    restarted = False
    if running(settings) and _applied_file(settings).exists() and \
            _applied_file(settings).read_text() != _settings_digest(airflow_env(settings)):
        stop(settings)
        restarted = True
    missing = [name for name in COMPONENTS if processes.running(settings.state, name) is None]
    if API_SERVER in missing:
        processes.require_free_port(settings.host, settings.airflow_port, "Airflow API server",
                                    "STREAMLAB_AIRFLOW_PORT")
    if missing:
        (home(settings) / "tmp").mkdir(parents=True, exist_ok=True)
        log_dir(settings).mkdir(parents=True, exist_ok=True)
        (home(settings) / "airflow.cfg").write_text(CFG_STUB)
        _private(password_file(settings), lambda: {USER: secrets.token_urlsafe(12)})
        env = airflow_env(settings)
        _migrate(settings, env)
        _applied_file(settings).write_text(_settings_digest(env))
        for name in missing:
            processes.spawn(
                settings.state, name, [str(AIRFLOW_BIN), COMPONENTS[name], *SKIP_LOG_SERVER.get(name, [])], env,
                settings.state / "logs" / f"{name}.out", cwd=home(settings),
            )
    wait_ready(settings)
    return restarted


def _not_ready(settings: Settings, client: httpx.Client, procs: dict[str, processes.ManagedProcess]
               ) -> list[str]:
    """Components not healthy yet. A heartbeat older than the process is a previous run's job
    row, which still reads as alive for a while after a restart."""
    try:
        health = client.get(f"{settings.airflow_url}/api/v2/monitor/health").json()
    except (httpx.HTTPError, ValueError):
        return list(COMPONENTS)
    late = []
    for name, key in HEALTH_KEYS.items():
        part = health.get(key) or {}
        beat = part.get(f"latest_{key}_heartbeat")
        if (part.get("status") != "healthy" or beat is None
                or datetime.fromisoformat(beat).timestamp() < procs[name].create_time):
            late.append(name)
    return late


def wait_ready(settings: Settings) -> None:
    """Until every component reports healthy; one that exits fails at once, with its log."""
    deadline = time.monotonic() + settings.startup_timeout_s
    late = list(COMPONENTS)
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            procs: dict[str, processes.ManagedProcess] = {}
            for name in COMPONENTS:
                proc = processes.running(settings.state, name)
                if proc is None:
                    dead = processes.recorded(settings.state, name)
                    raise UserError(
                        f"Airflow {COMPONENTS[name]} exited during startup; last log lines:\n"
                        + (processes.tail(dead.log) if dead else "")
                    )
                procs[name] = proc
            late = _not_ready(settings, client, procs)
            if not late:
                return
            time.sleep(1)
    raise UserError(
        f"Airflow not ready after {settings.startup_timeout_s:.0f}s (raise "
        f"STREAMLAB_STARTUP_TIMEOUT_S?): {', '.join(COMPONENTS[n] for n in late)} not healthy; "
        f"last log lines of {late[0]}:\n" + processes.tail(settings.state / "logs" / f"{late[0]}.out")
    )


def running(settings: Settings) -> dict[str, processes.ManagedProcess]:
    return {name: proc for name in COMPONENTS
            if (proc := processes.running(settings.state, name)) is not None}


def stop(settings: Settings) -> list[str]:
    """Stop the components, then anything they started: Airflow moves each task process into a
    process group of its own, which stopping the components' groups would not reach."""
    descendants: list[psutil.Process] = []
    for proc in running(settings).values():
        try:
            descendants.extend(psutil.Process(proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass
    stopped = [name for name in reversed(COMPONENTS) if processes.stop(settings.state, name)]
    for child in descendants:
        try:
            child.kill()  # psutil checks the start time: a reused pid is not signalled
        except psutil.NoSuchProcess:
            pass
    return stopped
