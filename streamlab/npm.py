"""Front-end files from the npm registry, for pages that must work offline (no CDN).

Tarballs are cached outside the repo (``$XDG_CACHE_HOME/streamlab/npm``, like pip's cache),
so a fresh clone downloads each pinned version once per machine.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import httpx

from streamlab.errors import UserError

REGISTRY = "https://registry.npmjs.org"


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "streamlab" / "npm"


def tarball(package: str, version: str) -> Path:
    """The package's tarball, downloaded once (``@scope/name`` packages included)."""
    name = package.rsplit("/", 1)[-1]
    target = cache_dir() / package.replace("/", "__") / f"{name}-{version}.tgz"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    url = f"{REGISTRY}/{package}/-/{name}-{version}.tgz"
    try:
        response = httpx.get(url, timeout=120, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as err:
        raise UserError(f"could not fetch {package}@{version} from the npm registry ({err}); "
                        "check network access to registry.npmjs.org") from None
    partial = target.with_suffix(f".part{os.getpid()}")
    partial.write_bytes(response.content)
    partial.replace(target)
    return target


def extract(package: str, version: str, paths: list[str], dest: Path) -> None:
    """Copy ``paths`` (files, or directories ending in ``/``) of the package into ``dest``,
    keeping their relative layout."""
    with tarfile.open(tarball(package, version)) as archive:
        for member in archive.getmembers():
            inner = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if member.isfile() and any(inner == p or (p.endswith("/") and inner.startswith(p)) for p in paths):
                out = dest / inner
                out.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None
                out.write_bytes(source.read())


def pinned_file(package: str, version: str, inner: str) -> Path:
    """One file of a pinned package, extracted once into the per-machine cache."""
    target = cache_dir() / "extracted" / f"{package.replace('/', '__')}-{version}"
    if not (target / inner).exists():
        extract(package, version, [inner], target)
    return target / inner
