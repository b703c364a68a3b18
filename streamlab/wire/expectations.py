"""What a table's rows promise, as plain data: each rule is one kind of promise (a column is
set, in a range, before another, unique, one of a list, equal to the oracle's figure).

A lesson's contract says what its marts promise (``Mart.expects``); the warehouse turns the
rules into Great Expectations expectations (``streamlab.warehouse.quality``).
"""

from __future__ import annotations

from dataclasses import dataclass

from streamlab.wire import events

RULE_CLASSES = ("not_null", "range", "order", "unique", "allowed", "reconcile")


@dataclass(frozen=True)
class Rule:
    kind: str  # one of RULE_CLASSES
    columns: tuple[str, ...]
    low: float | None = None  # range
    high: float | None = None
    values: tuple[str, ...] = ()  # allowed
    or_equal: bool = False  # order: columns[0] >= columns[1] instead of >

    def describe(self) -> str:
        cols = ", ".join(self.columns)
        match self.kind:
            case "range" if self.high is None:
                return f"{cols} >= {self.low:g}"
            case "range":
                return f"{cols} between {self.low:g} and {self.high:g}"
            case "order":
                return f"{self.columns[0]} {'>=' if self.or_equal else '>'} {self.columns[1]}"
            case "unique":
                return f"({cols}) unique"
            case "allowed":
                return f"{cols} in {{{', '.join(self.values)}}}"
            case "reconcile":
                return f"{self.columns[0]} = {self.columns[1]}"
        return f"{cols} not null"


def not_null(*columns: str) -> list[Rule]:
    return [Rule("not_null", (c,)) for c in columns]


def at_least(low: float, *columns: str, high: float | None = None) -> list[Rule]:
    return [Rule("range", (c,), low=low, high=high) for c in columns]


def after(later: str, earlier: str, or_equal: bool = False) -> Rule:
    return Rule("order", (later, earlier), or_equal=or_equal)


def unique(*columns: str) -> Rule:
    return Rule("unique", columns)


def allowed(column: str, values: list[str]) -> Rule:
    return Rule("allowed", (column,), values=tuple(values))


def window(key: str, start: str = "window_start_time", end: str = "window_end_time") -> list[Rule]:
    """What every window result promises: bounds set and ordered, one row per (key, window)."""
    return [*not_null(key, start, end), after(end, start), unique(key, start)]


CATEGORY = allowed("category", events.CATEGORIES)
