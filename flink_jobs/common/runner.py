"""How every job starts: arguments, a streaming TableEnvironment, one statement set.

Jobs are pure Flink SQL unless a comment says why not, so they run entirely in the JVM.
SQL operators cannot be given a ``uid`` by hand; ``table.exec.uid.generation: ALWAYS`` gives
each one a stable uid derived from the plan, so state maps back to the same operator on restore.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import EnvironmentSettings, StatementSet, StreamTableEnvironment, TableEnvironment


@dataclass(frozen=True)
class JobArgs:
    name: str
    bootstrap_servers: str

    @property
    def group_id(self) -> str:
        return self.name


def parse_args(name: str, argv: list[str] | None = None) -> JobArgs:
    parser = argparse.ArgumentParser(prog=name, description=f"Flink job {name}")
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka bootstrap servers")
    args = parser.parse_args(argv)
    return JobArgs(name=name, bootstrap_servers=args.bootstrap_servers)


def _configure(env: TableEnvironment, name: str) -> TableEnvironment:
    config = env.get_config()
    config.set("pipeline.name", name)
    config.set("table.exec.uid.generation", "ALWAYS")
    config.set("table.exec.sink.upsert-materialize", "NONE")
    config.set("table.local-time-zone", "UTC")
    return env


def table_env(name: str) -> TableEnvironment:
    return _configure(TableEnvironment.create(EnvironmentSettings.in_streaming_mode()), name)


def run(name: str, build: Callable[[TableEnvironment, JobArgs], StatementSet]) -> None:
    """Parse arguments, build the job's statement set and submit it (detached under `flink run -d`)."""
    args = parse_args(name)
    env = table_env(name)
    build(env, args).execute()


def run_with_datastream(
    name: str, build: Callable[[StreamExecutionEnvironment, StreamTableEnvironment, JobArgs], StatementSet]
) -> None:
    """As ``run``, for a job that leaves SQL for the DataStream API somewhere in the middle
    (every DataStream operator then needs its own ``uid``)."""
    args = parse_args(name)
    stream_env = StreamExecutionEnvironment.get_execution_environment()
    table_env_ = _configure(StreamTableEnvironment.create(stream_env), name)
    build(stream_env, table_env_, args).attach_as_datastream()
    stream_env.execute(name)
