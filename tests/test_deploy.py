"""Every submission goes through the platform's warm job client: a job that cannot be planned
is one line with the planner's root cause, the client answers the next request all the same,
and a killed client comes back by itself (no cluster needed: planning fails before the client
asks one). On the platform, the stateful jobs restore a savepoint of the same job submitted the
old way, by `flink run -py` in a JVM of its own: the client gives each the same operator uids."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streamlab import lessons
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.jobs import deploy, lifecycle, releases
from streamlab.runtime import flink_cluster, job_client, processes
from streamlab.runtime.flink_rest import FlinkRest
from conftest import REPO, STATE_ROOT

WINDOWS = lessons.get("lesson15-windows")


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    state = tmp_path_factory.mktemp("client")
    settings = Settings(state_dir=state, jars_dir=STATE_ROOT / "jars", flink_rest_port=processes.free_ports(1)[0])
    flink_cluster.write_layout(settings)
    yield settings
    job_client.stop(settings)


def test_the_client_warms_up_on_a_job_before_it_answers(settings):
    """`up` starts the client with every lesson's job to plan first; one is enough to see it."""
    job_client.stop(settings)
    [windows] = [job for job in deploy.warm_up_jobs(settings) if job.name == WINDOWS.name]
    job_client.start(settings, [windows])
    log = (settings.state / "logs" / f"{job_client.NAME}.log").read_text()
    assert f"warmed up on {WINDOWS.name}" in log, log[-2000:]


def broken(settings: Settings, tmp_path: Path, old: str, new: str) -> releases.Release:
    """A release of the windows job with ``old`` replaced by ``new`` in its script."""
    for package in ("flink_jobs", "streamlab"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / WINDOWS.script
    assert old in script.read_text()
    script.write_text(script.read_text().replace(old, new, 1))
    return releases.build(settings.state, WINDOWS.key, tmp_path, WINDOWS.script, deploy.job_args(settings))


def submit(settings: Settings, release: releases.Release) -> str:
    argv = [*deploy.job_args(settings), "--fingerprint", release.fingerprint]
    return job_client.submit(settings, job_client.Job(release.root, release.script, WINDOWS.name, argv), {}, timeout_s=180)


def test_a_query_the_planner_rejects_is_one_line_with_its_cause(settings, tmp_path):
    release = broken(settings, tmp_path, "FROM revenue_10m\")", "FROM revenue_10m_nowhere\")")
    with pytest.raises(UserError) as failed:
        submit(settings, release)
    message = str(failed.value)
    assert "\n" not in message and message.startswith(f"submitting {WINDOWS.name} failed: ")
    assert "ValidatorException: Object 'revenue_10m_nowhere' not found" in message, message


def test_a_python_error_in_the_job_is_its_exception_and_the_client_lives_on(settings, tmp_path):
    release = broken(settings, tmp_path, "    statements = env.create_statement_set()",
                     "    statements = env.create_statement_set(); undefined_name")
    for _ in range(2):  # the same answer twice: the client outlived the first
        with pytest.raises(UserError, match="NameError: name 'undefined_name' is not defined"):
            submit(settings, release)


def test_the_socket_is_the_users_alone_and_a_killed_client_comes_back(settings, tmp_path):
    release = broken(settings, tmp_path, "FROM revenue_10m\")", "FROM revenue_10m_nowhere\")")
    with pytest.raises(UserError):
        submit(settings, release)
    mode = stat.S_IMODE(os.stat(job_client.socket_path(settings)).st_mode)
    assert mode & 0o077 == 0, oct(mode)
    first = processes.running(settings.state, job_client.NAME)
    processes.kill(first)
    while first.alive():
        time.sleep(0.1)
    with pytest.raises(UserError, match="revenue_10m_nowhere"):
        submit(settings, release)
    assert processes.running(settings.state, job_client.NAME).pid != first.pid


def flink_run(settings: Settings, key: str, savepoint: Path) -> str:
    """The job submitted as before the job client: `flink run -py` of its release, from ``savepoint``."""
    release = deploy.release(settings, key)
    result = subprocess.run(
        [str(flink_cluster.FLINK_HOME / "bin" / "flink"), "run", "-d", "-s", str(savepoint),
         "-py", str(release.entry_point), "-pyfs", str(release.root),
         "-pyclientexec", sys.executable, "-pyexec", sys.executable,
         *deploy.job_args(settings), "--fingerprint", release.fingerprint],
        env=flink_cluster.flink_env(settings) | {"PYTHONPATH": str(release.root)}, cwd=release.root,
        capture_output=True, text=True, timeout=300)
    submitted = re.search(r"JobID ([0-9a-f]{32})", result.stdout)
    assert submitted, result.stdout + result.stderr
    return deploy.wait_started(FlinkRest(settings.flink_rest_url), submitted.group(1), 180)


def vertices(settings: Settings, job_id: str) -> set[str]:
    """The job graph's vertex ids: hashes of the operator uids chained in each."""
    return {vertex["id"] for vertex in FlinkRest(settings.flink_rest_url).job(job_id)["vertices"]}


# The jobs with keyed state (timers, windows, joins, RocksDB): a `flink run` costs 20-30 s of the
# suite's two cores each, and the uids come from the same planner for every job.
RESTORED = ["lesson15-windows", "lesson15-joins", "lesson16-stores"]


@pytest.mark.platform
def test_the_stateful_jobs_restore_a_savepoint_of_a_flink_run_submission(platform):
    """Each job, its state kept: stopped with a savepoint, submitted by `flink run` from it, stopped
    again, and deployed through the (by now warm) job client from that savepoint. Flink refuses a
    savepoint with state for an operator uid the job lacks, so a restore that runs is the proof;
    the vertex ids (hashes of the uids) are compared as well."""
    def round_trip(key: str) -> tuple[set[str], set[str], str, str]:
        deploy.deploy(platform, key)
        old = flink_run(platform, key, lifecycle.stop_with_savepoint(platform, key).path)
        point = lifecycle.stop_with_savepoint(platform, key).path
        new = deploy.deploy(platform, key, from_path=point)
        restored = FlinkRest(platform.flink_rest_url).checkpoints(new)["latest"]["restored"]
        return vertices(platform, old), vertices(platform, new), str(point), restored["external_path"]

    for key, (old, new, point, restored) in deploy.for_each_job(RESTORED, round_trip).items():
        assert old == new, key
        assert restored.endswith(Path(point).name), (key, restored)
