"""The dashboard's HTTP contract, from the outside: any malformed ``Authorization`` is a 401, a
write or a WebSocket from another origin is refused, and schemathesis, driving the live API
with what its spec allows and what it forbids, finds no answer the spec does not document."""

from __future__ import annotations

import subprocess

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from streamlab.apps.dashboard.app import create_app
from streamlab.apps.dashboard.security import token
from streamlab.config import Settings
from conftest import VENV_BIN

PORT = 18050


@pytest.fixture
def client(tmp_path) -> TestClient:
    """The app alone (no Kafka, Flink or webhook), for what needs no data."""
    return TestClient(create_app(Settings(state_dir=tmp_path, dashboard_port=PORT), follow=False))


@pytest.mark.parametrize("header", [
    "Bearer ü".encode(),  # issue 17: a non-ASCII token was a 500
    "Bearer \xff\xfe".encode("latin-1"), b"Bearer", b"Bearer ", b"bearer", b"Basic dXNlcjpwYXNz",
    b"Token abc", b"Bearer " + b"x" * 8000, b"Bearer a b",
])
def test_any_malformed_authorization_is_a_401(client, header):
    response = client.post("/api/alerts/a-1/ack", headers={"Authorization": header})
    assert response.status_code == 401, response.text
    assert "Authorization: Bearer <token>" in response.json()["detail"]


def test_a_write_or_a_websocket_from_another_origin_is_refused(client, tmp_path):
    auth = {"Authorization": f"Bearer {token(Settings(state_dir=tmp_path))}"}
    evil = {"Origin": "http://attacker.example"}
    refused = client.post("/api/alerts/a-1/ack", headers=auth | evil)
    assert refused.status_code == 403 and "cross-origin" in refused.json()["detail"]
    # The token and the dashboard's own page pass the checks (and there is no such alert).
    own = client.post("/api/alerts/a-1/ack", headers=auth | {"Origin": f"http://127.0.0.1:{PORT}"})
    assert own.status_code == 404, own.text
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws", headers=evil) as ws:
        ws.receive_text()
    with client.websocket_connect("/ws", headers={"Origin": f"http://localhost:{PORT}"}):
        pass


def test_the_spec_says_400_for_a_bad_parameter_as_the_api_does(client):
    spec = client.get("/openapi.json").json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert not [op["operationId"] for op in operations if "422" in op["responses"]]
    assert all("400" in op["responses"] for op in operations if op.get("parameters"))
    ack = spec["paths"]["/api/alerts/{alert_id}/ack"]["post"]
    assert {"401", "403", "404"} <= set(ack["responses"]) and ack["security"] == [{"HTTPBearer": []}]
    assert client.get("/api/customers/bob").status_code == 400


@pytest.mark.platform
def test_schemathesis_finds_nothing_the_live_api_mishandles(platform, demo, tmp_path):
    """`schemathesis run` against the running dashboard, over its views of the demo's data:
    every check it has (no 5xx, documented statuses, content types and schemas, invalid input
    refused, valid input accepted, auth not ignored), on every operation."""
    result = subprocess.run(
        [str(VENV_BIN / "schemathesis"), "run", f"{platform.dashboard_url}/openapi.json", "--checks", "all",
         "--max-examples", "30", "--seed", "17", "--no-color"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache stays out of the checkout
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
