"""The Kafka Streams peers (peers/kafka-streams) as the contracts declare them: each topology
reads the raw topics its ``Peer`` names and writes exactly the peer topics it names, and its
rules speak the vocabulary of ``streamlab.wire.events``. Their behaviour is unit-tested with
``TopologyTestDriver`` (``make check`` runs ``mvn test``); ``test_kafka_streams.py`` runs them
against a broker and the oracles."""

from __future__ import annotations

import re
import subprocess

import pytest

from streamlab.config import Settings
from streamlab.runtime import jars, kafka_streams
from streamlab.wire import events, topics
from streamlab.wire.headers import HEARTBEAT_HEADER
from conftest import STATE_ROOT

PEERED = kafka_streams.peered()


@pytest.fixture(scope="module")
def settings() -> Settings:
    built = Settings(state_dir=STATE_ROOT)
    jars.ensure_jars(built.jars, quiet=True)
    return built


@pytest.mark.parametrize("lesson", PEERED, ids=lambda lesson: lesson.key)
def test_each_peer_reads_and_writes_the_topics_its_contract_names(settings, lesson):
    described = kafka_streams.describe(settings, lesson.peer.job)
    sources = {t.strip() for found in re.findall(r"Source: \S+ \(topics: \[([^\]]*)\]\)", described)
               for t in found.split(",")}
    sinks = set(re.findall(r"Sink: \S+ \(topic: (\S+)\)", described))
    internal = {t for t in sources | sinks if t.endswith("-repartition")}
    assert sources - internal == set(lesson.peer.inputs) | set(lesson.peer.global_tables)
    expected = {topic for _, topic in lesson.peer.topics}
    assert sinks - internal == expected | ({topics.PEER_DEAD_LETTER.name} if lesson.peer.dead_letter else set())


def test_the_peers_rules_use_the_events_vocabulary():
    source = (jars.PEERS / "src/main/java/dev/streamlab/kstreams/Events.java").read_text()

    def listed(name: str) -> list[str]:
        return re.findall(r'"([^"]+)"', re.search(rf"{name} = List\.of\(([^)]*)\)", source).group(1))

    assert listed("CATEGORIES") == events.CATEGORIES
    assert listed("DEVICES") == events.DEVICES
    assert listed("TIERS") == events.TIERS
    pairs = re.search(r"COUNTRY_REGION = Map\.ofEntries\((.*?)\);", source, re.S).group(1)
    assert dict(re.findall(r'Map\.entry\("(\w+)", "(\w+)"\)', pairs)) == events.COUNTRY_REGION
    assert re.search(r'HEARTBEAT_HEADER = "([^"]+)"', source).group(1) == HEARTBEAT_HEADER
    for constant in ("EARLIEST_TS_MS", "MAX_AHEAD_MS"):
        value = re.search(rf"{constant} = ([\d_]+)L", source).group(1)
        assert int(value.replace("_", "")) == getattr(events, constant)


def test_a_wrong_command_line_gets_one_line_and_exit_2(settings):
    argv = kafka_streams.command(settings, "ks-no-such-peer")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: no topology 'ks-no-such-peer': choose one of")
    assert len(result.stderr.strip().splitlines()) == 1


def test_every_section_of_the_peers_is_on_a_page_beside_the_pyflink_code():
    docs = jars.REPO_ROOT / "docs"
    pages = {page: page.read_text() for page in docs.rglob("*.md")}
    for source in sorted((jars.PEERS / "src/main").rglob("*.java")):
        path = source.relative_to(jars.REPO_ROOT)
        for section in re.findall(r"--8<-- \[start:(\w+)\]", source.read_text()):
            include = f'--8<-- "{path}:{section}"'
            showing = [page for page, text in pages.items() if include in text]
            assert showing, f"no page shows {path}:{section}"
            for page in showing:
                tabs = pages[page]
                assert '=== "Kafka Streams"' in tabs and '=== "PyFlink"' in tabs, page
