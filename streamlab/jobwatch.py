"""Waiting for a streaming job to catch up with its input, and for its output to settle."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from streamlab import kafka_io
from streamlab.config import Settings
from streamlab.errors import UserError
from validation.oracle import TopicCheck


def wait_caught_up(
    settings: Settings,
    group_id: str,
    input_topics: list[str],
    timeout_s: float = 300.0,
    echo: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
    poll_s: float = 1.0,
) -> None:
    """Until the job's group has committed the end offset of every input partition.

    Flink commits source offsets when a checkpoint completes, so this also means the
    outputs of everything read so far belong to a completed checkpoint. ``progress`` is told
    the input records committed so far at every poll (the benchmark times a drain with it).
    """
    ends = kafka_io.end_offsets(settings.bootstrap_servers, input_topics)
    total = sum(ends.values())
    deadline = time.monotonic() + timeout_s
    last_report = 0.0
    while True:
        committed = kafka_io.committed_offsets(settings.bootstrap_servers, group_id, input_topics)
        done = sum(min(max(committed.get(tp, 0), 0), end) for tp, end in ends.items())
        if progress:
            progress(done)
        if done >= total:
            return
        if echo and time.monotonic() - last_report > 5:
            echo(f"   processed {done}/{total} input records")
            last_report = time.monotonic()
        if time.monotonic() > deadline:
            raise UserError(
                f"{group_id} processed {done} of {total} input records in {timeout_s:.0f}s; "
                "check `streamlab status` and the Flink UI"
            )
        time.sleep(poll_s)


def wait_exact(
    check: Callable[[], Sequence[TopicCheck]], timeout_s: float = 60.0
) -> Sequence[TopicCheck]:
    """Re-check until every topic equals the oracle or time runs out; return the last checks.

    Retrying cannot hide a duplicate: a row written twice never disappears from a topic.
    It only waits for transactions that commit a moment after the source offsets.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        checks = check()
        if all(c.exact for c in checks) or time.monotonic() > deadline:
            return checks
        time.sleep(2.0)
