"""The lessons' registry: every ``flink_jobs/<folder>/contract.py``, found by looking.

This is the one list of lessons. Deploy, the topic catalog, the warehouse, drills, the demo,
the benchmark and the docs take theirs from here, so a lesson is added by adding its folder.
Contracts are plain data: reading them imports no job code and no PyFlink.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from streamlab.errors import UserError
from streamlab.wire.contract import Lesson

JOBS_DIR = Path(__file__).resolve().parent.parent / "flink_jobs"


def _discover() -> tuple[Lesson, ...]:
    found = []
    for folder in sorted(p for p in JOBS_DIR.iterdir() if (p / "contract.py").is_file()):
        lesson = importlib.import_module(f"flink_jobs.{folder.name}.contract").LESSON
        if lesson.folder != folder.name:
            raise RuntimeError(f"flink_jobs/{folder.name}/contract.py declares '{lesson.key}': "
                               f"a lesson's key is its folder's name with dashes")
        found.append(lesson)
    return tuple(found)


ALL = _discover()
BY_KEY = {lesson.key: lesson for lesson in ALL}


def get(key: str) -> Lesson:
    if key not in BY_KEY:
        raise UserError(f"unknown job '{key}': choose one of {', '.join(BY_KEY)}")
    return BY_KEY[key]


def oracle(key: str) -> ModuleType:
    """The lesson's oracle (``flink_jobs/<folder>/oracle.py``): ``check(bootstrap)`` compares
    every output with what the raw input says it should be; ``explain(bootstrap)`` says how the
    input split, for the demo, and whether it balances; a lesson with a Kafka Streams peer has
    ``check_peer(bootstrap)``, which compares the peer's topics with the same expectations."""
    return importlib.import_module(f"flink_jobs.{get(key).folder}.oracle")


def input_groups(keys: Iterable[str]) -> dict[str, list[str]]:
    """Each job's consumer group (its name) and input topics, for ``jobwatch.wait_all_caught_up``."""
    return {get(key).name: list(get(key).inputs) for key in keys}
