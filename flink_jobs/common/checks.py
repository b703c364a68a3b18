"""SQL conditions that test a parsed record's text columns against the event rules
(streamlab.wire.events).

A record's fields arrive as text (``JSON_FIELDS``, see ``streams.FIELDS``), so every
rule is a plain comparison or regular expression over a named column and none can throw: a
number written as a string, a missing field or a field of the wrong JSON type is judged, never
cast first. An array's field is one text per element, joined to match the whole list at once
(SQL has no "every element" predicate).
"""

from __future__ import annotations

from flink_jobs.common.kafka_ddl import interval
from streamlab.wire.events import EARLIEST_TS_MS, MAX_AHEAD_MS

LAST_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def missing(column: str) -> str:
    return f"COALESCE({column}, '') = ''"


def not_matching(column: str, regex: str) -> str:
    return f"NOT REGEXP(COALESCE({column}, ''), '{regex}')"


def not_one_of(column: str, values: list[str]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IS NULL OR {column} NOT IN ({listed})"


def any_element_not_matching(array: str, regex: str) -> str:
    """True unless every element of the text array matches ``regex`` (a NULL element never does)."""
    return f"NOT REGEXP(COALESCE(ARRAY_JOIN({array}, ',', '<null>'), ''), '^(?:{regex})(?:,(?:{regex}))*$')"


# --8<-- [start:envelope_rules]
def envelope_rules(id_columns: list[str]) -> list[tuple[str, str]]:
    """The rules every event shares: a JSON object, schema version 1, ids, and an event time
    within the bounds of ``streamlab.wire.events`` (``src_timestamp`` is the broker's append time)."""
    event_time = "TO_TIMESTAMP_LTZ(TRY_CAST(ts_ms AS BIGINT), 3)"
    return [
        ("doc IS NULL", "not a JSON object"),
        ("schema_version IS DISTINCT FROM '1'", "unsupported schema_version"),
        *[(missing(column), f"missing {column}") for column in id_columns],
        (not_matching("ts_ms", "^[0-9]{1,15}$"), "ts_ms is not a non-negative integer"),
        (f"TRY_CAST(ts_ms AS BIGINT) < {EARLIEST_TS_MS}", "ts_ms is before 2000-01-01"),
        # Flink's timestamps end with the year 9999 (TO_TIMESTAMP_LTZ is NULL after it), and so
        # does any append time: a later ts_ms is ahead of it too.
        (f"TRY_CAST(ts_ms AS BIGINT) > {LAST_TIMESTAMP_MS} OR {event_time} > src_timestamp + "
         f"{interval(MAX_AHEAD_MS // 1000)}", "ts_ms is over an hour ahead of its Kafka timestamp"),
    ]
# --8<-- [end:envelope_rules]


# --8<-- [start:first_failure]
def first_failure(rules: list[tuple[str, str]]) -> str:
    """A CASE yielding the reason of the first failing (condition, reason) rule, else NULL."""
    whens = "\n    ".join(f"WHEN {condition} THEN '{reason}'" for condition, reason in rules)
    return f"CASE\n    {whens}\n    ELSE CAST(NULL AS STRING)\n  END"
# --8<-- [end:first_failure]
