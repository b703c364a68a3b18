"""Savepoint retention: which catalogued savepoints expire."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from streamlab.jobs import ops

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def row(tmp_path, job: str, age_h: int, good: bool = True) -> dict:
    path = tmp_path / f"{job}-{age_h}"
    path.mkdir()
    if good:
        (path / "_metadata").write_bytes(b"x")
    return {"job": job, "path": str(path), "taken_at": NOW - timedelta(hours=age_h)}


def test_beyond_max_count_expires(tmp_path):
    rows = [row(tmp_path, "a", h) for h in (1, 2, 3)] + [row(tmp_path, "b", 5)]
    assert ops.expired(rows, ops.Retention(max_count=2), NOW) == [rows[2]["path"]]


def test_too_old_expires_but_the_newest_good_one_stays(tmp_path):
    rows = [row(tmp_path, "a", h) for h in (200, 300)]
    assert ops.expired(rows, ops.Retention(max_age=timedelta(hours=100)), NOW) == [rows[1]["path"]]


def test_a_broken_newest_does_not_protect_itself(tmp_path):
    rows = [row(tmp_path, "a", 1, good=False), row(tmp_path, "a", 2)]
    assert ops.expired(rows, ops.Retention(max_count=1), NOW) == [rows[0]["path"]]
