"""The built jars are cached per machine by the digest of what they are built from: a fresh
clone of the same sources copies them instead of running Maven."""

from __future__ import annotations

import pytest

from streamlab.errors import UserError
from streamlab.runtime import jars


def test_a_clone_of_the_same_sources_copies_the_cached_jars(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(jars.shutil, "which", lambda name: None)  # no Maven, no Java: a copy needs neither
    cached = jars.cache_root() / jars._jvm_digest()
    (cached / "flink-lib").mkdir(parents=True)
    (cached / "flink-lib" / "streamlab-flink-functions-1.jar").write_bytes(b"jar")
    (cached / ".resolved").write_text(jars._jvm_digest())
    target = jars.ensure_jars(tmp_path / "clone" / "jars", quiet=True)
    assert (target / "flink-lib" / "streamlab-flink-functions-1.jar").read_bytes() == b"jar"
    assert jars.ensure_jars(target) == target  # resolved: a no-op


def test_a_cache_entry_of_other_sources_is_not_taken(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(jars.shutil, "which", lambda name: None)
    other = jars.cache_root() / "0123456789abcdef"
    other.mkdir(parents=True)
    (other / ".resolved").write_text("0123456789abcdef")
    with pytest.raises(UserError, match="Java not found"):  # it would build: the entry is not its sources'
        jars.ensure_jars(tmp_path / "clone" / "jars", quiet=True)
