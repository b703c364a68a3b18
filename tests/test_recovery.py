"""Recovery drills on the real platform: each fault is injected while all Lesson 15 jobs work
through new data (the windows job, which reads the most, is part-way through it); after it
every output of every job still equals its oracle — nothing lost, nothing twice, the same late
records — and the drill is recorded in ``ops.drills``."""

from __future__ import annotations

import duckdb
import pytest

from conftest import streamlab
from streamlab import drills, ops

pytestmark = pytest.mark.platform


@pytest.mark.parametrize("scenario", ["job-restore", "broker-restart"])  # taskmanager-kill: by the CLI below
def test_drill_loses_and_duplicates_nothing(platform, scenario):
    result = drills.run(platform, scenario)
    assert sum(c.expected for c in result.checks) > 1000  # the drill checked real output
    assert result.exact, [c for c in result.checks if not c.exact]
    assert ops.record_drill(platform, result, threshold_s=300)


def test_drill_command_reports_and_passes(platform):
    result = streamlab(platform, "drill", "taskmanager-kill", "--events", "12000")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "0 missing, 0 unexpected" in result.stdout and "PASSED" in result.stdout


def test_drills_are_recorded(platform):
    with duckdb.connect(str(ops.warehouse_path(platform)), read_only=True) as con:
        rows = con.execute("SELECT scenario, passed, missing, unexpected FROM ops.drills").fetchall()
    assert {row[0] for row in rows} >= {"taskmanager-kill", "job-restore", "broker-restart"}
    assert all(passed and missing == 0 and unexpected == 0 for _, passed, missing, unexpected in rows)
