"""One typed config, overridable by STREAMLAB_* environment variables."""

from __future__ import annotations

from streamlab.config import Settings
from streamlab.flink_cluster import flink_config


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
