"""Reading a record's bytes without trusting them.

Any bytes can land in any topic, so every tool that reads one (``generate``, ``query``, the
dashboard, the drills) decodes through here: a value that is not a JSON object comes back as
``None`` — never an exception, whatever it holds: invalid UTF-8, trailing data, or arrays
nested deeper than Python's recursion limit (``json`` raises ``RecursionError`` there).
"""

from __future__ import annotations

import json
from typing import Any


def json_object(value: bytes | None) -> dict[str, Any] | None:
    """The value as a JSON object, or ``None`` when it is anything else (or a tombstone)."""
    if value is None:
        return None
    try:
        doc = json.loads(value)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return doc if isinstance(doc, dict) else None


def is_int(value: object) -> bool:
    """An integer, as JSON means it (``True`` is an ``int`` to Python, not to JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


def has_shape(row: dict[str, Any], shape: dict[str, type]) -> bool:
    """True when each field of ``shape`` is present with its type (``int`` excludes booleans)."""
    return all(is_int(row.get(name)) if kind is int else isinstance(row.get(name), kind)
               for name, kind in shape.items())
