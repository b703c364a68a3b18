"""An exercise's check: the real job on a small generated data set, in a local PyFlink
environment (no Kafka, no cluster), compared row for row with the lesson's DuckDB oracle.

The data set has the platform's disorder, late records and malformed bytes, in one partition
per topic (``streamlab.data.topic_files``), and ends with the generator's heartbeats, so every
window it opens closes. A check takes seconds once the JVM runs (about 10 s, once per process).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common.runner import JobArgs, local_env, run_local
from streamlab import lessons
from streamlab.config import Settings
from streamlab.data import generator, topic_files
from streamlab.runtime import jars

Build = Callable[..., StatementSet]

# Small enough for seconds, big enough that every rule, window and join has rows: about two
# hours of event time, so each of the 30 customers has several visits (sessions), with late (5 %)
# and malformed (4 %) records. Its closing heartbeats are a day on, so every window closes, the
# longest (a trading period) too, as Flink's final watermark closes them when the input ends.
SPEC = generator.GeneratorSpec(seed=2020, count=5_000, customers=30, products=12, late_fraction=0.05,
                               malformed_fraction=0.04, fraud_fraction=0.05, heartbeat_after_ms=24 * 3_600_000)


@dataclass(frozen=True)
class Exercise:
    """A query of a lesson's job that a learner writes: ``part`` is the job's ``build`` keyword
    and, upper-cased, the constant in ``job.py`` (the solution) and in ``exercise.py`` (the
    stub); ``outputs`` are the topics it decides."""

    name: str
    part: str
    outputs: tuple[str, ...]

    def query(self, module: ModuleType) -> str:
        return getattr(module, self.part.upper())


def _function_jars() -> list[str]:
    """streamlab's Flink functions (JSON_FIELDS, ...), built by Maven once per checkout."""
    return [path.as_uri() for path in jars.flink_connector_jars(jars.ensure_jars(Settings().jars, quiet=True))
            if "functions" in path.name]


@functools.cache
def _data_set() -> tuple[generator.Record, ...]:
    """The data set of ``SPEC``, generated once per process: every check writes the same."""
    return tuple(generator.generate(SPEC))


def _args(key: str, directory: Path, records: Iterable[generator.Record] | None = None) -> JobArgs:
    topic_files.write(_data_set() if records is None else records, directory)
    return JobArgs(name=lessons.get(key).name, bootstrap_servers="", fingerprint="local", local_dir=str(directory))


def views(key: str, build: Build, directory: Path) -> TableEnvironment:
    """A local environment holding lesson ``key``'s tables and views over the data set in
    ``directory``, as its job builds them, with nothing run yet: to query them directly."""
    args = _args(key, directory)
    env = local_env(args, _function_jars())
    build(env, args)
    return env


def run(key: str, build: Build, directory: Path, records: Iterable[generator.Record] | None = None,
        **parts: str) -> topic_files.TopicFiles:
    """Run lesson ``key``'s job (``build``, its ``parts`` replaced) over ``records`` (default: the
    data set of ``SPEC``) in ``directory`` until the input ends; returns its topics, inputs and
    outputs."""
    run_local(functools.partial(build, **parts), _args(key, directory, records), _function_jars())
    return topic_files.TopicFiles(directory)


DID_NOT_RUN = "the job did not run"


def attempt(key: str, job: ModuleType, exercise: Exercise, query: str, directory: Path) -> list[str]:
    """Run lesson ``key``'s job with ``query`` as the exercise's part: what differs from the
    oracle in its outputs, or why the job did not run (nothing when it is solved)."""
    try:
        topics = run(key, job.build, directory, **{exercise.part: query})
    except Exception as error:  # the planner's or the runtime's (Py4JJavaError): the learner's SQL
        return [f"{DID_NOT_RUN}: {_first_cause(error)}"]
    return differences(key, topics, exercise.outputs)


def _first_cause(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line for line in lines if line.startswith(("org.apache.flink.", "Caused by:"))]
    return (causes[-1] if causes else lines[0] if lines else type(error).__name__)[:500]


def differences(key: str, topics: topic_files.TopicFiles, outputs: tuple[str, ...]) -> list[str]:
    """How ``outputs`` differ from the oracle (nothing when they equal it)."""
    checks = [check for check in lessons.oracle(key).check(topics) if check.topic in outputs]
    if len(checks) != len(outputs):
        raise ValueError(f"the oracle of {key} checks none of {outputs}")
    return [check.describe() for check in checks if not check.exact]
