"""Make GX's Data Docs viewable offline, and private.

GX 1.x hard-codes its pages' scripts and styles as CDN URLs (no setting turns them off; a
custom template is ignored), and the logo is fetched from S3 with the data context's id in
its query string. After each build every such URL is rewritten to a local copy: the same
library versions, installed from package-lock.json (``streamlab.runtime.frontend``), and GX's own bundled logo.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from streamlab.runtime import frontend

VENDOR = "static/vendor"
# CDN URL in GX's templates: (package in package.json, file in the package, extra files it loads).
# The versions are the ones the URLs name, pinned in package.json.
ASSETS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega", "build/vega.min.js", ()),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite", "build/vega-lite.min.js", ()),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed", "build/vega-embed.min.js", ()),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "dist/jquery.min.js", ()),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": ("bootstrap", "dist/css/bootstrap.min.css", ()),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": ("bootstrap", "dist/js/bootstrap.min.js", ()),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": ("popper.js", "dist/umd/popper.min.js", ()),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        ("@fortawesome/fontawesome-free", "css/all.min.css", ("webfonts/",)),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        ("bootstrap-datepicker", "dist/js/bootstrap-datepicker.min.js", ()),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        ("bootstrap-datepicker", "dist/css/bootstrap-datepicker.min.css", ()),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        ("@forevolve/bootstrap-dark", "dist/css/bootstrap-prefers-dark.css", ()),
    **{f"https://unpkg.com/bootstrap-table@{version}/dist/{path}": (package, f"dist/{path}", ())
       for version, package, path in [
           ("1.19.1", "bootstrap-table", "bootstrap-table.min.js"),
           ("1.19.1", "bootstrap-table", "bootstrap-table.min.css"),
           ("1.19.1", "bootstrap-table", "extensions/filter-control/bootstrap-table-filter-control.min.js"),
           ("1.19.0", "bootstrap-table-1.19.0", "extensions/filter-control/bootstrap-table-filter-control.css"),
           ("1.19.0", "bootstrap-table-1.19.0", "extensions/filter-control/bootstrap-table-filter-control.min.css")]},
}
LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/[A-Za-z_-]+\.png[^\"')\s]*")
# A resource a page loads (not a link a reader may follow): src=, <link href=, CSS url().
EXTERNAL = re.compile(r"""(?:\bsrc\s*=\s*["']|<link\b[^>]*\bhref\s*=\s*["']|url\(\s*["']?)(https?://[^"')\s]+)""")


def _vendored(asset: tuple[str, str, tuple[str, ...]]) -> str:
    package, path, _ = asset
    return f"{VENDOR}/{package}/{path}"


def localise(site: Path) -> list[str]:
    """Vendor the assets and rewrite every page and stylesheet of ``site``; returns the
    external resources still referenced (none, unless GX added a new one)."""
    for package, path, extra in ASSETS.values():
        dest = site / VENDOR / package
        for inner in (path, *extra):
            source = frontend.package_dir(package) / inner
            if inner.endswith("/"):
                shutil.copytree(source, dest / inner, dirs_exist_ok=True)
            else:
                (dest / inner).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(frontend.file(package, inner), dest / inner)
    left: set[str] = set()
    for page in [*site.rglob("*.html"), *site.rglob("*.css")]:
        if VENDOR in page.as_posix():
            continue
        text = page.read_text()
        root = os.path.relpath(site, page.parent)
        for url, asset in ASSETS.items():
            text = re.sub(re.escape(url) + r"""(?=["'])""", f"{root}/{_vendored(asset)}", text)
        text = LOGO.sub(f"{root}/static/images/logo-long.png", text)
        # Subresource-integrity hashes were the CDN builds'; the local copies are served as files.
        text = re.sub(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")', "", text)
        page.write_text(text)
        left.update(EXTERNAL.findall(text))
    return sorted(left)
