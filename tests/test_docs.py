"""The lessons site: it builds strictly from the real code and a real run's warehouse, works
offline (nothing from a CDN), renders its diagrams and searches in a real browser, and has a
page for every concept the curriculum names."""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from streamlab.apps import docsite
from streamlab.runtime import processes
from streamlab.runtime.browser import Browser
from streamlab.warehouse import analyst
from conftest import REPO, VENV_BIN, env_for

DOCS = REPO / "docs"
# The concepts issue 7 names, in the order the nav shows them.
CONCEPTS = {
    "lesson14": ["topology", "stateless-transformations", "dead-letters"],
    "lesson15": ["event-time-and-watermarks", "tumbling-windows", "hopping-windows", "session-windows", "custom-windows",
                 "late-data-and-grace", "stream-stream-joins", "stream-table-joins", "global-table-joins", "join-semantics",
                 "counting-and-statistics", "custom-aggregation", "multi-dimensional-aggregation",
                 "fraud-alerts", "multi-source-integration"],
    "lesson16": ["state-stores", "state-store-optimisation", "checkpoints", "changelog-vs-checkpoint",
                 "standby-replicas-and-local-recovery", "savepoints-and-upgrades", "disaster-recovery",
                 "interactive-queries"],
    "lesson17": ["websockets", "query-api", "alerts"],
}
INCLUDE = re.compile(r'^\s*--8<-- "(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"\s*$', re.MULTILINE)


def build(config: Path, site: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "mkdocs"), "build", "--strict", "-q", "-f", str(config), "-d", str(site)],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**env, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(platform, demo) -> Path:
    """`make docs`, from the demo's warehouse on the session platform."""
    result = subprocess.run(["make", "-s", "docs"], cwd=REPO, capture_output=True, text=True, timeout=600,
                            env=env_for(platform))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "open site/index.html" in result.stdout
    return REPO / "site"


def snippet_problems(docs: Path) -> list[str]:
    """Each include of a missing file, or of a section the file does not mark."""
    problems = []
    for page in sorted(docs.rglob("*.md")):
        for match in INCLUDE.finditer(page.read_text()):
            source = REPO / match["path"]
            where = f"{page.relative_to(docs)}: {match['path']}"
            if not source.is_file():
                problems.append(f"{where}: no such file")
            elif match["section"]:
                code = source.read_text()
                for edge in ("start", "end"):
                    if f"--8<-- [{edge}:{match['section']}]" not in code:
                        problems.append(f"{where}: no '{edge}:{match['section']}' marker")
    return problems


class _References(HTMLParser):
    """Every URL a page loads or links to: src/href/srcset/data attributes, CSS url() and @import."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action") and value:
                self.urls.append(value)
            if name == "style" and value:
                self.urls += css_urls(value)
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.urls += css_urls(data)


def css_urls(css: str) -> list[str]:
    return re.findall(r"""url\(\s*['"]?([^'")\s]+)""", css) + re.findall(r"""@import\s+['"]([^'"]+)""", css)


def external_references(site: Path) -> list[str]:
    """Every reference to another host in the built HTML and CSS (the site must work offline)."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            parser = _References()
            parser.feed(path.read_text())
            urls = parser.urls
        elif path.suffix == ".css":
            urls = css_urls(path.read_text())
        else:
            continue
        found += [f"{path.relative_to(site)}: {url}" for url in urls if re.match(r"^(https?:)?//", url)]
    return found


@pytest.mark.platform
def test_the_site_builds_strictly_from_the_real_code(site):
    page = (site / "lesson14" / "stateless-transformations.html").read_text()
    assert "CROSS JOIN UNNEST" in page  # the job's real code, included, not pasted
    state = (site / "lesson16" / "state-stores.html").read_text()
    assert "rocksdb" in state
    test_page = (site / "tests" / "test_lesson15_windows.html").read_text()
    assert "test_windows_equal_the_oracle" in test_page  # exercises link to their test


@pytest.mark.platform
def test_every_output_block_shows_what_the_demo_warehouse_holds(site, platform):
    blocks = 0
    for page in sorted(DOCS.rglob("*.md")):
        for match in docsite.WAREHOUSE_BLOCK.finditer(page.read_text()):
            blocks += 1
            columns, rows = analyst.run_query(platform, match["sql"])
            assert rows, f"{page.relative_to(DOCS)}: the query returned nothing on the demo run"
            built = (site / page.relative_to(DOCS).with_suffix(".html")).read_text()
            for expected in [*columns, analyst.render(columns, rows, "table").splitlines()[2].split()[0]]:
                assert html.escape(expected, quote=False) in built, (page.relative_to(DOCS), expected)
    assert blocks >= 15


@pytest.mark.platform
def test_the_operations_guide_shows_the_airflow_grid_of_the_demo_run(site):
    """Taken at build time by headless Chromium, logged in to the session platform's Airflow."""
    shot = site / docsite.AIRFLOW_GRID
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    guide = (site / "guides" / "operations.html").read_text()
    assert 'src="airflow-grid.png"' in guide and "No run yet" not in guide
    assert "STREAMLAB_SCHEDULE_JOB_HEALTH" in guide  # the schedules' table, from the settings


@pytest.mark.platform
def test_lesson_17_shows_a_pushed_message_an_api_answer_and_the_dashboard_as_a_browser_draws_it(site):
    """Taken at build time from the session platform's dashboard, never typed by hand."""
    shot = site / docsite.DASHBOARD_SHOT
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert 'src="dashboard.png"' in (site / "lesson17" / "index.html").read_text()
    pushed = (site / "lesson17" / "websockets.html").read_text()
    api = (site / "lesson17" / "query-api.html").read_text()
    for page in (pushed, api):
        assert "No run yet" not in page
    assert '"seq"' in pushed and '"sent_ms"' in pushed  # code blocks keep their quotes
    assert "/api/categories" in api and '"category"' in api


@pytest.mark.platform
def test_no_page_loads_anything_from_another_host(site):
    assert external_references(site) == []


def test_the_offline_check_catches_a_cdn_script_a_stylesheet_and_a_font(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script>'
        '<link rel="stylesheet" href="//cdn.example.org/x.css"><link rel="stylesheet" href="assets/ok.css">')
    (tmp_path / "b.css").write_text("@font-face{src:url('https://fonts.gstatic.com/roboto.woff2')}"
                                    "@import 'https://fonts.googleapis.com/css?family=Roboto';")
    assert len(external_references(tmp_path)) == 4


def test_every_snippet_include_names_a_real_file_and_section():
    assert snippet_problems(DOCS) == []


def test_a_missing_file_or_section_fails_the_check_and_the_strict_build(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "planted.md").write_text(
        '```python\n--8<-- "flink_jobs/lesson14_stateless/job.py:no_such_section"\n```\n'
        '```python\n--8<-- "flink_jobs/no_such_job.py"\n```\n')
    assert snippet_problems(docs) == [
        "planted.md: flink_jobs/lesson14_stateless/job.py: no 'start:no_such_section' marker",
        "planted.md: flink_jobs/lesson14_stateless/job.py: no 'end:no_such_section' marker",
        "planted.md: flink_jobs/no_such_job.py: no such file",
    ]
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"INHERIT: {REPO / 'mkdocs.yml'}\ndocs_dir: {docs}\nnav: [planted.md]\n"
                      f"hooks: [{REPO / 'streamlab' / 'apps' / 'docsite.py'}]\n")
    result = build(config, tmp_path / "site", dict(os.environ))
    assert result.returncode != 0 and "no_such_section" in result.stderr


def test_every_concept_has_its_page_in_lesson_order():
    pages = docsite.nav_pages()
    lessons = [page.split("/")[0] for page in pages if page.startswith("lesson")]
    assert lessons == sorted(lessons) and sorted(set(lessons)) == list(CONCEPTS)
    for lesson, concepts in CONCEPTS.items():
        assert [p for p in pages if p.startswith(lesson + "/")] == [f"{lesson}/index.md"] + [
            f"{lesson}/{concept}.md" for concept in concepts]
        for concept in concepts:
            name = f"{lesson}/{concept}"
            text = (DOCS / f"{name}.md").read_text()
            for part in ("## Kafka Streams ↔ PyFlink", "```mermaid", '--8<-- "', "## Run it", "## Try it",
                         '??? tip "Hint"', "](../tests/test_"):
                assert part in text, (name, part)
            assert "```warehouse" in text, name  # real output, from the last run's warehouse
    for guide in ("guides/operations.md", "guides/analyst.md", "guides/data-quality.md",
                  "guides/troubleshooting.md", "reference/configuration.md", "reference/cli.md",
                  "curriculum.md", "benchmark/index.md"):
        assert guide in pages
    assert all((DOCS / page).is_file() for page in pages)


@pytest.mark.platform
def test_the_references_come_from_the_code(site):
    from streamlab.apps.commands import build_parser
    from streamlab.config import Settings

    cli = (site / "reference" / "cli.html").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    assert all(f"streamlab {name}" in cli for name in commands)
    config = (site / "reference" / "configuration.html").read_text()
    assert all(f"STREAMLAB_{name.upper()}" in config for name in Settings.model_fields)


@pytest.mark.platform
def test_a_browser_renders_the_diagram_and_finds_the_page_offline(site, tmp_path):
    browser = Browser(tmp_path / "chromium")
    try:
        browser.goto((site / "index.html").as_uri())
        browser.wait_for("document.querySelector('div.mermaid')?.offsetHeight > 100")
        browser.screenshot(tmp_path / "home.png")
        lesson = site / "lesson15" / "tumbling-windows.html"
        browser.goto(lesson.as_uri())
        browser.wait_for("document.querySelector('div.mermaid')?.offsetHeight > 100")
        # Material renders each diagram into a closed shadow root: only the DevTools see the SVG.
        assert "flowchart-v2" in diagram_roles(browser)
        browser.screenshot(tmp_path / "lesson.png")
        scripts = browser.eval("[...document.scripts].map(s => s.src).filter(Boolean)")
        assert scripts and all(src.startswith("file://") for src in scripts), scripts

        browser.eval("document.querySelector('label[for=__search]').click()")
        browser.eval("""(() => { const input = document.querySelector('input.md-search__input');
            input.value = 'tumbling'; input.dispatchEvent(new Event('input', {bubbles: true}));
            input.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true})); })()""")
        found = browser.wait_for("[...document.querySelectorAll('.md-search-result__item a')]"
                                 ".map(a => a.href).join(' ')")
        assert lesson.as_uri() in found.split(), found
        assert browser.console == []
    finally:
        browser.close()


@pytest.mark.platform
def test_a_browser_renders_start_here_and_follows_its_previous_and_next_links(site, tmp_path):
    """The learner's path: the start-here page lists every exercise with its page, and its
    footer leads back home and on to the next page of the path."""
    browser = Browser(tmp_path / "chromium")
    start = site / "start-here.html"
    try:
        browser.goto(start.as_uri())
        commands = browser.wait_for("[...document.querySelectorAll('td code')].map(c => c.textContent)"
                                    ".filter(t => t.startsWith('make exercise')).length")
        assert commands >= 12
        footer = browser.eval("[...document.querySelectorAll('a.md-footer__link')].map(a => a.href)")
        assert footer == [(site / "index.html").as_uri(), (site / "curriculum.html").as_uri()], footer
        for target in footer:
            browser.goto(start.as_uri())
            browser.eval("document.querySelector('a.md-footer__link').click()" if target == footer[0] else
                         "document.querySelector('a.md-footer__link--next').click()")
            browser.wait_for(f"location.href === {target!r}")
        browser.goto((site / "lesson15" / "tumbling-windows.html").as_uri())
        solution = browser.wait_for("document.querySelector('details.success')?.open === false")
        assert solution, "the exercise's solution is folded away"
        assert browser.console == []
    finally:
        browser.close()


def diagram_roles(browser: Browser) -> list[str]:
    roles: list[str] = []

    def walk(node: dict) -> None:
        attributes = dict(zip(node.get("attributes", [])[::2], node.get("attributes", [])[1::2]))
        if node.get("nodeName") == "svg" and "aria-roledescription" in attributes:
            roles.append(attributes["aria-roledescription"])
        for child in node.get("children", []) + node.get("shadowRoots", []):
            walk(child)

    walk(browser.send("DOM.getDocument", depth=-1, pierce=True)["root"])
    return roles


def test_make_docs_serve_serves_the_site_while_you_edit(tmp_path):
    [port] = processes.free_ports(1)
    server = subprocess.Popen(["make", "-s", "docs-serve", f"DOCS_PORT={port}"], cwd=REPO, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/lesson15/tumbling-windows.html", timeout=5)
                if page.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "make docs-serve did not serve"
            time.sleep(1)
        assert "Tumbling windows" in page.text and "TUMBLE" in page.text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
