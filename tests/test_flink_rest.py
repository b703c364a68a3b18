"""The REST client's retries, against a real HTTP server that misbehaves on purpose."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from streamlab.runtime import processes
from streamlab.runtime.flink_rest import FlinkRest, FlinkRestError


class Script:
    """Status codes to answer with, in order; the last one repeats."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests = 0


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script(200)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            status = script.statuses[min(script.requests, len(script.statuses) - 1)]
            script.requests += 1
            body = ({"taskmanagers": 1} if status == 200 else
                    {"errors": ["org.apache.flink.runtime.rest.NotFoundException: Job abc not found\n\tat x"]})
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    [port] = processes.free_ports(1)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", script
    finally:
        httpd.shutdown()


def test_transient_errors_are_retried(server):
    url, script = server
    script.statuses = [503, 502, 200]
    assert FlinkRest(url, backoff_s=0.01).overview() == {"taskmanagers": 1}
    assert script.requests == 3


def test_a_refusal_is_one_line_with_flinks_message(server):
    url, script = server
    script.statuses = [404]
    with pytest.raises(FlinkRestError) as raised:
        FlinkRest(url, backoff_s=0.01).overview()
    assert script.requests == 1  # not retried
    assert str(raised.value) == "GET /overview: HTTP 404: org.apache.flink.runtime.rest.NotFoundException: Job abc not found"


def test_retries_give_up(server):
    url, script = server
    script.statuses = [503]
    with pytest.raises(FlinkRestError, match="HTTP 503"):
        FlinkRest(url, retries=2, backoff_s=0.01).overview()
    assert script.requests == 3


def test_nothing_listening():
    [port] = processes.free_ports(1)
    with pytest.raises(FlinkRestError, match="no Flink cluster answers .* run `streamlab up` first"):
        FlinkRest(f"http://127.0.0.1:{port}", retries=1, backoff_s=0.01).overview()
