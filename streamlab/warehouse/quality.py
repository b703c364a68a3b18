"""`streamlab validate`: the marts through one Great Expectations checkpoint.

GX's SQL datasource returns nothing on DuckDB (it closes the connection before fetching),
so each mart table is exported from the published warehouse to Parquet and validated as a
pandas batch; every row carries a ``row_id`` (its Kafka origin, or its key) so a failure
names the rows. Results go to ``ops.validations``; Data Docs to ``<state>/gx/data-docs``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # before GX is imported: no usage stats sent

import duckdb  # noqa: E402
import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from streamlab import warehouse
from streamlab.config import Settings  # noqa: E402
from streamlab.errors import UserError  # noqa: E402
from streamlab.warehouse import data_docs, reconcile, suites
from streamlab.wire.expectations import Rule  # noqa: E402

SITE = "streamlab"
SAMPLE = 3
KEEP_RUNS = 20  # validation results kept per suite (and shown in the Data Docs)
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"],
                 "partial_unexpected_count": SAMPLE}
OPS_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.validations (
  run_id VARCHAR NOT NULL,
  validated_at TIMESTAMPTZ NOT NULL,
  table_name VARCHAR NOT NULL,
  rule VARCHAR NOT NULL,             -- not_null, range, order, unique, allowed, reconcile
  expectation VARCHAR NOT NULL,      -- the GX expectation type
  columns VARCHAR NOT NULL,
  success BOOLEAN NOT NULL,
  rows_checked BIGINT NOT NULL,
  unexpected BIGINT NOT NULL,
  sample JSON                        -- a few bad rows: row_id and the values checked
);
"""


class ValidationFailed(UserError):
    """An expectation failed; the message names the table, column, rule and bad rows."""


@dataclass(frozen=True)
class Finding:
    table: str
    rule: Rule
    expectation: str
    success: bool
    rows: int
    unexpected: int
    sample: list[dict]

    def describe(self) -> str:
        rows = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in self.sample)
        return (f"{self.table}: [{self.rule.kind}] {self.rule.describe()} -- failed on {self.unexpected} of "
                f"{self.rows} rows, e.g. {rows}")


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    docs: Path | None = None
    external: list[str] = field(default_factory=list)  # resources the Data Docs still fetch
    seconds: float = 0.0

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.success]

    @property
    def verdict(self) -> str:
        return "FAILED" if self.failures else "PASSED"

    def describe(self) -> str:
        tables = len({f.table for f in self.findings})
        head = (f"VALIDATION {self.verdict}: {len(self.findings) - len(self.failures)} of {len(self.findings)} "
                f"expectations met over {tables} tables ({self.seconds:.1f}s)")
        lines = [head, *(f"  {f.describe()}" for f in self.failures)]
        if self.docs:
            offline = "viewable offline" if not self.external else f"still loads {', '.join(self.external)}"
            lines.append(f"  Data Docs: {self.docs} ({offline})")
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        if self.failures:
            raise ValidationFailed("\n".join(f.describe() for f in self.failures))


def expectation(rule: Rule, index: int) -> gxe.Expectation:
    """The GX expectation for ``rule``; ``meta.rule`` maps its result back (GX reorders them)."""
    made = _expectation(rule)
    made.meta = {"rule": index}
    return made


def _expectation(rule: Rule) -> gxe.Expectation:
    match rule.kind:
        case "not_null":
            return gxe.ExpectColumnValuesToNotBeNull(column=rule.columns[0])
        case "range":
            return gxe.ExpectColumnValuesToBeBetween(column=rule.columns[0], min_value=rule.low,
                                                     max_value=rule.high)
        case "order":
            return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=rule.columns[0], column_B=rule.columns[1], or_equal=rule.or_equal)
        case "unique" if len(rule.columns) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=rule.columns[0])
        case "unique":
            return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(rule.columns))
        case "allowed":
            return gxe.ExpectColumnValuesToBeInSet(column=rule.columns[0], value_set=list(rule.values))
        case "reconcile":
            return gxe.ExpectColumnPairValuesToBeEqual(column_A=rule.columns[0], column_B=rule.columns[1])
    raise ValueError(rule.kind)


def _row_id(con: duckdb.DuckDBPyConnection, table: str) -> str:
    schema, name = table.split(".")
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?", [schema, name]
    ).fetchall()]
    if "kafka_offset" in columns:
        return "kafka_topic || ':' || kafka_partition || '@' || kafka_offset"
    return columns[0]  # a store's key


def export(source: Path, batches: Path) -> None:
    """Each suite's table (only the columns its rules read) as Parquet, plus the reconciliation."""
    shutil.rmtree(batches, ignore_errors=True)
    batches.mkdir(parents=True)
    con = duckdb.connect(str(source), read_only=True)
    try:
        for table, rules in suites.SUITES.items():
            if table == "reconciliation":
                continue
            columns = sorted({c for rule in rules for c in rule.columns})
            con.execute(f"COPY (SELECT {_row_id(con, table)} AS row_id, {', '.join(columns)} FROM {table}) "
                        f"TO '{batches / (table + '.parquet')}' (FORMAT parquet)")
    finally:
        con.close()
    frame = reconcile.frame(source).rename(columns={"check": "row_id"})
    frame.to_parquet(batches / "reconciliation.parquet", index=False)


def _context(root: Path, docs: Path) -> gx.data_context.AbstractDataContext:
    context = gx.get_context(mode="file", context_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    site = {"class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)}}
    if SITE in context.get_site_names():
        context.update_data_docs_site(SITE, site)
    else:
        context.add_data_docs_site(SITE, site)
    if "local_site" in context.get_site_names():
        context.delete_data_docs_site("local_site")
    return context


def run_checkpoint(root: Path, build_docs: bool) -> Outcome:
    """Suites from ``streamlab.warehouse.suites`` (re-created every run: code is their source of truth),
    one checkpoint over every exported batch."""
    batches, docs = root / "batches", root / "data-docs"
    context = _context(root, docs)
    try:
        context.data_sources.delete("warehouse")
    except (KeyError, ValueError, LookupError):
        pass
    source = context.data_sources.add_pandas_filesystem(name="warehouse", base_directory=str(batches))
    definitions = []
    for table, rules in suites.SUITES.items():
        batch = source.add_parquet_asset(name=table).add_batch_definition_path(name=table, path=f"{table}.parquet")
        suite = context.suites.add_or_update(gx.ExpectationSuite(
            name=table, expectations=[expectation(rule, i) for i, rule in enumerate(rules)]))
        definitions.append(context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=table, data=batch, suite=suite)))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name="marts", validation_definitions=definitions, result_format=RESULT_FORMAT))
    result = checkpoint.run()
    outcome = Outcome()
    for run in result.run_results.values():
        rules = suites.SUITES[run.suite_name]
        for found in run.results:
            rule, res = rules[int(found.expectation_config.meta["rule"])], found.result
            sample = [{k: _plain(v) for k, v in row.items()}
                      for row in (res.get("unexpected_index_list") or [])[:SAMPLE]]
            outcome.findings.append(Finding(
                run.suite_name, rule, found.expectation_config.type, bool(found.success),
                int(res.get("element_count") or 0), int(res.get("unexpected_count") or 0), sample))
    if build_docs:
        _prune(root / "uncommitted" / "validations", docs / "validations")
        context.build_data_docs(site_names=[SITE])
        outcome.external = data_docs.localise(docs)
        outcome.docs = docs / "index.html"
    return outcome


def _prune(results: Path, pages: Path) -> None:
    """Keep each suite's newest ``KEEP_RUNS`` results, and rebuild their pages from scratch:
    a DAG validating every 10 minutes must not grow the site (and its build time) forever."""
    for runs in results.rglob("__none__"):
        for old in sorted(p for p in runs.iterdir() if p.is_dir())[:-KEEP_RUNS]:
            shutil.rmtree(old)
    shutil.rmtree(pages, ignore_errors=True)


def _plain(value: object) -> object:
    """JSON-ready: numpy scalars and timestamps as plain values, NaN (pandas' NULL) as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def validate(settings: Settings, source: Path | None = None, build_docs: bool = True) -> Outcome:
    """Validate the published warehouse (or ``source``, a copy under test: nothing recorded)."""
    target = source or warehouse.replica_path(settings)
    if not target.exists():
        raise UserError(f"no warehouse at {target} yet: run `streamlab load` first")
    started = time.monotonic()
    root = settings.state / ("gx" if source is None else "gx-copies")  # a copy's results stay apart
    export(target, root / "batches")
    outcome = run_checkpoint(root, build_docs)
    outcome.seconds = time.monotonic() - started
    if source is None:
        _record(settings, outcome)
    return outcome


def _record(settings: Settings, outcome: Outcome) -> None:
    run_id, now = uuid.uuid4().hex[:12], datetime.now(timezone.utc)
    with warehouse.writer(settings) as con:
        con.execute(OPS_SCHEMA)
        con.executemany("INSERT INTO ops.validations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            [run_id, now, f.table, f.rule.kind, f.expectation, ",".join(f.rule.columns), f.success, f.rows,
             f.unexpected, json.dumps(f.sample, default=str)] for f in outcome.findings])


def run_cli(settings: Settings, docs: bool = True, source: Path | None = None) -> int:
    outcome = validate(settings, source.resolve() if source else None, build_docs=docs)
    print(outcome.describe())
    return 0 if not outcome.failures else 1
