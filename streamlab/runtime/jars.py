"""JVM artifacts from Maven Central, resolved through ``jvm/pom.xml`` and never committed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from streamlab.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "jvm" / "pom.xml"
# streamlab's own Flink SQL functions (JSON_FIELDS, TOP_PRODUCTS, ...), compiled from source into flink-lib/
FUNCTIONS = REPO_ROOT / "jvm" / "functions"
# The Kafka Streams peers of the lessons, compiled from source into kafka-streams/ with their runtime
PEERS = REPO_ROOT / "peers" / "kafka-streams"
BUILT = (FUNCTIONS, PEERS)  # the modules built from this repository's sources


def require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise UserError(
            "Java not found on PATH: install Java 17 (e.g. `apt-get install openjdk-17-jdk-headless`)"
        )
    return java


def _jvm_digest() -> str:
    """Changes with the poms and the built modules' sources: what the resolved jars are made of."""
    digest = hashlib.sha256(POM.read_bytes())
    for module in BUILT:
        for path in sorted([module / "pom.xml", *(module / "src").rglob("*.java")]):
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _maven(mvn: str, pom: Path, jars: Path, what: str) -> None:
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), "package", f"-Dstreamlab.jars={jars}"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise UserError(f"Maven could not {what}:\n{tail}")


def cache_root() -> Path:
    """Built jars per machine, named by ``_jvm_digest`` (as the npm files are, and pip's wheels):
    a fresh clone of the same sources copies them instead of running Maven for a minute."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "streamlab" / "jars"


def ensure_jars(jars: Path, quiet: bool = False) -> Path:
    """Resolve the jars into ``jars`` once per pom version; later calls are no-ops."""
    marker = jars / ".resolved"
    digest = _jvm_digest()
    if marker.exists() and marker.read_text() == digest:
        return jars
    cached = cache_root() / digest
    if (cached / ".resolved").is_file():
        if jars.exists():
            shutil.rmtree(jars)
        shutil.copytree(cached, jars)
        return jars
    require_java()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise UserError("Maven not found on PATH: install it (e.g. `apt-get install maven`)")
    if not quiet:
        print(f"Resolving Kafka broker and Flink Kafka connector jars, building streamlab's Flink "
              f"functions and Kafka Streams peers into {jars} (Maven) ...")
    if jars.exists():
        shutil.rmtree(jars)
    _maven(mvn, POM, jars, "resolve the jars (is Maven Central reachable?)")
    _maven(mvn, FUNCTIONS / "pom.xml", jars, "build streamlab's Flink functions (jvm/functions)")
    _maven(mvn, PEERS / "pom.xml", jars, "build the Kafka Streams peers (peers/kafka-streams)")
    marker.write_text(digest)
    staging = cached.with_name(f".{digest}.{os.getpid()}")
    shutil.copytree(jars, staging)
    try:
        staging.rename(cached)  # whole or absent: another setup may have cached it meanwhile
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return jars


def kafka_classpath(jars: Path) -> str:
    return str(jars / "kafka-libs" / "*")


def peers_classpath(jars: Path) -> str:
    """The Kafka Streams peers' jar and its runtime (kafka-streams, Jackson, log4j2)."""
    return str(jars / "kafka-streams" / "*")


def flink_connector_jars(jars: Path) -> list[Path]:
    return sorted((jars / "flink-lib").glob("*.jar"))
