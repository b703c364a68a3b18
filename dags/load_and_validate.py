"""Land every topic in the DuckDB warehouse (exactly once), then validate the marts with the
Great Expectations checkpoint; a failed expectation fails the run."""

from __future__ import annotations

from airflow.sdk import dag, task

from streamlab.config import Settings
from streamlab.jobs import ops
from streamlab.warehouse import loader, quality


@dag(schedule="*/10 * * * *", **ops.DAG_DEFAULTS)
def load_and_validate():
    @task
    def load() -> int:
        report = loader.load(Settings(), echo=print)
        print(f"loaded {report.records} records in {report.batches} batch(es), {report.seconds:.1f}s")
        return report.records

    @task
    def validate(records: int) -> str:
        outcome = quality.validate(Settings())
        print(outcome.describe())
        outcome.raise_for_failure()
        return outcome.verdict

    validate(load())


load_and_validate()
