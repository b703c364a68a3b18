"""Expectation suites as code: what every mart table must satisfy.

Rules are plain data (``streamlab.wire.expectations``) and become Great Expectations
expectations in ``streamlab.warehouse.quality``. Each mart table has a suite: a lesson's marts
take theirs from its contract, the late events and the dead letter have theirs here, and the
reconciliation suite checks the marts against the raw input (see ``streamlab.warehouse.reconcile``).
"""

from __future__ import annotations

from streamlab import lessons
from streamlab.data import topics
from streamlab.warehouse.marts import LATE_JOB
from streamlab.wire.expectations import Rule, after, allowed, not_null, unique

RAW_TOPICS = [t.name for t in topics.RAW]

# Each lesson's marts promise what its contract says (Mart.expects); the platform's own tables here.
SUITES: dict[str, list[Rule]] = {
    **{f"marts.{output.mart.name}": list(output.mart.expects)
       for lesson in lessons.ALL for output in lesson.outputs if output.mart},
    "marts.late_events": [
        *not_null("job", "origin", "id", "ts_time", "source_topic", "source_partition", "source_offset"),
        allowed("job", sorted(set(LATE_JOB.values()))),
        allowed("origin", ["orders", "payments", "session-orders", "session-clicks"]),
        # an order can be late for its 1-minute window and for its session: two rows, two origins
        unique("job", "origin", "source_topic", "source_partition", "source_offset"),
        after("missed_window_end", "missed_window_start"),
    ],
    "marts.dead_letters": [
        *not_null("job", "reason", "source_topic", "source_partition", "source_offset"),
        allowed("job", [lesson.name for lesson in lessons.ALL if lesson.dead_letter]), allowed("source_topic", RAW_TOPICS),
        unique("source_topic", "source_partition", "source_offset"),  # each rejected record once
    ],
    "reconciliation": [*not_null("warehouse_value", "oracle_value"),
                       Rule("reconcile", ("warehouse_value", "oracle_value"))],
}
