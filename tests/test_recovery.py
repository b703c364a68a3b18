"""Exactly-once through a crash, for every Lesson 15 job at once: kill -9 the TaskManager
while they work through new data (the windows job, which reads the most, is part-way through
it), start a new one, and every output of every job still equals its oracle — nothing lost,
nothing twice, the same late records."""

from __future__ import annotations

import pytest

from conftest import assert_exact, kill_taskmanager_mid_run
from streamlab import deploy, generator, jobwatch
from validation import (
    lesson15_aggregations, lesson15_alerts, lesson15_joins, lesson15_trading_periods, lesson15_windows,
)

pytestmark = pytest.mark.platform

ORACLES = {
    "lesson15-windows": lesson15_windows.check,
    "lesson15-joins": lesson15_joins.check,
    "lesson15-aggregations": lesson15_aggregations.check,
    "lesson15-trading-periods": lesson15_trading_periods.check,
    "lesson15-alerts": lesson15_alerts.check,
}
# After every other data set of the session (the last, 2026-06-02, is the windows module's).
MORE = generator.GeneratorSpec(seed=1599, count=15_000, start_ms=1_782_864_000_000,  # 2026-07-01
                               late_fraction=0.05, malformed_fraction=0.03, fraud_fraction=0.02)


def test_every_lesson15_job_is_exact_after_a_taskmanager_kill(platform):
    for key in ORACLES:
        deploy.deploy(platform, key)  # a no-op for the jobs earlier modules deployed
    # The windows job reads the most (clicks): kill while it is part-way; the others are too.
    windows = deploy.job_spec("lesson15-windows")
    kill_taskmanager_mid_run(platform, windows.name, list(windows.inputs), MORE)
    for key, check in ORACLES.items():
        spec = deploy.job_spec(key)
        jobwatch.wait_caught_up(platform, spec.name, list(spec.inputs), timeout_s=600)
        assert_exact(jobwatch.wait_exact(lambda check=check: check(platform.bootstrap_servers)))
