"""User errors at the CLI: one line that says what is wrong and how to fix it, non-zero exit."""

from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest

from streamlab.apps import cli
from streamlab.apps.commands import build_parser
from streamlab.config import Settings
from streamlab.jobs import drills, ops
from validation.oracle import TopicCheck
from conftest import VENV_BIN, fresh_settings, streamlab

SUBCOMMANDS = ["setup", "up", "down", "status", "topics", "generate", "deploy", "savepoint", "stop",
               "cancel", "restore", "prune", "drill", "read", "query", "demo"]


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def offline():
    """Settings whose ports nothing listens on."""
    return fresh_settings("test-cli")


def test_every_subcommand_has_help(capsys):
    """In-process: the parser the command line uses (a process each took 20 s for all)."""
    for command in SUBCOMMANDS:
        with pytest.raises(SystemExit) as exited:
            cli.main([command, "--help"])
        assert exited.value.code == 0, command
        assert "usage: streamlab " + command in capsys.readouterr().out


def test_unknown_subcommand(offline):
    assert_one_line_error(streamlab(offline, "frobnicate"), "invalid choice: 'frobnicate'", "--help")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["generate", "--count", "-3"], "-3 must be greater than 0"),
        (["generate", "--count", "many"], "'many' is not a whole number"),
        (["generate", "--late-fraction", "1.5"], "not a fraction between 0 and 1"),
        (["deploy", "lesson99"], "invalid choice: 'lesson99'"),
        (["query", "no-such-store", "c-1"], "invalid choice: 'no-such-store'"),
        (["up", "--brokers", "0"], "0 must be greater than 0"),
        (["up", "--brokers", "7"], "STREAMLAB_KAFKA_BROKERS=7"),
        (["drill", "broker-kill"], "broker-kill needs 3 brokers, this platform has 1"),
    ],
)
def test_bad_option_value(offline, args, fragment):
    assert_one_line_error(streamlab(offline, *args), fragment)


def test_bad_setting_value(offline):
    result = streamlab(offline, "status", STREAMLAB_KAFKA_PORT="abc")
    assert_one_line_error(result, "STREAMLAB_KAFKA_PORT='abc'", "valid integer")


def test_no_broker(offline):
    assert_one_line_error(streamlab(offline, "generate", "--count", "5"), "no Kafka broker", "streamlab up")


def test_duration_needs_rate(offline):
    assert_one_line_error(streamlab(offline, "generate", "--duration", "5"), "--duration needs a --rate")


def test_broker_port_taken(offline):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", offline.kafka_port))
        blocker.listen()
        result = streamlab(offline, "up")
    assert_one_line_error(result, f"port {offline.kafka_port}", "already in use", "STREAMLAB_KAFKA_PORT")


def test_java_missing(offline):
    # Only the venv on PATH: no java (the jars are already resolved, so Maven is not asked).
    result = streamlab(offline, "up", PATH=str(VENV_BIN))
    assert_one_line_error(result, "Java not found", "install Java 17")


def test_deploy_without_cluster(offline):
    assert_one_line_error(streamlab(offline, "deploy", "lesson14-stateless"), "no Flink cluster", "streamlab up")


def test_savepoint_without_cluster(offline):
    assert_one_line_error(streamlab(offline, "savepoint", "lesson14-stateless"), "no Flink cluster answers", "streamlab up")


def test_restore_without_a_savepoint(offline):
    assert_one_line_error(streamlab(offline, "restore", "lesson14-stateless"), "no savepoint of lesson14-stateless",
                          "streamlab savepoint lesson14-stateless")


def test_restore_from_a_directory_that_is_not_a_savepoint(offline, tmp_path):
    result = streamlab(offline, "restore", "lesson14-stateless", "--from", str(tmp_path))
    assert_one_line_error(result, "not a savepoint or checkpoint", "_metadata")


@pytest.mark.parametrize("missing, max_recovery_s, code", [(0, 300, 0), (2, 300, 1), (0, 1, 1)])
def test_drill_exit_code_is_its_verdict(tmp_path, monkeypatch, capsys, missing, max_recovery_s, code):
    """Only the verdict's wiring: the drill itself runs for real in test_recovery and the demo."""
    monkeypatch.setenv("STREAMLAB_STATE_DIR", str(tmp_path))
    checks = [TopicCheck("alerts", 10, 10, missing, missing, [])]
    monkeypatch.setattr(drills, "run", lambda settings, scenario, count: drills.DrillResult(
        scenario, datetime.now(timezone.utc), 5.0, checks))
    assert cli.run(["drill", "taskmanager-kill", "--max-recovery-s", str(max_recovery_s)]) == code
    assert ("PASSED" if code == 0 else "FAILED") in capsys.readouterr().out
    assert ops.latest_drills(Settings())["taskmanager-kill"]["passed"] == (code == 0)


def test_every_command_of_the_table_runs_a_handler_and_every_handler_a_command():
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices  # noqa: SLF001
    assert set(commands) == set(cli.HANDLERS)
