"""The lessons' exercises as the site shows them, read from their code, never retyped.

A lesson's ``flink_jobs/<folder>/exercise.py`` lists its ``EXERCISES`` (name, the job's part,
the outputs it decides) and holds each part's stub under the part's upper-cased name, with the
problem statement in the comment above it. The suite (``tests/test_exercises.py``) and the site
both take the list from here. ``section`` renders one exercise for its concept page:
the statement and stub as in the file, the command that checks it, and the solution (the job's
query, as it runs) folded away.
"""

from __future__ import annotations

import ast
import importlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from streamlab import lessons
from streamlab.errors import UserError

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Listed:
    """An exercise of a lesson: ``exercise`` is its entry in ``EXERCISES`` (``name``, ``part``,
    ``outputs``: ``flink_jobs.local_check.Exercise``)."""

    lesson: str
    exercise: Any

    @property
    def name(self) -> str:
        return self.exercise.name

    @property
    def part(self) -> str:
        return self.exercise.part


def _module_path(key: str, name: str) -> Path:
    return lessons.JOBS_DIR / lessons.get(key).folder / f"{name}.py"


def module(key: str, name: str) -> ModuleType:
    """``flink_jobs/<lesson folder>/<name>.py`` (``job``, ``exercise``, ...), imported."""
    with warnings.catch_warnings():  # PyFlink's deprecation notices, raised on import
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module(f"flink_jobs.{lessons.get(key).folder}.{name}")


def listed(key: str) -> list[Listed]:
    """The exercises of lesson ``key``, in the order its ``exercise.py`` lists them (none
    when it has no such file)."""
    if not _module_path(key, "exercise").is_file():
        return []
    return [Listed(key, exercise) for exercise in module(key, "exercise").EXERCISES]


def every() -> list[Listed]:
    return [exercise for lesson in lessons.ALL for exercise in listed(lesson.key)]


def find(key: str, name: str) -> Listed:
    known = listed(lessons.get(key).key)
    for exercise in known:
        if exercise.name == name:
            return exercise
    raise UserError(f"lesson {key} has no exercise '{name}': choose one of {', '.join(e.name for e in known)}")


def stub_source(exercise: Listed) -> str:
    """The stub's assignment in ``exercise.py``, with the comment lines (its statement) above it."""
    path = _module_path(exercise.lesson, "exercise")
    lines = path.read_text().splitlines()
    for node in ast.parse(path.read_text()).body:
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == exercise.part.upper()):
            start = node.lineno - 1
            while start > 0 and lines[start - 1].startswith("#"):
                start -= 1
            return "\n".join(lines[start:node.end_lineno])
    raise UserError(f"{path.relative_to(REPO)} has no {exercise.part.upper()}")


def solution(exercise: Listed) -> str:
    """The job's query for the part: the SQL that runs, as the job builds it."""
    return exercise.exercise.query(module(exercise.lesson, "job")).strip("\n")


def command(exercise: Listed) -> str:
    return f"make exercise LESSON={exercise.lesson} EXERCISE={exercise.name}"


def pages(docs: Path, marker: re.Pattern[str]) -> dict[tuple[str, str], str]:
    """The page (relative to ``docs``) that holds each exercise's ``marker``."""
    return {(match["lesson"], match["name"]): page.relative_to(docs).as_posix()
            for page in sorted(docs.rglob("*.md")) for match in marker.finditer(page.read_text())}


def table(on_pages: dict[tuple[str, str], str], path: list[str]) -> str:
    """Every exercise in the order of ``path`` (the site's pages, as the learner meets them):
    where it is and the command that checks it."""
    ordered = sorted(every(), key=lambda e: path.index(on_pages[(e.lesson, e.name)]))
    rows = [f"| `{e.lesson}` | [{e.name}]({on_pages[(e.lesson, e.name)]}) | `{e.part.upper()}` | `{command(e)}` |"
            for e in ordered]
    return "| Lesson | Exercise | You write | Check it |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"


def section(key: str, name: str) -> str:
    """The markdown of one exercise, for its concept page."""
    exercise = find(key, name)
    folder = lessons.get(key).folder
    solution_sql = "\n".join(f"    {line}" if line else "" for line in solution(exercise).splitlines())
    return f"""## Exercise: {name}

Write `{exercise.part.upper()}` in `flink_jobs/{folder}/exercise.py`: replace its `TODO` with Flink SQL.

```python
{stub_source(exercise)}
```

Then check it:

```bash
{command(exercise)}
```

The real job runs with your query in its place, in a local PyFlink (no Kafka, no cluster), on a
small data set with disorder, late and malformed records, and its output is compared row for row
with the lesson's DuckDB oracle. It takes about a minute; a difference prints the rows that differ.
The placeholder runs and gives wrong rows, so the check fails until you solve it.

??? success "Solution: the job's `{exercise.part.upper()}` (open it after you try)"

    ```sql
{solution_sql}
    ```
"""
