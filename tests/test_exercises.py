"""The lessons' exercises, checked locally: each job on a small data set in a local PyFlink
(no Kafka, no cluster), row for row against its oracle (``flink_jobs/local_check.py``).

``make check`` runs the suite's side: every job equals its oracle locally, and each exercise's
check fails on its stub and passes on its solution. ``make exercise LESSON=<key>`` runs the
learner's side (marker ``exercise``): the queries in that lesson's ``exercise.py`` must pass.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path

import duckdb
import pytest

from flink_jobs import local_check
from streamlab import lessons
from streamlab.apps.exercises import every, module
from validation import oracle

EXERCISES = [pytest.param(listed.lesson, listed.exercise, id=f"{listed.lesson}-{listed.name}") for listed in every()]


@functools.cache
def _solved(key: str, directory: Path) -> local_check.topic_files.TopicFiles:
    return local_check.run(key, module(key, "job").build, directory)


@pytest.fixture(scope="session")
def solved(tmp_path_factory):
    """Each lesson's job as shipped, run once per session."""
    return lambda key: _solved(key, tmp_path_factory.getbasetemp() / f"solved-{key}")


@pytest.mark.parametrize("key", [lesson.key for lesson in lessons.ALL])
def test_every_job_equals_its_oracle_on_the_local_data_set(key, solved):
    topics = solved(key)
    checks = lessons.oracle(key).check(topics)
    assert [check.describe() for check in checks if not check.exact] == []
    late = lessons.get(key).late
    assert all(check.expected > 0 for check in checks if late is None or check.topic != late.topic), \
        "every output of the local data set must have rows, or its check proves nothing"


@pytest.mark.parametrize("key, exercise", EXERCISES)
def test_the_check_fails_on_the_stub_and_passes_on_the_solution(key, exercise, solved, tmp_path):
    job = module(key, "job")
    # The job as shipped runs the solution: build's keyword defaults to the job's constant.
    assert inspect.signature(job.build).parameters[exercise.part].default == exercise.query(job)
    assert local_check.differences(key, solved(key), exercise.outputs) == []
    stub = exercise.query(module(key, "exercise"))
    assert stub != exercise.query(job), "the stub is the solution"
    problems = local_check.attempt(key, job, exercise, stub, tmp_path)
    assert problems, "the stub passes the check: the check does not test the exercise"
    assert not any(problem.startswith(local_check.DID_NOT_RUN) for problem in problems), \
        f"the stub must run and give wrong rows, so the check is seen to compare them: {problems}"


@pytest.mark.exercise
@pytest.mark.parametrize("key, exercise", EXERCISES)
def test_your_query_equals_the_oracle(key, exercise, tmp_path):
    """The learner's side: your query in ``exercise.py`` in the job, against the oracle."""
    problems = local_check.attempt(key, module(key, "job"), exercise, exercise.query(module(key, "exercise")),
                                   tmp_path)
    assert not problems, "\n".join(problems)


def test_the_local_data_set_has_payments_of_customers_who_moved_later(solved):
    """The foreign-country alert takes the customer as of the payment. Some customers in this data
    set move after paying, so a rule that read their latest country would not equal the oracle."""
    con = duckdb.connect()
    oracle.load_inputs(con, solved("lesson15-alerts"), extra=("payments", "customers"))
    con.execute(oracle.versions_view("customers", "customer_id", {"country": "VARCHAR"}))
    [(moved,)] = con.execute("""
        WITH paid AS (
          SELECT json_extract_string(p.doc, '$.ts_ms')::BIGINT AS ts_ms,
                 json_extract_string(o.doc, '$.customer_id') AS customer_id
          FROM payments_judged p JOIN orders_judged o
            ON json_extract_string(p.doc, '$.order_id') = json_extract_string(o.doc, '$.order_id')
          WHERE p.reason IS NULL AND o.reason IS NULL)
        SELECT count(*) FROM paid
        ASOF JOIN customers_versions AS at_payment
          ON paid.customer_id = at_payment.customer_id AND paid.ts_ms >= at_payment.version_ms
        JOIN (SELECT customer_id, arg_max(country, version_ms) AS country FROM customers_versions GROUP BY ALL) AS now
          ON paid.customer_id = now.customer_id
        WHERE at_payment.country <> now.country""").fetchall()
    assert moved > 0


def test_the_join_examples_emit_the_changelog_their_kind_implies(tmp_path):
    """The planner's changelog mode: stream-stream and stream-table joins are insert-only,
    table-table joins update. A run of the full outer interval join emits inserts alone, among
    them orders no payment matched and payments that matched no order."""
    semantics = module("lesson15-joins", "semantics")
    env = local_check.views("lesson15-joins", module("lesson15-joins", "job").build, tmp_path)
    for name, example in semantics.EXAMPLES.items():
        mode = semantics.changelog_mode(env, example.sql).split(",")
        if example.kind == "table-table":
            assert "UA" in mode, (name, mode)
        else:
            assert mode == ["I"], (name, mode)
    with env.sql_query(semantics.EXAMPLES["full-interval"].sql).execute().collect() as rows:
        emitted = [(semantics.SHORT[row.get_row_kind()], *row) for row in rows]
    assert {kind for kind, *_ in emitted} == {"+I"}
    assert any(payment is None for _, _, payment, _ in emitted) and any(order is None for _, order, _, _ in emitted)
