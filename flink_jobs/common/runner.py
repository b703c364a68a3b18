"""How every job starts: arguments, a streaming TableEnvironment, one statement set.

Jobs are pure Flink SQL unless a comment says why not, so they run entirely in the JVM.
SQL operators cannot be given a ``uid`` by hand; ``table.exec.uid.generation: ALWAYS`` gives
each one a stable uid derived from the plan, so state maps back to the same operator on restore.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from pyflink.table import EnvironmentSettings, StatementSet, TableEnvironment

JSON_FIELDS_CLASS = "dev.streamlab.flink.JsonFields"


@dataclass(frozen=True)
class JobArgs:
    name: str
    bootstrap_servers: str
    fingerprint: str  # of the deployed code and arguments; Flink reports it back (see _configure)
    local_dir: str = ""  # set: topics are JSON-lines directories here, not Kafka (local_files)

    @property
    def group_id(self) -> str:
        return self.name


def parse_args(name: str, argv: list[str] | None = None) -> JobArgs:
    parser = argparse.ArgumentParser(prog=name, description=f"Flink job {name}")
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka bootstrap servers")
    parser.add_argument("--fingerprint", default="", help="hash of the deployed code (streamlab.jobs.releases)")
    args = parser.parse_args(argv)
    return JobArgs(name=name, bootstrap_servers=args.bootstrap_servers, fingerprint=args.fingerprint)


# --8<-- [start:table_config]
def _configure(env: TableEnvironment, args: JobArgs) -> TableEnvironment:
    config = env.get_config()
    config.set("pipeline.name", args.name)
    # A global job parameter is what Flink's REST API reports of a job (/jobs/:id/config), so
    # the running job itself says which code it runs: no separate record can drift from it.
    config.set("pipeline.global-job-parameters", f"streamlab.fingerprint:{args.fingerprint}")
    config.set("table.exec.uid.generation", "ALWAYS")
    config.set("table.exec.sink.upsert-materialize", "NONE")
    config.set("table.local-time-zone", "UTC")
    # One-phase aggregation: a window aggregate buffers its input and, each time a window
    # fires, flushes the buffer and resets its hash table. The default, two-phase, adds a local
    # pre-aggregate before the shuffle with a second buffer reset as often; it pays when many
    # parallel tasks feed each key, not at our parallelism of 1, where a flame graph put a
    # third of the windows job's CPU in those resets (docs/benchmark/profiles/).
    config.set("table.optimizer.agg-phase-strategy", "ONE_PHASE")
    # Parses a record's JSON once into named columns (jvm/functions; on the cluster's classpath).
    env.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION JSON_FIELDS AS '{JSON_FIELDS_CLASS}' LANGUAGE JAVA")
    return env
# --8<-- [end:table_config]


def table_env(args: JobArgs) -> TableEnvironment:
    return _configure(TableEnvironment.create(EnvironmentSettings.in_streaming_mode()), args)


def local_env(args: JobArgs, jars: list[str]) -> TableEnvironment:
    """A TableEnvironment on a local mini cluster, configured as a job's: an exercise's check.
    One task per operator, so a source reads its one file in order; ``jars`` (URLs) hold
    streamlab's functions, which the cluster has on its classpath."""
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    env.get_config().set("pipeline.jars", ";".join(jars))
    env.get_config().set("parallelism.default", "1")
    return _configure(env, args)


def run_local(build: Callable[[TableEnvironment, JobArgs], StatementSet], args: JobArgs, jars: list[str]) -> None:
    """Run the job to the end of ``args.local_dir``'s files (``local_env``)."""
    build(local_env(args, jars), args).execute().wait()


# --8<-- [start:run_job]
def run(name: str, build: Callable[[TableEnvironment, JobArgs], StatementSet]) -> None:
    """Parse arguments, build the job's statement set and submit it: `flink run -d -py job.py`
    calls it, and the platform's job client does its steps (``job_client.submit``)."""
    args = parse_args(name)
    env = table_env(args)
    build(env, args).execute()
# --8<-- [end:run_job]

