"""The lessons site's build step (an MkDocs hook module, named in ``mkdocs.yml``).

Pages stay free of anything that could drift from the code:

* a fenced block with the language ``warehouse`` holds SQL; the build runs it against the
  warehouse of the last run (``make demo``) and shows the command and its real output;
* ``<!-- reference: cli -->`` and ``<!-- reference: config -->`` become the CLI and the
  configuration reference, generated from the parser and the typed settings;
* ``<!-- reference: jobs -->`` (or ``jobs lesson 15``) and ``<!-- reference: state -->`` become
  the tables of the lessons' jobs, from their contracts (``streamlab.lessons``);
  ``<!-- reference: schedules -->`` the operations DAGs' schedules, from the settings;
* ``<!-- exercise: <lesson> <name> -->`` becomes that exercise: its statement and stub, the
  command that checks it and the folded solution, from the lesson's code (``exercises``), and
  ``<!-- reference: exercises -->`` the table of every exercise and the page it is on;
* ``<!-- reference: dashboard -->``, ``websocket`` and ``api`` become Lesson 17's real output,
  taken from the running dashboard (``dashboard_output``): a screenshot of the page, a message
  its WebSocket pushed and its query API's JSON (or a note that no dashboard ran);
* ``<!-- reference: joins -->`` runs the join examples (``flink_jobs/lesson15_joins/semantics.py``)
  in a local PyFlink and shows each one's SQL and changelog;
* ``<!-- reference: airflow -->`` becomes a screenshot of Airflow's grid for the last demo's
  deploy run, taken by headless Chromium while the platform runs (or a note that there is none);
* every test module gets a page (``tests/<module>.md``) showing its code, so an exercise can
  link to the test that checks it;
* mermaid and the iframe-worker shim (offline search) come from package-lock.json, never a CDN.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from streamlab import lessons, warehouse
from streamlab.apps import dashboard_output, exercises
from streamlab.apps.commands import build_parser
from streamlab.config import Settings
from streamlab.data import topics
from streamlab.errors import UserError
from streamlab.jobs import schedules
from streamlab.runtime import airflow_service, frontend
from streamlab.runtime.airflow_rest import AirflowRest
from streamlab.runtime.browser import Browser
from streamlab.warehouse import analyst, marts

REPO = Path(__file__).resolve().parents[2]
# site path -> (package in package.json, file in the package)
VENDORED = {
    "vendor/mermaid/mermaid.min.js": ("mermaid", "dist/mermaid.min.js"),
    "vendor/iframe-worker/shim.js": ("iframe-worker", "shim/index.js"),
}
WAREHOUSE_BLOCK = re.compile(r"^```warehouse\n(?P<sql>.*?)\n```$", re.MULTILINE | re.DOTALL)
REFERENCE = re.compile(r"^<!-- reference: (?P<name>[a-z]+)(?: lesson (?P<lesson>\d+))? -->$", re.MULTILINE)
EXERCISE = re.compile(r"^<!-- exercise: (?P<lesson>[a-z0-9-]+) (?P<name>[a-z-]+) -->$", re.MULTILINE)
TESTS_DIR = "tests"


def vendor() -> dict[str, Path]:
    """Every vendored file by its path in the site (``npm ci`` once per machine)."""
    return {site_path: frontend.file(*pinned) for site_path, pinned in VENDORED.items()}


def warehouse_output(sql: str, settings: Settings) -> str:
    """The command an analyst would type, and what it printed on the last run's warehouse."""
    command = f'.venv/bin/streamlab sql "{" ".join(sql.split())}"'
    try:
        columns, rows = analyst.run_query(settings, sql)
    except UserError as err:
        if not warehouse.replica_path(settings).exists():
            return (f"```bash\n{command}\n```\n\n!!! note \"No run yet\"\n    The output of a real run "
                    "appears here after `make demo` and `make docs`.\n")
        raise UserError(f"a warehouse block in the docs failed: {err}") from None
    loaded = _last_load(settings)
    return (f"```bash\n{command}\n```\n\n```text\n{analyst.render(columns, rows, 'table')}\n```\n\n"
            f"<small>Output of the run loaded {loaded}, at docs build time.</small>\n")


def _last_load(settings: Settings) -> str:
    with warehouse.reader(settings) as con:
        row = con.execute("SELECT strftime(max(committed_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M UTC'),"
                          " count(*) FROM ops.loads").fetchone()
    return f"at {row[0]} (load #{row[1]})" if row and row[0] else "by `streamlab load`"


def cli_reference(parser: argparse.ArgumentParser) -> str:
    """Every subcommand's ``--help``, in the parser's order."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    parts = ["```text\n" + parser.format_help().rstrip() + "\n```"]
    for name, sub in actions[0].choices.items():
        parts.append(f"## `streamlab {name}`\n\n```text\n{sub.format_help().rstrip()}\n```")
    return "\n\n".join(parts) + "\n"


def config_reference() -> str:
    """One row per setting: its environment variable, default and meaning."""
    rows = ["| Environment variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "—" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        text = (field.description or "").replace("|", "\\|").replace("<", "&lt;")
        rows.append(f"| `STREAMLAB_{name.upper()}` | {shown} | {text} |")
    return "\n".join(rows) + "\n"


def _code(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def jobs_reference(lesson: int | None = None) -> str:
    """One row per lesson's job (of one lesson, if given): what it reads, writes and where its
    outputs land in the warehouse."""
    tables = marts.by_topic()
    rows = ["| job (`streamlab deploy …`) | reads | writes | warehouse |", "|---|---|---|---|"]
    for job in (job for job in lessons.ALL if lesson in (None, job.lesson)):
        writes = _code([output.topic for output in job.outputs])
        writes += f"; late: `{job.late.topic}`" if job.late else ""
        writes += f"; `{topics.DEAD_LETTER.name}`" if job.dead_letter else ""
        landed = _code(list(dict.fromkeys(tables[output.topic].qualified for output in job.outputs)))
        rows.append(f"| `{job.key}` | {_code(list(job.inputs))} | {writes} | {landed} |")
    return "\n".join(rows) + "\n"


def schedules_reference() -> str:
    """One row per operations DAG: the setting that schedules it, its default, what it does."""
    rows = ["| DAG | setting | default | runs |", "|---|---|---|---|"]
    for dag_id in schedules.DAGS:
        field = Settings.model_fields[f"schedule_{dag_id}"]
        rows.append(f"| `{dag_id}` | `STREAMLAB_SCHEDULE_{dag_id.upper()}` | `{field.default}` "
                    f"({schedules.in_words(field.default)}) | {field.description} |")
    return "\n".join(rows) + "\n"


def state_reference() -> str:
    """One row per lesson's job: the state it keeps and how it takes it to new code."""
    rows = ["| job | state it keeps | upgrade mode |", "|---|---|---|"]
    rows += [f"| `{job.key}` | {job.state} | `{job.upgrade_mode}` |" for job in lessons.ALL]
    return "\n".join(rows) + "\n"


AIRFLOW_GRID = "guides/airflow-grid.png"


def airflow_grid(settings: Settings, profile: Path) -> bytes | None:
    """A screenshot of Airflow's grid for the newest run of the deploy DAG that rolled jobs out,
    taken by headless Chromium through the platform's Airflow UI; None when there is no such run
    to show (no platform, no run yet, no Chromium)."""
    if not shutil.which("chromium") or airflow_service.password(settings) is None:
        return None
    try:
        client = AirflowRest(settings, timeout_s=5.0)
    except UserError:
        return None
    try:
        # The newest run that rolled jobs out (a later demo's finds them running and skips roll_out).
        deployed = [run["dag_run_id"] for run in client.runs("deploy_streaming_jobs") if run["state"] == "success"
                    and any(t.task_id == "roll_out" and t.map_index >= 0
                            for t in client.tasks("deploy_streaming_jobs", run["dag_run_id"]))]
        if not deployed:
            return None
        url, token = client.run_url("deploy_streaming_jobs", deployed[0]), client.token
    finally:
        client.close()
    browser = Browser(profile)
    try:
        # The UI reads the API token from the ``_token`` cookie, which its login page would set.
        browser.send("Network.setCookie", name="_token", value=token, url=settings.airflow_url)
        browser.goto(url)
        browser.wait_for("document.body.innerText.includes('roll_out')", timeout_s=60)
        time.sleep(2)  # the grid's bars render after the task list
        return browser.screenshot(profile / "grid.png").read_bytes()
    finally:
        browser.close()


DASHBOARD_SHOT = "lesson17/dashboard.png"
NO_DASHBOARD = ('!!! note "No run yet"\n    This appears here when `make docs` runs while the dashboard does '
                "(after `make demo KEEP=1`, or `streamlab up` with the dashboard on).\n")


def dashboard_markdown(available: bool) -> str:
    if available:
        return (f"![The dashboard of the last run, as a browser shows it]({Path(DASHBOARD_SHOT).name})\n\n"
                "<small>Taken by headless Chromium at docs build time.</small>\n")
    return NO_DASHBOARD


def websocket_markdown(settings: Settings) -> str:
    message = dashboard_output.websocket_message(settings)
    if message is None:
        return NO_DASHBOARD
    return (f"One update as the dashboard pushed it (`{message['type']}`, sequence number {message['seq']}), "
            f"taken at docs build time:\n\n```json\n{dashboard_output.pretty(message)}\n```\n")


def api_markdown(settings: Settings) -> str:
    answer = dashboard_output.api_example(settings)
    if answer is None:
        return NO_DASHBOARD
    return (f"```bash\ncurl -s {settings.dashboard_url}{dashboard_output.API_EXAMPLE}\n```\n\n"
            f"```json\n{dashboard_output.pretty(answer)}\n```\n\n<small>Asked at docs build time.</small>\n")


# ``mkdocs serve`` rebuilds on every edit: it skips what takes a local Flink run (``on_startup``).
RUNS_FLINK = {"value": True}


def join_semantics() -> str:
    """Every join example of ``flink_jobs/lesson15_joins/semantics.py``: its SQL and the changelog
    it emitted, run now on the local data set (a local PyFlink, about half a minute)."""
    if not RUNS_FLINK["value"]:
        return ('!!! note "Built by `make docs`"\n    The examples run in a local PyFlink when the site is built '
                "with `make docs`; `make docs-serve` skips them so that an edit shows at once.\n")
    semantics = importlib.import_module("flink_jobs.lesson15_joins.semantics")
    with tempfile.TemporaryDirectory() as directory:
        changelogs = semantics.run_all(list(semantics.EXAMPLES), Path(directory))
    parts = []
    for name, changelog in changelogs.items():
        example = semantics.EXAMPLES[name]
        parts.append(f"### {name}: {example.kind}, {example.join} join\n\n```sql{example.sql}\n```\n\n"
                     f"```text\n{semantics.report(name, changelog)}\n```\n")
    return "\n".join(parts) + "\n<small>Run at docs build time on the local data set.</small>\n"


def airflow_grid_markdown(available: bool) -> str:
    if available:
        return (f"![The deploy_streaming_jobs run of the last `make demo`, in Airflow's grid view]"
                f"({Path(AIRFLOW_GRID).name})\n\n<small>Taken by headless Chromium at docs build time.</small>\n")
    return ('!!! note "No run yet"\n    Airflow\'s grid view of the demo\'s deploy run appears here after '
            "`make demo` and `make docs`, while the platform runs.\n")


def expand(markdown: str, settings: Settings, grid: bool = False, dashboard: bool = False) -> str:
    """Replace the page's build-time directives by their generated content (``grid``,
    ``dashboard``: the Airflow and dashboard screenshots are part of the site)."""
    def reference(match: re.Match[str]) -> str:
        name = match["name"]
        if name == "airflow":
            return airflow_grid_markdown(grid)
        if name == "dashboard":
            return dashboard_markdown(dashboard)
        if name == "websocket":
            return websocket_markdown(settings)
        if name == "api":
            return api_markdown(settings)
        if name == "schedules":
            return schedules_reference()
        if name == "cli":
            return cli_reference(build_parser())
        if name == "config":
            return config_reference()
        if name == "jobs":
            return jobs_reference(int(match["lesson"]) if match["lesson"] else None)
        if name == "state":
            return state_reference()
        if name == "joins":
            return join_semantics()
        if name == "exercises":
            return exercises.table(exercises.pages(REPO / "docs", EXERCISE), nav_pages())
        raise UserError(f"unknown docs reference '{name}': use airflow, api, cli, config, dashboard, exercises,"
                        " joins, jobs, schedules, state or websocket")

    markdown = WAREHOUSE_BLOCK.sub(lambda m: warehouse_output(m["sql"], settings), markdown)
    markdown = EXERCISE.sub(lambda m: exercises.section(m["lesson"], m["name"]), markdown)
    return REFERENCE.sub(reference, markdown)


def nav_pages() -> list[str]:
    """The site's pages in the order of its navigation (``mkdocs.yml``): the learner's path."""
    def walk(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [page for item in node for page in walk(item)]
        if isinstance(node, dict):
            return [page for value in node.values() for page in walk(value)]
        return []

    text = re.sub(r"!!python/name:\S+", "null", (REPO / "mkdocs.yml").read_text())
    return walk(yaml.safe_load(text)["nav"])


def page_for_test_module(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return (f"# {path.name}\n\n{doc}\n\nRun it: `make test PYTEST_ARGS=\"{TESTS_DIR}/{path.name}\"`\n\n"
            f"```python\n--8<-- \"{TESTS_DIR}/{path.name}\"\n```\n")


# MkDocs hooks ------------------------------------------------------------------------------


def on_startup(command, dirty):  # noqa: ANN001, ANN201 - MkDocs' hook signature
    RUNS_FLINK["value"] = command != "serve"


def on_files(files, config):  # noqa: ANN001, ANN201 - MkDocs' hook signature
    from mkdocs.structure.files import File

    for path in sorted((REPO / TESTS_DIR).glob("test_*.py")):
        files.append(File.generated(config, f"{TESTS_DIR}/{path.stem}.md", content=page_for_test_module(path)))
    settings = Settings()
    with tempfile.TemporaryDirectory(dir=settings.state if settings.state.is_dir() else None) as scratch:
        grid = airflow_grid(settings, Path(scratch) / "chromium")
        shot = dashboard_output.screenshot(settings, Path(scratch) / "chromium-dashboard")
    for path, content in ((AIRFLOW_GRID, grid), (DASHBOARD_SHOT, shot)):
        if content is not None:
            files.append(File.generated(config, path, content=content))
    return files


def on_page_markdown(markdown, page, config, files):  # noqa: ANN001, ANN201
    return expand(markdown, Settings(), files.get_file_from_path(AIRFLOW_GRID) is not None,
                  files.get_file_from_path(DASHBOARD_SHOT) is not None)


def on_post_build(config):  # noqa: ANN001, ANN201
    for site_path, source in vendor().items():
        target = Path(config["site_dir"]) / site_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
