"""Join semantics, runnable: inner, left and full outer joins of streams and tables in Flink SQL,
each run on the same small data set over the joins job's own views, with the changelog it emits.

    python -m flink_jobs.lesson15_joins.semantics              # every example
    python -m flink_jobs.lesson15_joins.semantics left-interval

A row of a changelog is ``+I`` (insert), ``-U``/``+U`` (an update: the old row retracted, the
new one inserted) or ``-D`` (delete). A join whose result rows are final emits only ``+I``
(append-only, what a Kafka topic or a file can take); a join whose earlier results can change
emits updates, which only an upsert sink (a compacted topic) can take.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pyflink.common import RowKind
from pyflink.table import TableEnvironment
from pyflink.table.explain_detail import ExplainDetail

from flink_jobs import local_check
from flink_jobs.lesson15_joins import job


@dataclass(frozen=True)
class Example:
    kind: str  # stream-stream, stream-table, table-table
    join: str  # inner, left, full
    sql: str


# --8<-- [start:examples]
# Stream-stream: an interval join keeps each side only as long as the interval needs, and its
# results are final: an outer row (a NULL side) is emitted once the watermark passes the interval.
INTERVAL = "p.order_id = o.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '15' MINUTE"
EXAMPLES = {
    "inner-interval": Example("stream-stream", "inner", f"""
SELECT o.order_id, p.payment_id, p.ts_ms - o.ts_ms AS paid_after_ms
FROM orders_on_time AS o JOIN payments_on_time AS p ON {INTERVAL}"""),
    "left-interval": Example("stream-stream", "left", f"""
SELECT o.order_id, p.payment_id
FROM orders_on_time AS o LEFT JOIN payments_on_time AS p ON {INTERVAL}"""),
    "full-interval": Example("stream-stream", "full", f"""
SELECT o.order_id, p.payment_id, p.order_id AS paid_order_id
FROM orders_on_time AS o FULL JOIN payments_on_time AS p ON {INTERVAL}"""),
    # Stream-table: an event-time temporal join looks each order's customer up as of the order's
    # time. Only a left (or inner) join: the table side has no rows of its own to emit.
    "left-temporal": Example("stream-table", "left", """
SELECT o.order_id, c.customer_id, c.tier
FROM orders_on_time AS o
LEFT JOIN customers_versions FOR SYSTEM_TIME AS OF o.ts AS c ON o.customer_id = c.customer_id"""),
    # Table-table: a regular join of two tables that change (each customer's latest version,
    # each customer's order count so far) keeps both sides for ever, and a change on either
    # side retracts the result it gave before.
    "inner-table": Example("table-table", "inner", """
SELECT c.customer_id, c.tier, n.orders
FROM customers_versions AS c
JOIN (SELECT customer_id, COUNT(*) AS orders FROM orders_on_time GROUP BY customer_id) AS n
  ON c.customer_id = n.customer_id"""),
    "left-table": Example("table-table", "left", """
SELECT c.customer_id, c.tier, n.orders
FROM customers_versions AS c
LEFT JOIN (SELECT customer_id, COUNT(*) AS orders FROM orders_on_time GROUP BY customer_id) AS n
  ON c.customer_id = n.customer_id"""),
}
# --8<-- [end:examples]


SHORT = {RowKind.INSERT: "+I", RowKind.UPDATE_BEFORE: "-U", RowKind.UPDATE_AFTER: "+U", RowKind.DELETE: "-D"}


@dataclass(frozen=True)
class Changelog:
    """What an example emits: the row kinds the planner says its result can hold (``mode``, e.g.
    ``I`` or ``I,UB,UA,D``: it depends on the query alone), and in one run how many rows of each
    kind it emitted and the first few (they depend on how the inputs interleaved in that run)."""

    mode: str
    kinds: dict[str, int]
    first: list[str]


def changelog_mode(env: TableEnvironment, sql: str) -> str:
    """The changelog mode of the query's result, from the top of its optimized plan."""
    plan = env.explain_sql(sql, ExplainDetail.CHANGELOG_MODE)
    top = plan.split("== Optimized Physical Plan ==")[1].strip().splitlines()[0]
    found = re.search(r"changelogMode=\[([A-Z,]+)\]", top)
    if found is None:
        raise ValueError(f"no changelog mode in the plan's top node: {top}")
    return found.group(1)


def run(env: TableEnvironment, example: Example, shown: int = 5) -> Changelog:
    kinds: Counter[str] = Counter()
    first: list[str] = []
    with env.sql_query(example.sql).execute().collect() as rows:
        for row in rows:
            kind = SHORT[row.get_row_kind()]
            kinds[kind] += 1
            if len(first) < shown:
                first.append(f"{kind} {tuple(row)}")
    return Changelog(changelog_mode(env, example.sql), dict(sorted(kinds.items())), first)


def run_all(names: list[str], directory: Path) -> dict[str, Changelog]:
    env = local_check.views("lesson15-joins", job.build, directory)
    return {name: run(env, EXAMPLES[name]) for name in names}


def report(name: str, changelog: Changelog) -> str:
    example = EXAMPLES[name]
    kinds = ", ".join(f"{kind} {count}" for kind, count in changelog.kinds.items())
    return "\n".join([f"{name}: {example.kind}, {example.join} join; changelog mode [{changelog.mode}]",
                      f"this run emitted: {kinds}", *changelog.first])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flink_jobs.lesson15_joins.semantics",
                                     description="Run join examples on a small local data set and print their changelogs.")
    parser.add_argument("examples", nargs="*", choices=[[], *EXAMPLES], metavar="EXAMPLE",
                        help=f"one or more of: {', '.join(EXAMPLES)} (default: all)")
    names = parser.parse_args(argv).examples or list(EXAMPLES)
    with tempfile.TemporaryDirectory() as directory:
        for name, changelog in run_all(names, Path(directory)).items():
            print(report(name, changelog), end="\n\n")


if __name__ == "__main__":
    main()
