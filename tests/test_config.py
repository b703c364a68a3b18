"""One typed config, overridable by STREAMLAB_* environment variables."""

from __future__ import annotations

import pytest

from streamlab.apps import platform
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import kafka_broker
from streamlab.runtime.flink_cluster import flink_config


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("STREAMLAB_KAFKA_PORT", "19092")
    monkeypatch.setenv("STREAMLAB_STATE_DIR", str(tmp_path))
    settings = Settings()
    assert settings.bootstrap_servers == "127.0.0.1:19092"
    assert settings.jars == (tmp_path / "jars").resolve()


def test_flink_writes_nothing_outside_the_state_dir(tmp_path):
    config = flink_config(Settings(state_dir=tmp_path))
    for key in ("io.tmp.dirs", "web.tmpdir", "web.upload.dir", "env.pid.dir", "env.log.dir",
                "execution.checkpointing.dir", "execution.checkpointing.savepoint-dir"):
        assert str(tmp_path) in str(config[key]), key
    assert config["state.backend.type"] == "rocksdb"
    assert config["execution.checkpointing.incremental"] is True


def test_a_cluster_counts_its_ports_up_and_replicates_three_times(tmp_path):
    settings = Settings(state_dir=tmp_path, kafka_port=19092, kafka_controller_port=19093, kafka_brokers=3)
    assert settings.bootstrap_servers == "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096"
    assert (settings.replication_factor, settings.min_insync_replicas) == (3, 2)
    props = kafka_broker.server_properties(settings, node=3)
    assert "node.id=3" in props and "listeners=PLAINTEXT://127.0.0.1:19096,CONTROLLER://127.0.0.1:19097" in props
    assert "controller.quorum.voters=1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097" in props
    assert "transaction.state.log.replication.factor=3" in props and "transaction.state.log.min.isr=2" in props
    one = Settings(state_dir=tmp_path)
    assert (one.replication_factor, one.min_insync_replicas) == (1, 1)
    assert "offsets.topic.replication.factor=1" in kafka_broker.server_properties(one)


def test_up_remembers_the_shape_and_the_environment_still_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("STREAMLAB_KAFKA_BROKERS", raising=False)
    monkeypatch.delenv("STREAMLAB_FLINK_TASKMANAGERS", raising=False)
    chosen = platform.with_shape(Settings(state_dir=tmp_path), brokers=3, taskmanagers=2)
    platform.record_shape(chosen)
    later = platform.with_shape(Settings(state_dir=tmp_path))
    assert (later.kafka_brokers, later.flink_taskmanagers) == (3, 2)
    monkeypatch.setenv("STREAMLAB_FLINK_TASKMANAGERS", "1")
    assert platform.with_shape(Settings(state_dir=tmp_path)).flink_taskmanagers == 1
    (tmp_path / "kafka" / "data").mkdir(parents=True)  # a 3-broker cluster's data is here now
    with pytest.raises(UserError, match="holds a 3-broker Kafka cluster"):
        platform.record_shape(platform.with_shape(Settings(state_dir=tmp_path), brokers=1))
