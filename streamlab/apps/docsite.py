"""The lessons site's build step (an MkDocs hook module, named in ``mkdocs.yml``).

Pages stay free of anything that could drift from the code:

* a fenced block with the language ``warehouse`` holds SQL; the build runs it against the
  warehouse of the last run (``make demo``) and shows the command and its real output;
* ``<!-- reference: cli -->`` and ``<!-- reference: config -->`` become the CLI and the
  configuration reference, generated from the parser and the typed settings;
* ``<!-- reference: jobs -->`` (or ``jobs lesson 15``) and ``<!-- reference: state -->`` become
  the tables of the lessons' jobs, from their contracts (``streamlab.lessons``);
* every test module gets a page (``tests/<module>.md``) showing its code, so an exercise can
  link to the test that checks it;
* mermaid and the iframe-worker shim (offline search) come from package-lock.json, never a CDN.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
from pathlib import Path

from streamlab import lessons, warehouse
from streamlab.apps.commands import build_parser
from streamlab.config import Settings
from streamlab.data import topics
from streamlab.errors import UserError
from streamlab.runtime import frontend
from streamlab.warehouse import analyst, marts

REPO = Path(__file__).resolve().parents[2]
# site path -> (package in package.json, file in the package)
VENDORED = {
    "vendor/mermaid/mermaid.min.js": ("mermaid", "dist/mermaid.min.js"),
    "vendor/iframe-worker/shim.js": ("iframe-worker", "shim/index.js"),
}
WAREHOUSE_BLOCK = re.compile(r"^```warehouse\n(?P<sql>.*?)\n```$", re.MULTILINE | re.DOTALL)
REFERENCE = re.compile(r"^<!-- reference: (?P<name>[a-z]+)(?: lesson (?P<lesson>\d+))? -->$", re.MULTILINE)
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


def state_reference() -> str:
    """One row per lesson's job: the state it keeps and how it takes it to new code."""
    rows = ["| job | state it keeps | upgrade mode |", "|---|---|---|"]
    rows += [f"| `{job.key}` | {job.state} | `{job.upgrade_mode}` |" for job in lessons.ALL]
    return "\n".join(rows) + "\n"


def expand(markdown: str, settings: Settings) -> str:
    """Replace the page's build-time directives by their generated content."""
    def reference(match: re.Match[str]) -> str:
        name = match["name"]
        if name == "cli":
            return cli_reference(build_parser())
        if name == "config":
            return config_reference()
        if name == "jobs":
            return jobs_reference(int(match["lesson"]) if match["lesson"] else None)
        if name == "state":
            return state_reference()
        raise UserError(f"unknown docs reference '{name}': use cli, config, jobs or state")

    markdown = WAREHOUSE_BLOCK.sub(lambda m: warehouse_output(m["sql"], settings), markdown)
    return REFERENCE.sub(reference, markdown)


def page_for_test_module(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return (f"# {path.name}\n\n{doc}\n\nRun it: `make test PYTEST_ARGS=\"{TESTS_DIR}/{path.name}\"`\n\n"
            f"```python\n--8<-- \"{TESTS_DIR}/{path.name}\"\n```\n")


# MkDocs hooks ------------------------------------------------------------------------------


def on_files(files, config):  # noqa: ANN001, ANN201 - MkDocs' hook signature
    from mkdocs.structure.files import File

    for path in sorted((REPO / TESTS_DIR).glob("test_*.py")):
        files.append(File.generated(config, f"{TESTS_DIR}/{path.stem}.md", content=page_for_test_module(path)))
    return files


def on_page_markdown(markdown, page, config, files):  # noqa: ANN001, ANN201
    return expand(markdown, Settings())


def on_post_build(config):  # noqa: ANN001, ANN201
    for site_path, source in vendor().items():
        target = Path(config["site_dir"]) / site_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
