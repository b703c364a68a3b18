"""`streamlab sql`: analysts' queries against the published warehouse, as a table, CSV or JSON,
or an interactive ``duckdb`` shell on it."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
from pathlib import Path

import duckdb

from streamlab import warehouse
from streamlab.config import Settings
from streamlab.errors import UserError

FORMATS = ("table", "csv", "json")


def run_query(settings: Settings, sql: str, path: Path | None = None) -> tuple[list[str], list[tuple]]:
    """The columns and rows of one read-only query; a SQL mistake is a one-line ``UserError``."""
    with warehouse.reader(settings, path) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as err:
            raise UserError(f"SQL failed: {str(err).splitlines()[0]}") from None
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()


def _cell(value: object) -> str:
    return "NULL" if value is None else str(value)


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(columns, row)) for row in rows], default=str, indent=1)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        return out.getvalue().rstrip("\n")
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    body = [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]
    return "\n".join(body + [f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


def cli_binary() -> Path:
    """The ``duckdb`` CLI installed next to this Python (PyPI ``duckdb-cli``)."""
    found = Path(sys.executable).parent / "duckdb"
    if found.exists():
        return found
    which = shutil.which("duckdb")
    if which is None:
        raise UserError("the duckdb CLI is not installed: run `make setup` (it installs duckdb-cli)")
    return Path(which)


def shell(settings: Settings) -> None:
    """Replace this process with the ``duckdb`` CLI on the replica, read-only."""
    replica = warehouse.replica_path(settings)
    if not replica.exists():
        raise UserError(f"no warehouse at {replica} yet: run `streamlab load` first")
    binary = cli_binary()
    os.execv(binary, [str(binary), "-readonly", str(replica)])
