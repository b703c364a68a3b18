"""An analyst in a second process: query the published warehouse in a loop while the loader
writes, and report (one JSON line) whether any query failed, waited, or saw half a batch.

A snapshot is whole when the rows of every table add up to the records ``ops.loads`` says
its batches committed: a half-written batch would break that sum.

Usage: python warehouse_reader.py WAREHOUSE_FILE SECONDS
"""

from __future__ import annotations

import json
import sys
import time

import duckdb

from streamlab.warehouse import marts


def snapshot(path: str) -> tuple[int, int, int]:
    """(newest load id, rows committed per ops.loads, rows present), in one connection."""
    with duckdb.connect(path, read_only=True) as con:
        loads, committed = con.execute("SELECT max(load_id), sum(records) FROM ops.loads").fetchall()[0]
        present = sum(con.execute(f"SELECT count(*) FROM {t.qualified}").fetchall()[0][0] for t in marts.TABLES)
    return loads, committed, present


def main(path: str, seconds: float) -> None:
    report = {"queries": 0, "failures": [], "partial": [], "load_ids": [], "slowest_s": 0.0}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            load_id, committed, present = snapshot(path)
        except duckdb.Error as err:
            report["failures"].append(str(err).splitlines()[0])
            continue
        report["slowest_s"] = max(report["slowest_s"], time.monotonic() - started)
        report["queries"] += 1
        if committed != present:
            report["partial"].append([load_id, committed, present])
        if load_id not in report["load_ids"]:
            report["load_ids"].append(load_id)
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
