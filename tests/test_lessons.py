"""The lessons' registry (``streamlab.lessons``) is the one list of lessons: every part that
names jobs takes them from it, so a lesson is added by adding its folder and nothing else."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from streamlab import lessons
from streamlab.apps import demo, docsite
from streamlab.apps.commands import build_parser
from streamlab.data import topics
from streamlab.errors import UserError
from streamlab.warehouse import marts

REPO = Path(__file__).resolve().parent.parent
# What every consumer of the registry says about the lessons, printed by a fresh interpreter
# so a copy of the code can answer for itself.
CONSUMERS = """
import json
from streamlab.apps import demo, docsite
from streamlab.apps.commands import build_parser
from streamlab.data import topics
from streamlab.warehouse import marts, suites

commands = [a for a in build_parser()._actions if a.dest == "command"][0].choices
print(json.dumps({
    "deploy": commands["deploy"]._actions[-1].choices,
    "topics": [t.name for t in topics.CATALOG],
    "late_events": marts.LATE_JOB,
    "marts": {t.qualified: t.ddl().split("(", 1)[1] for t in marts.TABLES},
    "suites": {name: len(rules) for name, rules in suites.SUITES.items()},
    "demo": list(demo.JOBS),
    "jobs_table": docsite.jobs_reference(),
    "state_table": docsite.state_reference(),
}))
"""


def consumers(code_dir: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", CONSUMERS], cwd=code_dir, env={"PYTHONPATH": str(code_dir)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_each_lesson_is_its_folder_with_dashes_and_has_a_job_an_oracle_and_a_test():
    assert [lesson.folder for lesson in lessons.ALL] == sorted(
        path.parent.name for path in (REPO / "flink_jobs").glob("*/contract.py"))
    for lesson in lessons.ALL:
        folder = REPO / "flink_jobs" / lesson.folder
        assert (REPO / lesson.script).is_file() and (folder / "oracle.py").is_file(), lesson.key
        assert (REPO / "tests" / f"test_{lesson.folder}.py").is_file(), lesson.key
        assert callable(lessons.oracle(lesson.key).check) and callable(lessons.oracle(lesson.key).explain)


def test_every_consumer_covers_every_lesson():
    said = consumers(REPO)
    for lesson in lessons.ALL:
        assert lesson.key in said["deploy"] and lesson.key in said["demo"], lesson.key
        assert {output.topic for output in lesson.writes} <= set(said["topics"]), lesson.key
        assert f"| `{lesson.key}` |" in said["jobs_table"] and f"| `{lesson.key}` |" in said["state_table"]
        if lesson.late:
            assert said["late_events"][lesson.late.topic] == lesson.key
        for output in lesson.outputs:  # every output lands in a warehouse table
            assert any(output.topic in table.topics for table in marts.MARTS), output.topic
    # and none lists a job the registry does not have
    assert sorted(said["deploy"]) == sorted(said["demo"]) == sorted(lessons.BY_KEY)


def test_a_copied_lesson_folder_appears_everywhere_with_no_other_edit(tmp_path):
    """Issue 18's acceptance: a new lesson is one folder. Copy one, give it a key and topics of
    its own in its contract, and every consumer lists it."""
    for package in ("streamlab", "flink_jobs", "validation"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    copy = tmp_path / "flink_jobs" / "lesson99_trading_copy"
    shutil.copytree(REPO / "flink_jobs" / "lesson15_trading_periods", copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    contract = copy / "contract.py"
    contract.write_text(re.sub(r"l15-trading", "l99-trading", contract.read_text())
                        .replace('key="lesson15-trading-periods"', 'key="lesson99-trading-copy"')
                        .replace('Mart("trading_periods"', 'Mart("trading_copy"'))

    said = consumers(tmp_path)
    assert "lesson99-trading-copy" in said["deploy"] and "lesson99-trading-copy" in said["demo"]
    assert {"l99-trading-periods", "l99-trading-late"} <= set(said["topics"])
    assert said["late_events"]["l99-trading-late"] == "lesson99-trading-copy"
    assert said["marts"]["marts.trading_copy"] == said["marts"]["marts.trading_periods"]  # same columns
    assert said["suites"]["marts.trading_copy"] == said["suites"]["marts.trading_periods"] > 0  # same promises
    assert ("| `lesson99-trading-copy` | `orders` | `l99-trading-periods`; late: `l99-trading-late` |"
            " `marts.trading_copy` |") in said["jobs_table"]
    assert "| `lesson99-trading-copy` |" in said["state_table"]
    assert len(said["deploy"]) == len(lessons.ALL) + 1


def test_a_contract_whose_key_is_not_its_folder_is_refused(tmp_path):
    for package in ("streamlab", "flink_jobs"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    contract = tmp_path / "flink_jobs" / "lesson16_stores" / "contract.py"
    contract.write_text(contract.read_text().replace('key="lesson16-stores"', 'key="lesson16-store"'))
    result = subprocess.run([sys.executable, "-c", "import streamlab.lessons"], cwd=tmp_path,
                            env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "declares 'lesson16-store': a lesson's key is its folder's name with dashes" in result.stderr


def test_an_unknown_job_is_a_user_error_naming_the_known_ones():
    with pytest.raises(UserError, match="unknown job 'lesson99': choose one of lesson14-stateless, "):
        lessons.get("lesson99")
    deploy = [a for a in build_parser()._actions if a.dest == "command"][0].choices["deploy"]
    assert sorted(deploy._actions[-1].choices) == sorted(lessons.BY_KEY)
    assert list(demo.JOBS) == [lesson.key for lesson in lessons.ALL]
    assert docsite.jobs_reference(16).count("\n") == 3  # header, rule, lesson16-stores
    assert topics.by_name("store-customer-orders").cleanup_policy == "compact"


def test_each_output_lands_in_its_mart_typed_from_its_columns():
    columns = {t.qualified: {name: sql_type for name, sql_type, _ in t.columns} for t in marts.TABLES}
    paid = columns["marts.paid_orders"]  # an instant becomes a timestamp, a span stays a number
    assert paid["order_ts_time"] == "TIMESTAMPTZ" and paid["paid_after_ms"] == "BIGINT"
    assert columns["marts.trading_periods"]["store_open"] == "BOOLEAN"  # renamed
    assert columns["marts.top_products"]["top_products"] == "STRUCT(product_id VARCHAR, revenue_cents BIGINT)[]"
    assert columns["marts.alerts"]["payment_ids"] == "VARCHAR[]"
    items = next(t for t in marts.TABLES if t.name == "order_items")  # four topics, tagged by branch
    assert items.topics == tuple(f"l14-items-{b}" for b in ("electronics", "fashion", "home", "other"))
    assert items.columns[0][:2] == ("branch", "VARCHAR") and "WHEN 'l14-items-home' THEN 'home'" in items.columns[0][2]
    store = next(t for t in marts.TABLES if t.name == "customer_orders_changelog")  # a tombstone keeps its key
    assert store.columns[0] == ("customer_id", "VARCHAR", "try(decode(key))")
    assert "marts.customer_orders" in marts.VIEWS and "marts.customer_orders" in marts.MART_NAMES
