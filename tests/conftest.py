"""One real platform (Kafka broker + Flink session cluster) per test session, on free ports.

Its state lives under the project's own state dir (``.streamlab/test-session``), never in
shared /tmp defaults, and ``down`` runs when the session ends whatever the outcome.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamlab import lessons
from streamlab.apps import platform as platform_lib
from streamlab.config import Settings
from streamlab.data import generator, producer
from streamlab.jobs import deploy, jobwatch, schedules
from streamlab.runtime import airflow_service
from validation.oracle import TopicCheck

REPO = Path(__file__).resolve().parent.parent
STATE_ROOT = REPO / os.environ.get("STREAMLAB_STATE_DIR", ".streamlab")
VENV_BIN = Path(sys.executable).parent
EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Timeout)\w*: ")

# DAG tests run DAGs in-process (``dag.test()``), and Airflow reads its configuration when
# first imported: point it at a home of its own before any test module imports it.
AIRFLOW_HOME = STATE_ROOT / "test-airflow"
os.environ.update(
    AIRFLOW_HOME=str(AIRFLOW_HOME),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
)


# A test's Airflow runs a DAG only when the test triggers it: a scheduled deploy, drill or
# rollback in the middle of another test would change what that test sees.
UNSCHEDULED = {f"schedule_{dag_id}": None for dag_id in schedules.DAGS}


def fresh_settings(name: str, airflow: bool = False, dashboard: bool = False, brokers: int = 1,
                   taskmanagers: int = 2, **fields: object) -> Settings:
    """Settings for an isolated platform under ``<state>/<name>`` on free ports, its DAGs
    unscheduled unless ``fields`` say otherwise."""
    state = STATE_ROOT / name
    if state.exists():
        shutil.rmtree(state)
    settings = platform_lib.isolated(state, STATE_ROOT / "jars", airflow, dashboard, brokers, taskmanagers)
    return Settings(**{**settings.model_dump(exclude_unset=True), **UNSCHEDULED, **fields})


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment that points the `streamlab` CLI at ``settings``."""
    env = dict(os.environ)
    env.update({name: value for name, value in airflow_service.streamlab_env(settings).items()
                if name[len("STREAMLAB_"):].lower() in settings.model_fields_set})
    env.update(STREAMLAB_JARS_DIR=str(settings.jars), STREAMLAB_AIRFLOW=str(settings.airflow).lower(),
               STREAMLAB_DASHBOARD=str(settings.dashboard).lower())
    env.update(extra)
    return env


def streamlab(settings: Settings, *args: str, timeout_s: float = 600, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "streamlab"), *args], env=env_for(settings, **env),
        capture_output=True, text=True, timeout=timeout_s, cwd=REPO,
    )


def assert_exact(checks) -> None:
    wrong = [c for c in checks if not c.exact]
    assert not wrong, "\n".join(c.describe() for c in wrong)


def run_job(settings: Settings, key: str, records: Iterable[generator.Record]) -> None:
    """Produce ``records``, deploy the job (a no-op if it runs) and wait until it processed them."""
    producer.produce(records, settings.bootstrap_servers, progress=False)
    deploy.deploy(settings, key)
    job = lessons.get(key)
    jobwatch.wait_caught_up(settings, job.name, list(job.inputs), timeout_s=600)


def assert_equals_oracle(settings: Settings, check: Callable[[str], Sequence[TopicCheck]]) -> None:
    """Every output topic the ``check`` covers equals its oracle, and none is empty."""
    checks = jobwatch.wait_exact(lambda: check(settings.bootstrap_servers))
    assert_exact(checks)
    assert all(c.expected > 0 for c in checks), [c.topic for c in checks if c.expected == 0]


@pytest.fixture(scope="session")
def airflow_db() -> None:
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(VENV_BIN / "airflow"), "db", "reset", "--yes"], env=os.environ,
                   check=True, capture_output=True, timeout=300)


def load_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


@dataclass(frozen=True)
class DagOutcome:
    state: str
    task_states: dict[str, str]
    errors: list[str]  # the exception line of every failed task: an assertion shows why


def run_dag(dag_id: str, capsys: pytest.CaptureFixture[str], conf: dict | None = None) -> DagOutcome:
    """``dag.test()`` in-process; CI reports show only a test's assertion and a part of its
    output, so the failed tasks' exception lines are kept for the assertion message."""
    run = load_dag(dag_id).test(run_conf=conf or {})
    out = capsys.readouterr().out
    sys.stdout.write(out)  # still in the test's captured output
    errors = [line for line in out.splitlines() if EXCEPTION_LINE.match(line)]
    tasks = {f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id: ti.state
             for ti in run.get_task_instances()}
    return DagOutcome(run.state, tasks, errors)


@pytest.fixture
def dag_settings(platform, monkeypatch) -> Settings:
    """The session platform, for DAG tasks that build their own ``Settings()`` from the env."""
    for name, value in env_for(platform).items():
        if name.startswith("STREAMLAB_"):
            monkeypatch.setenv(name, value)
    return platform


@pytest.fixture(scope="session")
def platform() -> Iterator[Settings]:
    # Airflow: the demo deploys, drills, backs up and loads through it; job_health may roll back.
    settings = fresh_settings("test-session", airflow=True, dashboard=True, health_rollback="all")
    try:
        platform_lib.up(settings, echo=lambda _: None)
        yield settings
    finally:
        platform_lib.down(settings, echo=lambda _: None)


@pytest.fixture(scope="session")
def demo(platform) -> subprocess.CompletedProcess[str]:
    """`make demo`'s command on the session platform, once: the dashboard's tests and the demo's
    own look at what it left running (every lesson's job, its data, the warehouse). Bounded
    at twice what it takes on two cores (about 7 minutes)."""
    return streamlab(platform, "demo", timeout_s=900)


PLATFORM_FIXTURES = {"platform", "demo", "dag_settings"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the platform says so with the ``platform`` marker, or the run stops
    here: unmarked, it would start Kafka, Flink and Airflow inside `make check`."""
    unmarked = [item.nodeid for item in items
                if PLATFORM_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("platform") is None]
    if unmarked:
        raise pytest.UsageError("these tests use the platform without @pytest.mark.platform: " + ", ".join(unmarked))


_MODULE_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _MODULE_SECONDS[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    """Each module's time, set-up (a shared platform or demo lands on the first that asks) included."""
    if _MODULE_SECONDS:
        terminalreporter.write_sep("=", "seconds per module")
        for module, seconds in sorted(_MODULE_SECONDS.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{seconds:8.1f}s  {module}")
