"""The warehouse on the session platform: a loader killed at every step of a batch loses and
repeats nothing, and analysts in another process query whole batches while it writes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from streamlab import warehouse
from streamlab.config import Settings
from streamlab.data import generator, kafka_io, producer, topics
from streamlab.warehouse import loader, marts
from conftest import REPO, VENV_BIN, env_for, streamlab


def test_every_topic_of_the_catalog_lands_in_exactly_one_table():
    landed = Counter(topic for table in marts.TABLES for topic in table.topics)
    assert set(landed) == {t.name for t in [*topics.CATALOG, *topics.PEER_CATALOG]}
    assert max(landed.values()) == 1


def test_each_peer_output_lands_in_a_table_of_the_same_name_and_columns_as_its_jobs():
    jobs = {table.name: table for table in marts.MARTS}
    for table in marts.PEERS:
        assert table.schema == "peers"
        assert [c[:2] for c in table.columns] == [c[:2] for c in jobs[table.name].columns], table.name
    by_topic = marts.by_topic()
    for output, topic in marts.PEER_TOPIC.items():
        assert by_topic[topic].name == by_topic[output].name, topic
    assert "WHEN 'ks-items-home' THEN 'home'" in by_topic["ks-items-home"].columns[0][2]  # its branch
    assert "WHEN 'ks-late' THEN 'ks-lesson15-windows'" in by_topic["ks-late"].columns[0][2]  # its job
    assert "peers.customer_orders" in marts.VIEWS and "peers.customer_orders" not in marts.MART_NAMES


def test_every_mart_table_has_a_suite():
    from streamlab.warehouse import suites
    from streamlab.wire.expectations import RULE_CLASSES

    assert set(suites.SUITES) - {"reconciliation"} == set(marts.MART_NAMES)
    assert all(suites.SUITES[name] for name in marts.MART_NAMES)  # a promise at least, per table
    assert {rule.kind for rules in suites.SUITES.values() for rule in rules} == set(RULE_CLASSES)


def _more_data(settings: Settings, seed: int, count: int = 400) -> None:
    start = kafka_io.next_start_ms(settings.bootstrap_servers)
    spec = generator.GeneratorSpec(seed=seed, count=count, start_ms=start)
    producer.produce(generator.generate(spec), settings.bootstrap_servers, progress=False)


def _landed(settings: Settings, table: marts.Table, topic: str) -> Counter:
    with warehouse.reader(settings) as con:
        return Counter(con.execute(
            f"SELECT kafka_partition, kafka_offset FROM {table.qualified} WHERE kafka_topic = ?", [topic]
        ).fetchall())


@pytest.mark.platform
def test_a_loader_killed_at_any_step_of_a_batch_loses_and_repeats_nothing(platform):
    for seed, step in enumerate(loader.STEPS, start=7001):
        _more_data(platform, seed)  # a batch with new rows in it, every time
        crashed = streamlab(platform, "load", **{loader.CRASH_ENV: step})
        assert crashed.returncode == -signal.SIGKILL, (step, crashed.stdout, crashed.stderr)
    finished = streamlab(platform, "load")
    assert finished.returncode == 0, finished.stderr

    # Every record below the offset the loader resumes from landed once; none above it did. The
    # warehouse keeps what Kafka no longer has (a reset peer's emptied topics): not compared.
    with warehouse.reader(platform) as con:
        resume = {(t, p): o for t, p, o in con.execute(
            'SELECT topic, "partition", next_offset FROM ops.load_offsets').fetchall()}
    for topic, table in marts.by_topic().items():
        in_kafka = Counter((m.partition, m.offset) for m in kafka_io.read_all(platform.bootstrap_servers, topic)
                           if m.offset < resume.get((topic, m.partition), 0))
        starts = kafka_io.start_offsets(platform.bootstrap_servers, [topic])
        if topic not in {t.name for t in topics.PEER_CATALOG}:  # only a peer reset empties a topic here
            assert not any(starts.values()), (topic, starts)
        landed = Counter({(partition, offset): n for (partition, offset), n in _landed(platform, table, topic).items()
                          if offset >= starts.get((topic, partition), 0)})
        assert landed == in_kafka, (
            f"{topic}: {sum((in_kafka - landed).values())} missing, {sum((landed - in_kafka).values())} extra")
        assert all(n == 1 for n in landed.values())
    assert sum(resume.values()) > 0
    # Kafka's consumer group shows the same progress (for lag tools; never read back).
    committed = kafka_io.committed_offsets(platform.bootstrap_servers, loader.GROUP, list(marts.by_topic()))
    assert all(committed[tp] == offset for tp, offset in resume.items())


@pytest.mark.platform
def test_analysts_query_whole_batches_while_the_loader_writes(platform):
    streamlab(platform, "load")  # the backlog first: the test is about the stream
    follow = subprocess.Popen(
        [str(VENV_BIN / "streamlab"), "load", "--follow", "--interval", "0.2", "--batch-records", "500"],
        env=env_for(platform), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        reader = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "warehouse_reader.py"),
             str(warehouse.replica_path(platform)), "30"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        producing = threading.Thread(target=lambda: producer.produce(
            generator.generate(generator.GeneratorSpec(
                seed=7101, count=6000, start_ms=kafka_io.next_start_ms(platform.bootstrap_servers))),
            platform.bootstrap_servers, rate=250, progress=False))
        producing.start()
        out, err = reader.communicate(timeout=120)
        producing.join(timeout=120)
    finally:
        follow.terminate()  # SIGTERM: a load killed mid-batch is safe by design
        follow.communicate(timeout=60)
    assert reader.returncode == 0, err
    report = json.loads(out)
    assert report["failures"] == [] and report["partial"] == [], report
    assert report["queries"] > 50, report
    assert len(report["load_ids"]) >= 5, report  # it really did read while batches landed
    assert report["slowest_s"] < 2.0, report


def test_sql_without_a_warehouse_is_a_one_line_error(tmp_path):
    settings = Settings(state_dir=tmp_path / "empty")
    result = streamlab(settings, "sql", "SELECT 1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "run `streamlab load` first" in result.stderr


def test_sql_renders_a_table_csv_and_json_and_a_mistake_is_one_line(tmp_path):
    settings = Settings(state_dir=tmp_path / "state")
    with warehouse.writer(settings) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS n, 'a,b' AS s, NULL AS z")
    assert streamlab(settings, "sql", "SELECT * FROM t").stdout.splitlines()[2].split() == ["1", "a,b", "NULL"]
    assert streamlab(settings, "sql", "--format", "csv", "SELECT * FROM t").stdout == 'n,s,z\n1,"a,b",\n'
    assert json.loads(streamlab(settings, "sql", "--format", "json", "SELECT * FROM t").stdout) == [
        {"n": 1, "s": "a,b", "z": None}]
    piped = subprocess.run([str(VENV_BIN / "streamlab"), "sql", "--format", "csv"],
                           input="SELECT n + 41 AS answer FROM t", env=env_for(settings),
                           capture_output=True, text=True, timeout=60)
    assert piped.stdout == "answer\n42\n", piped.stderr
    wrong = streamlab(settings, "sql", "SELECT * FROM nowhere")
    assert wrong.returncode == 1 and wrong.stderr.startswith("streamlab: error: SQL failed: Catalog Error")
    assert wrong.stderr.strip().count("\n") == 0
    # The replica is read-only to analysts: a write is refused, and the data stays.
    refused = streamlab(settings, "sql", "DELETE FROM t")
    assert refused.returncode == 1 and "read-only" in refused.stderr
    with duckdb.connect(str(warehouse.replica_path(settings)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
