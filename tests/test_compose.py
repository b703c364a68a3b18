"""docker-compose.yml cannot run here (no Docker engine); Docker Compose v2 itself parses it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import compose

from conftest import REPO

# The package's console script drops the exit code; call the Compose v2 binary it ships.
COMPOSE = str(Path(compose.__file__).parent / "docker-compose")


def test_compose_file_is_valid():
    result = subprocess.run(
        [COMPOSE, "-f", str(REPO / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert set(config["services"]) == {"kafka", "jobmanager", "taskmanager"}
    assert config["services"]["jobmanager"]["build"]["dockerfile"] == "docker/flink/Dockerfile"
    assert (REPO / "docker" / "flink" / "Dockerfile").exists()


def test_compose_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  kafka:\n    image: apache/kafka:4.1.1\n    portz: ['9092:9092']\n")
    result = subprocess.run(
        [COMPOSE, "-f", str(broken), "config", "-q"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "additional properties 'portz' not allowed" in result.stderr
