"""The deploy_streaming_jobs DAG on the real platform: it submits what is missing, leaves
alone what runs the same code, and upgrades what changed by the job's upgrade mode — with its
state: the upgrade lands in the middle of a data set, with windows open, and every output still
equals the oracle over the whole data set (counts continue, they do not restart). The upgraded
windows job has an operator more than before (savepoint compatibility), and an upgrade that
cannot start from that state rolls back to the previous release from the same savepoint.

Runs last among the platform modules: its data starts after every other module's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from streamlab import lessons
from streamlab.config import Settings
from streamlab.data import generator, producer
from streamlab.jobs import deploy, drills, jobwatch, lifecycle, ops
from streamlab.runtime.flink_rest import FlinkRest
from conftest import REPO, STATE_ROOT, DagOutcome, assert_exact, run_dag

pytestmark = pytest.mark.platform

JOBS = ["lesson14-stateless", "lesson15-windows", "lesson15-alerts"]  # one per upgrade mode
ADDED_OPERATOR = '''
    env.execute_sql("CREATE TEMPORARY TABLE clicks_per_path (path STRING, clicks BIGINT) WITH ('connector' = 'blackhole')")
    statements.add_insert_sql("INSERT INTO clicks_per_path SELECT path, COUNT(*) FROM clicks_clean GROUP BY path")
    return statements
'''


def code_copy(name: str) -> Path:
    """A checkout of the project's job code, as a user's next version would be."""
    root = STATE_ROOT / "test-rollout" / name
    shutil.rmtree(root, ignore_errors=True)
    for package in ("flink_jobs", "streamlab"):
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def next_version() -> Path:
    """Every job changed: the windows job gains a stateful operator, the others a comment
    (the fingerprint hashes the code as written)."""
    root = code_copy("v2")
    windows = root / "flink_jobs/lesson15_windows/job.py"
    windows.write_text(windows.read_text().replace("    return statements\n", ADDED_OPERATOR))
    for job in ("lesson14_stateless", "lesson15_alerts"):
        script = root / f"flink_jobs/{job}/job.py"
        script.write_text(script.read_text() + "# next version\n")
    return root


def running(settings: Settings) -> dict[str, tuple[str, str]]:
    """Job key -> (Flink job id, release fingerprint) of each running job of ours."""
    rest = FlinkRest(settings.flink_rest_url)
    out = {}
    for key in JOBS:
        job = rest.running_job(lessons.get(key).name)
        if job is not None:
            out[key] = (job["jid"], deploy.fingerprint(rest, job["jid"]))
    return out


def restored_from(settings: Settings, job_id: str) -> str | None:
    """Where the job's state came from: a savepoint's or a retained checkpoint's path, or None."""
    restored = FlinkRest(settings.flink_rest_url).checkpoints(job_id)["latest"]["restored"]
    return restored["external_path"] if restored else None


def roll_out(code_dir: Path | None, monkeypatch, capsys) -> DagOutcome:
    if code_dir is None:
        monkeypatch.delenv("STREAMLAB_CODE_DIR", raising=False)
    else:
        monkeypatch.setenv("STREAMLAB_CODE_DIR", str(code_dir))
    return run_dag("deploy_streaming_jobs", capsys, {"jobs": JOBS})


def produce_and_check(settings: Settings, records: list[generator.Record]) -> None:
    producer.produce(records, settings.bootstrap_servers, progress=False)
    for key in JOBS:
        spec = lessons.get(key)
        jobwatch.wait_caught_up(settings, spec.name, list(spec.inputs), timeout_s=600)


def test_submits_leaves_alone_and_upgrades_each_by_its_mode(airflow_db, dag_settings, next_version,
                                                            monkeypatch, capsys):
    settings = dag_settings
    for key in JOBS:
        deploy.deploy(settings, key)
    lifecycle.cancel(settings, "lesson14-stateless")

    rolled = roll_out(None, monkeypatch, capsys)
    assert rolled.state == "success", rolled.errors
    first = running(settings)
    assert set(first) == set(JOBS)  # lesson14-stateless submitted again
    rolled = roll_out(None, monkeypatch, capsys)
    assert rolled.state == "success", rolled.errors
    assert running(settings) == first  # the same code: nothing restarted

    data = list(generator.generate(drills.next_data_set(settings, seed=1701, count=8_000)))
    produce_and_check(settings, data[: len(data) // 2])  # windows and sessions open now

    rolled = roll_out(next_version, monkeypatch, capsys)
    assert rolled.state == "success", rolled.errors
    upgraded = running(settings)
    for key in JOBS:
        assert upgraded[key][0] != first[key][0] and upgraded[key][1] != first[key][1], key
    assert upgraded["lesson15-windows"][1] == deploy.release(
        Settings(code_dir=next_version), "lesson15-windows").fingerprint
    assert "/savepoints/lesson15-windows/savepoint-" in restored_from(settings, upgraded["lesson15-windows"][0])
    assert "/checkpoints/" in restored_from(settings, upgraded["lesson15-alerts"][0])  # last-state
    assert restored_from(settings, upgraded["lesson14-stateless"][0]) is None  # stateless
    assert ops.savepoints(settings, "lesson15-windows")[0]["trigger"] == "stop"

    produce_and_check(settings, data[len(data) // 2:])
    for check in (lessons.oracle(key).check for key in JOBS):
        assert_exact(jobwatch.wait_exact(lambda check=check: check(settings.bootstrap_servers)))


def test_an_upgrade_that_cannot_take_the_state_rolls_back(airflow_db, dag_settings, next_version,
                                                          monkeypatch, capsys):
    """Back to the first version: it lacks the operator the savepoint has state for."""
    settings = dag_settings
    before = running(settings)["lesson15-windows"]
    assert roll_out(None, monkeypatch, capsys).state == "failed"

    after = running(settings)["lesson15-windows"]
    assert after[1] == before[1] and after[0] != before[0]  # the same release, started again
    savepoint = ops.savepoints(settings, "lesson15-windows")[0]["path"]
    assert restored_from(settings, after[0]).endswith(Path(savepoint).name)

    more = drills.next_data_set(settings, seed=1702, count=4_000)
    produce_and_check(settings, list(generator.generate(more)))
    for check in (lessons.oracle(key).check for key in JOBS):
        assert_exact(jobwatch.wait_exact(lambda check=check: check(settings.bootstrap_servers)))
