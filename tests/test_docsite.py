"""The docs build step: references generated from the code, real output from a warehouse, a
clear note where no run has happened yet, and the vendored front-end files."""

from __future__ import annotations

import duckdb
import pytest

from streamlab import warehouse
from streamlab.apps import docsite
from streamlab.apps.commands import build_parser
from streamlab.config import Settings
from streamlab.errors import UserError

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
