"""The Kafka Streams peers (``peers/kafka-streams``) as processes of the platform.

A peer is a plain JVM application, as Kafka Streams applications are: each instance is a
process named ``<job>-<instance>`` with its own state directory under ``<state>/kafka-streams/``;
the instances of one job share its application id, so Kafka's group protocol spreads the tasks
over them and moves them when one dies. ``streamlab.jobs.peers`` creates their topics first and
checks them with the oracles: the peers are not part of ``streamlab up``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import quote

import httpx

from streamlab import lessons
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import jars as jarlib
from streamlab.runtime import processes
from streamlab.wire.contract import Lesson

MAIN = "dev.streamlab.kstreams.Main"


def peered() -> list[Lesson]:
    """The lessons with a Kafka Streams peer."""
    return [lesson for lesson in lessons.ALL if lesson.peer]


def by_job(job: str) -> Lesson:
    """The lesson whose peer is ``job``; a UserError names the peers otherwise."""
    for lesson in peered():
        if lesson.peer and lesson.peer.job == job:
            return lesson
    raise UserError(f"no Kafka Streams peer '{job}': the peers are "
                    f"{', '.join(lesson.peer.job for lesson in peered() if lesson.peer)}")


def process_name(job: str, instance: int) -> str:
    return f"{job}-{instance}"


def command(settings: Settings, job: str, *args: str) -> list[str]:
    """The command line of the peer ``job`` with ``args`` (see ``Main.java``). Its temp dir (where
    RocksDB unpacks its native library) is under the state dir, as everything it writes."""
    tmp = settings.state / "kafka-streams" / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return [jarlib.require_java(), f"-Xmx{settings.kstreams_heap}", "-XX:+UseG1GC", f"-Djava.io.tmpdir={tmp}",
            "-cp", jarlib.peers_classpath(settings.jars), MAIN, job, *args]


def describe(settings: Settings, job: str) -> str:
    """The peer's topology as Kafka Streams describes it: sub-topologies, stores and topics."""
    jarlib.ensure_jars(settings.jars, quiet=True)
    result = subprocess.run(command(settings, job, "--describe"), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise UserError(f"{job} --describe failed: {result.stderr.strip()[-500:]}")
    return result.stdout


def start(settings: Settings, job: str, instance: int = 0, standby_replicas: int = 0,
          timeout_s: float = 120.0) -> processes.ManagedProcess:
    """Start instance ``instance`` of the peer ``job`` and wait until it is RUNNING (a no-op
    when it runs); its topics must exist."""
    by_job(job)
    name = process_name(job, instance)
    running = processes.running(settings.state, name)
    if running is not None:
        return running
    jarlib.ensure_jars(settings.jars, quiet=True)
    state_dir = settings.state / "kafka-streams" / name
    state_dir.mkdir(parents=True, exist_ok=True)
    log = settings.state / "logs" / f"{name}.out"
    since = log.stat().st_size if log.exists() else 0  # the log keeps earlier runs
    queries = []
    if by_job(job).peer.queryable:
        port = query_port(settings, instance)
        processes.require_free_port(settings.host, port, f"{name}'s interactive queries", "STREAMLAB_KSTREAMS_HTTP_PORT")
        queries = ["--http-port", str(port)]
    argv = command(settings, job, "--bootstrap-servers", settings.bootstrap_servers, "--state-dir", str(state_dir),
                   "--standby-replicas", str(standby_replicas), *queries)
    proc = processes.spawn(settings.state, name, argv, os.environ, log, settings.state)
    # Main prints each state change.
    return processes.wait_started(proc, lambda: "-> RUNNING" in _read_from(log, since), timeout_s, name, poll_s=0.5)


def query_port(settings: Settings, instance: int) -> int:
    """Where instance ``instance`` of a peer with queryable stores answers (``StoreServer.java``)."""
    return settings.kstreams_http_port + instance


def query(settings: Settings, job: str, store: str, key: str) -> dict:
    """``key`` of the peer's ``store``, asked of its first running instance, which fetches it
    from whichever instance hosts it (Kafka Streams' interactive queries)."""
    running = sorted(instances(settings, job), key=lambda proc: proc.name)
    if not running:
        raise UserError(f"{job} is not running: `streamlab peer start {job}`")
    instance = int(running[0].name.rsplit("-", 1)[1])
    url = f"http://{settings.host}:{query_port(settings, instance)}/stores/{quote(store, safe='')}/{quote(key, safe='')}"
    try:
        answer = httpx.get(url, timeout=10)
    except httpx.HTTPError as error:
        raise UserError(f"{running[0].name} did not answer on {url}: {error}") from None
    try:
        body = answer.json()
    except ValueError:  # not the peer's answer (another server on the port, or the JDK's own 400)
        raise UserError(f"{url} answered HTTP {answer.status_code} without JSON: {answer.text[:200]}") from None
    if answer.status_code != 200:
        raise UserError(f"{store} {key}: {body.get('error', answer.text)} (HTTP {answer.status_code})")
    return body


def _read_from(path: Path, offset: int) -> str:
    with open(path, "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def instances(settings: Settings, job: str) -> list[processes.ManagedProcess]:
    """The running instances of ``job``."""
    return [proc for proc in processes.all_recorded(settings.state)
            if proc.name.startswith(f"{job}-") and proc.alive()]


def stop(settings: Settings, job: str | None = None) -> list[str]:
    """Stop the instances of ``job`` (of every peer when None) cleanly; returns their names."""
    jobs = [job] if job else [lesson.peer.job for lesson in peered() if lesson.peer]
    stopped = []
    for proc in processes.all_recorded(settings.state):
        if any(proc.name.startswith(f"{name}-") for name in jobs) and processes.stop(settings.state, proc.name):
            stopped.append(proc.name)
    return stopped
