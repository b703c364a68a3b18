"""SQL expressions that test a JSON document against the event rules (streamlab.events).

They only use functions that never throw on bad input: JSON_VALUE returns text (a typed
``RETURNING INT`` raises a ClassCastException on a string value in Flink 2.2), JSON path
filter expressions are unavailable (their JSON library is not shipped), so arrays are checked
by joining the values of one field and matching the whole list with a regular expression.
"""

from __future__ import annotations


def text(doc: str, path: str) -> str:
    return f"JSON_VALUE({doc}, '{path}')"


def missing(doc: str, path: str) -> str:
    return f"COALESCE({text(doc, path)}, '') = ''"


def not_matching(doc: str, path: str, regex: str) -> str:
    return f"NOT REGEXP(COALESCE({text(doc, path)}, ''), '{regex}')"


def array(doc: str, path: str) -> str:
    return f"JSON_QUERY({doc}, '{path}' RETURNING ARRAY<STRING>)"


def any_element_not_matching(doc: str, array_path: str, field: str, regex: str) -> str:
    """True unless every element of the array has ``field`` matching ``regex``."""
    values = array(doc, f"{array_path}[*].{field}")
    return (
        f"(CARDINALITY({values}) IS DISTINCT FROM CARDINALITY({array(doc, array_path)})"
        f" OR NOT REGEXP(ARRAY_JOIN({values}, ',', '<null>'), '^(?:{regex})(?:,(?:{regex}))*$'))"
    )


# --8<-- [start:envelope_rules]
def envelope_rules(doc: str, id_fields: list[str]) -> list[tuple[str, str]]:
    """The rules every event shares: a JSON object, schema version 1, ids, event time."""
    return [
        (f"NOT ({doc} IS JSON OBJECT)", "not a JSON object"),
        (f"{text(doc, '$.schema_version')} IS DISTINCT FROM '1'", "unsupported schema_version"),
        *[(missing(doc, f"$.{field}"), f"missing {field}") for field in id_fields],
        (not_matching(doc, "$.ts_ms", "^[0-9]{1,15}$"), "ts_ms is not a non-negative integer"),
    ]
# --8<-- [end:envelope_rules]


# --8<-- [start:first_failure]
def first_failure(rules: list[tuple[str, str]]) -> str:
    """A CASE yielding the reason of the first failing (condition, reason) rule, else NULL."""
    whens = "\n    ".join(f"WHEN {condition} THEN '{reason}'" for condition, reason in rules)
    return f"CASE\n    {whens}\n    ELSE CAST(NULL AS STRING)\n  END"
# --8<-- [end:first_failure]
