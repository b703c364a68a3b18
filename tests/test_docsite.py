"""The docs build step: references generated from the code, real output from a warehouse, a
clear note where no run has happened yet, and the vendored front-end files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from streamlab import warehouse
from streamlab.apps import docsite, exercises
from streamlab.apps.commands import build_parser
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import processes

REPO = Path(__file__).resolve().parent.parent
BLOCK = "```warehouse\nSELECT category, revenue_cents FROM marts.revenue\nORDER BY category\n```"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(state_dir=tmp_path / "state")


def plant_warehouse(settings: Settings) -> None:
    path = warehouse.replica_path(settings)
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA ops")
        con.execute("CREATE TABLE marts.revenue AS SELECT * FROM (VALUES ('books', 1250), ('home', 980))"
                    " t(category, revenue_cents)")
        con.execute("CREATE TABLE ops.loads AS SELECT 7 AS load_id, TIMESTAMPTZ '2026-11-27 10:15:00+00' AS committed_at")


def test_a_warehouse_block_shows_the_command_and_the_real_rows(settings):
    plant_warehouse(settings)
    page = docsite.expand(f"# Revenue\n\n{BLOCK}\n\nAfter.\n", settings)
    assert '.venv/bin/streamlab sql "SELECT category, revenue_cents FROM marts.revenue ORDER BY category"' in page
    assert "books     1250" in page and "home      980" in page and "(2 rows)" in page
    assert "loaded at 2026-11-27 10:15 UTC (load #1)" in page
    assert page.startswith("# Revenue") and page.endswith("After.\n") and "```warehouse" not in page


def test_without_a_run_the_page_says_how_to_get_the_output(settings):
    page = docsite.expand(BLOCK, settings)
    assert "No run yet" in page and "make demo" in page and "streamlab sql" in page


def test_a_broken_query_fails_the_build_with_its_page_error(settings):
    plant_warehouse(settings)
    with pytest.raises(UserError, match="a warehouse block in the docs failed: SQL failed: .*no_such"):
        docsite.expand("```warehouse\nSELECT * FROM marts.no_such\n```", settings)


def test_the_references_list_every_command_and_setting(settings):
    page = docsite.expand("<!-- reference: cli -->\n\n<!-- reference: config -->\n", settings)
    for name in build_parser()._subparsers._group_actions[0].choices:  # noqa: SLF001
        assert f"## `streamlab {name}`" in page and f"usage: streamlab {name}" in page
    for name in Settings.model_fields:
        assert f"| `STREAMLAB_{name.upper()}` |" in page
    assert "&lt;state_dir&gt;" not in page and "&lt;state_dir>" in page  # no stray HTML tag
    with pytest.raises(UserError, match="unknown docs reference 'nope'"):
        docsite.expand("<!-- reference: nope -->", settings)


def test_mermaid_and_the_search_shim_come_from_the_lockfile():
    files = docsite.vendor()
    assert set(files) == set(docsite.VENDORED)
    mermaid = files["vendor/mermaid/mermaid.min.js"].read_text()
    assert "flowchart" in mermaid and len(mermaid) > 1_000_000
    assert "postMessage" in files["vendor/iframe-worker/shim.js"].read_text()


def test_every_exercise_is_on_one_concept_page_with_its_stub_command_and_folded_solution():
    markers = {}
    for page in (REPO / "docs").rglob("*.md"):
        for match in docsite.EXERCISE.finditer(page.read_text()):
            markers.setdefault((match["lesson"], match["name"]), []).append(page.name)
    listed = exercises.every()
    assert len(listed) >= 12 and {(e.lesson, e.name) for e in listed} == set(markers)
    assert all(len(pages) == 1 for pages in markers.values()), markers
    section = exercises.section("lesson15-windows", "tumbling")
    assert "REVENUE_1M = \"\"\"" in section and "TODO" in section.split("??? success")[0]
    assert "make exercise LESSON=lesson15-windows EXERCISE=tumbling" in section
    assert "TUMBLE(TABLE items_on_time, DESCRIPTOR(ts), INTERVAL '1' MINUTE)" in section.split("??? success")[1]


def test_an_unknown_exercise_is_one_line_naming_the_known_ones():
    with pytest.raises(UserError, match="choose one of late-data, tumbling, hopping, session"):
        exercises.section("lesson15-windows", "sliding")


def test_without_a_dashboard_lesson_17_says_when_its_real_output_appears(settings):
    settings = settings.model_copy(update={"dashboard_port": processes.free_ports(1)[0]})
    for name in ("websocket", "api"):
        assert "No run yet" in docsite.expand(f"<!-- reference: {name} -->", settings)
    assert "No run yet" in docsite.expand("<!-- reference: dashboard -->", settings, dashboard=False)
    assert "dashboard.png" in docsite.expand("<!-- reference: dashboard -->", settings, dashboard=True)
