"""Lesson 14 — a stateless topology: filter, map, flatMap and branch, with a dead letter.

    clicks ─ validate ─┬─ invalid ─────────────────────────────────────────► dead-letter
                       └─ filter (no bots) ─ map (normalise) ──────────────► l14-clicks
    orders ─ validate ─┬─ invalid ─────────────────────────────────────────► dead-letter
                       └─ flatMap (line items) ─ branch (category) ──────► l14-items-<branch>
    payments, customers, products ─ validate ─ invalid ─────────────────────► dead-letter

This topology is the platform's front door, as a validating Kafka Streams topology would be:
it judges every record of every raw topic, so the dead letter holds each rejected record once,
and the other jobs only skip what it rejects. Validation parses each record's JSON once
(``JSON_FIELDS``) into named columns; every rule and every step after it is SQL over those
columns.

Kafka Streams' filter/mapValues/flatMapValues/split().branch() become WHERE, a SELECT
projection, CROSS JOIN UNNEST and one INSERT per branch in a single statement set. All of it
is SQL: the job runs in the JVM with no Python worker.
"""

from __future__ import annotations

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common import kafka_ddl, streams
from flink_jobs.common.runner import JobArgs, run
from flink_jobs.lesson14_stateless.contract import ITEM_BRANCHES, LESSON
from streamlab.wire.topics import DEAD_LETTER

NAMED_BRANCHES = [branch for branch in ITEM_BRANCHES if branch != "other"]


# The query a learner writes in this lesson's exercise (exercise.py): ``build`` takes it as a
# keyword. Every job that reads clicks shares it (``streams.clean_clicks``).
CLICKS_CLEAN = streams.clean_clicks()


def build(env: TableEnvironment, args: JobArgs, clicks_clean: str = CLICKS_CLEAN) -> StatementSet:
    # --8<-- [start:sources_and_sinks]
    for stream in LESSON.inputs:  # every raw topic, validated here
        env.execute_sql(kafka_ddl.raw_source(f"{stream}_raw", stream, args))
    env.execute_sql(kafka_ddl.dead_letter_sink("dead_letter", DEAD_LETTER.name, args))
    kafka_ddl.create_sinks(env, LESSON.outputs, args)  # the contract's outputs
    # --8<-- [end:sources_and_sinks]

    # --8<-- [start:views]
    for stream in LESSON.inputs:
        streams.create_checked_view(env, stream)  # parse once and validate: a reason, or NULL
    for stream in ("clicks", "orders"):
        streams.create_valid_view(env, stream)  # the valid records as typed columns
    env.execute_sql(f"CREATE TEMPORARY VIEW clicks_clean AS {clicks_clean}")  # filter (no bots) + map
    streams.create_order_items_view(env)  # flatMap (one row per line item)
    # --8<-- [end:views]

    # --8<-- [start:statement_set]
    statements = env.create_statement_set()
    statements.add_insert_sql("INSERT INTO clicks_out SELECT * FROM clicks_clean")
    # --8<-- [start:branch]
    # branch: named branches by category, everything else to the default branch.
    for branch in NAMED_BRANCHES:
        statements.add_insert_sql(
            f"INSERT INTO items_{branch} SELECT * FROM order_items WHERE category = '{branch}'"
        )
    statements.add_insert_sql(
        f"INSERT INTO items_other SELECT * FROM order_items WHERE category NOT IN ({streams.sql_list(NAMED_BRANCHES)})"
    )
    # --8<-- [end:branch]
    checked = [f"{stream}_checked" for stream in LESSON.inputs]
    statements.add_insert_sql(kafka_ddl.dead_letter_insert(checked, LESSON.name))
    return statements
    # --8<-- [end:statement_set]


if __name__ == "__main__":
    run(LESSON.name, build)
