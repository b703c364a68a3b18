"""Land every topic in the DuckDB warehouse (exactly once), then validate the marts with the
Great Expectations checkpoint; a failed expectation fails the run."""

from __future__ import annotations

from airflow.sdk import dag, task

from streamlab.config import Settings
from streamlab.jobs import schedules
from streamlab.warehouse import loader, quality


@dag(**schedules.dag_args("load_and_validate"))
def load_and_validate():
    @task
    def load() -> dict:
        report = loader.load(Settings(), echo=print)
        print(f"loaded {report.records} records in {report.batches} batch(es), {report.seconds:.1f}s")
        return {"records": report.records, "batches": report.batches, "seconds": report.seconds}

    @task
    def validate(loaded: dict) -> str:
        outcome = quality.validate(Settings())
        print(outcome.describe())
        outcome.raise_for_failure()
        return outcome.describe()

    validate(load())


load_and_validate()
