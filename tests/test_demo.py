"""`make demo`'s command end to end on the session platform, twice (the second reuses)."""

from __future__ import annotations

import pytest

from conftest import streamlab

pytestmark = pytest.mark.platform


def test_demo_reconciles_and_is_idempotent(platform):
    first = streamlab(platform, "demo")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "generating 20000 events" in first.stdout
    assert "RESULT: every output equals the oracle" in first.stdout
    assert "dead-letter" in first.stdout and "bots filtered" in first.stdout
    assert first.stdout.count("input and outputs balance") == 1  # lesson14's split adds up
    assert "DOES NOT balance" not in first.stdout
    assert "paid within 15 min" in first.stdout and "alerts: two-countries" in first.stdout
    assert "never fired" not in first.stdout
    assert "store customer-orders:" in first.stdout and "over customers = " in first.stdout
    assert "DRILL taskmanager-kill: recovered in" in first.stdout
    assert "0 missing, 0 unexpected -> PASSED" in first.stdout

    second = streamlab(platform, "demo", "--no-drill")  # the drill is the first run's
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "reusing them" in second.stdout and "DRILL" not in second.stdout
    assert "RESULT: every output equals the oracle" in second.stdout
