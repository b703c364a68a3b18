"""The analysts' DuckDB warehouse: one writer file, and a published read replica.

DuckDB lets a single process write a database file and, while it does, nobody else may open
it — not even to read. So writers (the loader, the operations catalog) work on a private
``primary.duckdb``, one at a time under a file lock, each in one transaction. After every
commit the primary is checkpointed and copied to ``streamlab.duckdb`` by an atomic rename:
the replica analysts, ``streamlab sql``, Great Expectations and the ``duckdb`` CLI open.

* Readers never wait for the writer and never see half a batch: a published file holds only
  committed transactions, and a reader that opened the previous copy keeps reading it whole.
* The writer never waits for an analyst's long query or open shell.
* Both files are written in storage format v1.0.0, which the 1.x ``duckdb`` CLI reads.

The package holds the rest of the warehouse: its tables (``marts``), the exactly-once landing
of topics (``loader``), analysts' queries (``analyst``), and its checks: Great Expectations'
suites and checkpoint (``suites``, ``quality``, ``data_docs``) and the marts reconciled with
the raw input (``reconcile``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from streamlab.config import Settings
from streamlab.errors import UserError

STORAGE = {"storage_compatibility_version": "v1.0.0"}


def directory(settings: Settings) -> Path:
    return settings.state / "warehouse"


def replica_path(settings: Settings) -> Path:
    """The file analysts open (read-only)."""
    return directory(settings) / "streamlab.duckdb"


def primary_path(settings: Settings) -> Path:
    return directory(settings) / "primary.duckdb"


@contextmanager
def _writer_lock(settings: Settings, timeout_s: float) -> Iterator[None]:
    """One writer at a time, across processes; the kernel drops the lock if its holder dies."""
    directory(settings).mkdir(parents=True, exist_ok=True)
    with open(directory(settings) / "writer.lock", "w") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UserError(f"another writer held the warehouse for {timeout_s:.0f}s; "
                                    f"see {directory(settings) / 'writer.lock'}") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _publish(settings: Settings) -> None:
    """Copy the (checkpointed, closed) primary over the replica in one rename."""
    staging = directory(settings) / f".streamlab.duckdb.{os.getpid()}"
    shutil.copyfile(primary_path(settings), staging)
    with open(staging, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staging, replica_path(settings))


@contextmanager
def writer(settings: Settings, timeout_s: float = 120.0,
           after_commit: Callable[[], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the primary inside one transaction; on success it commits and publishes.

    A crash anywhere inside leaves the primary as it was (DuckDB rolls the open transaction
    back) and the replica as last published; the next writer publishes again.
    """
    with _writer_lock(settings, timeout_s):
        primary = primary_path(settings)
        if not primary.exists() and replica_path(settings).exists():
            shutil.copyfile(replica_path(settings), primary)  # a state dir from before the replica
        con = duckdb.connect(str(primary), config=STORAGE)
        try:
            con.execute("BEGIN TRANSACTION")
            yield con
            con.execute("COMMIT")
            if after_commit:
                after_commit()
            con.execute("CHECKPOINT")  # everything in the main file, nothing left in the WAL
        except BaseException:
            con.close()
            raise
        con.close()
        _publish(settings)


@contextmanager
def reader(settings: Settings, path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the replica (or to ``path``, e.g. a copy under test)."""
    target = path or replica_path(settings)
    if not target.exists():
        raise UserError(f"no warehouse at {target} yet: run `streamlab load` first")
    con = duckdb.connect(str(target), read_only=True)
    try:
        yield con
    finally:
        con.close()


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists, as a table or a view."""
    return bool(con.execute(
        "SELECT count(*) FROM (SELECT schema_name, table_name FROM duckdb_tables()"
        " UNION ALL SELECT schema_name, view_name FROM duckdb_views()) WHERE schema_name = ? AND table_name = ?",
        [schema, table]).fetchall()[0][0])
