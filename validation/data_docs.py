"""Make GX's Data Docs viewable offline, and private.

GX 1.x hard-codes its pages' scripts and styles as CDN URLs (no setting turns them off; a
custom template is ignored), and the logo is fetched from S3 with the data context's id in
its query string. After each build every such URL is rewritten to a local copy: the same
library versions from the npm registry (``streamlab.npm``), and GX's own bundled logo.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from streamlab import npm

VENDOR = "static/vendor"
# CDN URL in GX's templates: (npm package, version, file in the package, extra files it loads)
ASSETS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega", "5.33.1", "build/vega.min.js", ()),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite", "5.23.0", "build/vega-lite.min.js", ()),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed", "6.29.0", "build/vega-embed.min.js", ()),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "3.7.1", "dist/jquery.min.js", ()),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        ("bootstrap", "4.3.1", "dist/css/bootstrap.min.css", ()),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        ("bootstrap", "4.3.1", "dist/js/bootstrap.min.js", ()),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        ("popper.js", "1.12.9", "dist/umd/popper.min.js", ()),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        ("@fortawesome/fontawesome-free", "6.6.0", "css/all.min.css", ("webfonts/",)),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        ("bootstrap-datepicker", "1.9.0", "dist/js/bootstrap-datepicker.min.js", ()),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        ("bootstrap-datepicker", "1.9.0", "dist/css/bootstrap-datepicker.min.css", ()),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        ("@forevolve/bootstrap-dark", "1.1.0", "dist/css/bootstrap-prefers-dark.css", ()),
    **{f"https://unpkg.com/bootstrap-table@{version}/dist/{path}": ("bootstrap-table", version, f"dist/{path}", ())
       for version, path in [
           ("1.19.1", "bootstrap-table.min.js"), ("1.19.1", "bootstrap-table.min.css"),
           ("1.19.1", "extensions/filter-control/bootstrap-table-filter-control.min.js"),
           ("1.19.0", "extensions/filter-control/bootstrap-table-filter-control.css"),
           ("1.19.0", "extensions/filter-control/bootstrap-table-filter-control.min.css")]},
}
LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/[A-Za-z_-]+\.png[^\"')\s]*")
# A resource a page loads (not a link a reader may follow): src=, <link href=, CSS url().
EXTERNAL = re.compile(r"""(?:\bsrc\s*=\s*["']|<link\b[^>]*\bhref\s*=\s*["']|url\(\s*["']?)(https?://[^"')\s]+)""")


def _vendored(asset: tuple[str, str, str, tuple[str, ...]]) -> str:
    package, version, path, _ = asset
    return f"{VENDOR}/{package.replace('/', '__')}@{version}/{path}"


def localise(site: Path) -> list[str]:
    """Vendor the assets and rewrite every page and stylesheet of ``site``; returns the
    external resources still referenced (none, unless GX added a new one)."""
    for asset in ASSETS.values():
        package, version, path, extra = asset
        dest = site / VENDOR / f"{package.replace('/', '__')}@{version}"
        if not (dest / path).exists():
            npm.extract(package, version, [path, *extra], dest)
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
