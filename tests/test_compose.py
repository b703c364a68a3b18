"""docker-compose.yml cannot run here (no Docker engine); Docker Compose v2 itself parses it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import compose

from conftest import REPO

# The package's console script drops the exit code; call the Compose v2 binary it ships.
COMPOSE = str(Path(compose.__file__).parent / "docker-compose")


def config(*args: str) -> dict:
    result = subprocess.run([COMPOSE, "-f", str(REPO / "docker-compose.yml"), *args, "config", "--format", "json"],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_file_is_valid():
    services = config()["services"]
    assert set(services) == {"kafka", "jobmanager", "taskmanager"}
    assert services["jobmanager"]["build"]["dockerfile"] == "docker/flink/Dockerfile"
    assert (REPO / "docker" / "flink" / "Dockerfile").exists()
    assert services["kafka"]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert services["jobmanager"]["environment"]["STREAMLAB_KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_every_published_port_is_on_loopback_and_web_submission_is_off():
    """Kafka and Flink's REST API have no authentication: nothing but this host may reach them."""
    services = config("--env-file", "docker/cluster.env", "--profile", "cluster")["services"]
    published = [(name, port) for name, service in services.items() for port in service.get("ports", [])]
    assert published and all(port["host_ip"] == "127.0.0.1" for _, port in published), published
    assert "web.submit.enable: false" in services["jobmanager"]["environment"]["FLINK_PROPERTIES"]


def test_the_cluster_profile_is_three_brokers_and_two_taskmanagers():
    services = config("--env-file", "docker/cluster.env", "--profile", "cluster")["services"]
    assert set(services) == {"kafka", "kafka-2", "kafka-3", "jobmanager", "taskmanager", "taskmanager-2"}
    brokers = [services[name]["environment"] for name in ("kafka", "kafka-2", "kafka-3")]
    assert [int(env["KAFKA_NODE_ID"]) for env in brokers] == [1, 2, 3]
    assert {env["KAFKA_CONTROLLER_QUORUM_VOTERS"] for env in brokers} == {
        "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"}
    assert all(env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3" for env in brokers)
    assert all(env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2" for env in brokers)
    streamlab = services["jobmanager"]["environment"]
    assert streamlab["STREAMLAB_KAFKA_BOOTSTRAP"] == "kafka:9092,kafka-2:9092,kafka-3:9092"
    assert streamlab["STREAMLAB_KAFKA_BROKERS"] == "3"  # topics with 3 replicas, outputs 2 in sync


def test_compose_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  kafka:\n    image: apache/kafka:4.1.1\n    portz: ['9092:9092']\n")
    result = subprocess.run(
        [COMPOSE, "-f", str(broken), "config", "-q"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "additional properties 'portz' not allowed" in result.stderr
