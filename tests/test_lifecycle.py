"""A job's life on the real cluster: savepoint, stop with a savepoint, restore, cancel, and a
last-state restore from a retained checkpoint — each time with its state, so the outputs stay
exactly the oracle's (the alerts job's running mean per card would restart without it)."""

from __future__ import annotations

import pytest

from flink_jobs.lesson15_alerts import oracle
from streamlab import lessons
from streamlab.config import Settings
from streamlab.data import generator, producer
from streamlab.jobs import deploy, jobwatch, lifecycle
from conftest import assert_exact

pytestmark = pytest.mark.platform

KEY = "lesson15-alerts"
JOB = lessons.get(KEY)
DAY_MS = 86_400_000
START_MS = 1_781_481_600_000  # 2026-06-15: after the windows module's data, before the recovery test's


def data_set(day: int) -> generator.GeneratorSpec:
    return generator.GeneratorSpec(seed=1560 + day, count=4_000, start_ms=START_MS + day * DAY_MS,
                                   late_fraction=0.05, malformed_fraction=0.03, fraud_fraction=0.03)


def produce_and_check(settings: Settings, day: int) -> None:
    producer.produce(generator.generate(data_set(day)), settings.bootstrap_servers, progress=False)
    jobwatch.wait_caught_up(settings, JOB.name, list(JOB.inputs), timeout_s=600)
    assert_exact(jobwatch.wait_exact(lambda: oracle.check(settings.bootstrap_servers)))


def test_stop_with_savepoint_and_restore_keep_the_state(platform):
    deploy.deploy(platform, KEY)
    produce_and_check(platform, 0)

    point = lifecycle.savepoint(platform, KEY)
    assert (point.path / "_metadata").is_file() and point.size_bytes > 0 and point.trigger == "savepoint"
    assert lifecycle.running_job_id(platform, KEY) == point.job_id  # a savepoint leaves it running

    stopped = lifecycle.stop_with_savepoint(platform, KEY)
    assert stopped.path != point.path and (stopped.path / "_metadata").is_file()
    with pytest.raises(Exception, match="not running"):
        lifecycle.running_job_id(platform, KEY)
    assert lifecycle.newest_savepoint(platform, KEY) == stopped.path

    new_id = lifecycle.restore(platform, KEY, stopped.path)
    assert new_id != stopped.job_id
    produce_and_check(platform, 1)


def test_cancel_and_restore_from_the_last_retained_checkpoint(platform):
    deploy.deploy(platform, KEY)
    lifecycle.cancel(platform, KEY)
    checkpoint = lifecycle.latest_checkpoint(platform, KEY)
    assert checkpoint is not None and (checkpoint / "_metadata").is_file()
    lifecycle.restore(platform, KEY, checkpoint)
    produce_and_check(platform, 2)
    assert lifecycle.checkpoint_history(platform, KEY)
