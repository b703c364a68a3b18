"""Running the dashboard: in the foreground (`streamlab dashboard`) or as a process `up` starts."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import httpx

from streamlab.apps.dashboard import assets
from streamlab.config import Settings
from streamlab.errors import UserError
from streamlab.runtime import processes

NAME = "dashboard"
STREAMLAB_BIN = Path(sys.executable).parent / "streamlab"


def serve(settings: Settings) -> None:
    """Serve until interrupted; one log line per alert and per notable event."""
    import uvicorn

    from streamlab.apps.dashboard.app import create_app
    from streamlab.apps.dashboard.security import token_path

    processes.require_free_port(settings.host, settings.dashboard_port, "the dashboard", "STREAMLAB_DASHBOARD_PORT")
    assets.chart_js()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per health poll
    print(f"dashboard on {settings.dashboard_url} (write token in {token_path(settings)})", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.dashboard_port,
                log_level="warning", ws_ping_interval=20, ws_ping_timeout=20)


def start(settings: Settings) -> None:
    """Start it unless it runs, and wait until its views are restored from the topics."""
    if processes.running(settings.state, NAME) is None:
        processes.require_free_port(settings.host, settings.dashboard_port, "the dashboard",
                                    "STREAMLAB_DASHBOARD_PORT")
        assets.chart_js()  # fetch here, where a network error is one clear line
        processes.spawn(settings.state, NAME, [str(STREAMLAB_BIN), "dashboard"], os.environ | _env(settings),
                        settings.state / "logs" / "dashboard.out", Path.cwd())
    wait_ready(settings)


def _env(settings: Settings) -> dict[str, str]:
    """The settings as STREAMLAB_* variables: the child sees exactly this configuration."""
    values = settings.model_dump() | {"state_dir": settings.state}
    return {f"STREAMLAB_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in values.items() if value is not None}


def wait_ready(settings: Settings) -> None:
    deadline = time.monotonic() + settings.startup_timeout_s
    while time.monotonic() < deadline:
        if processes.running(settings.state, NAME) is None:
            proc = processes.recorded(settings.state, NAME)
            raise UserError("the dashboard exited during startup; last log lines:\n"
                            + (processes.tail(proc.log) if proc else ""))
        try:
            if httpx.get(f"{settings.dashboard_url}/api/health", timeout=2).json().get("restored"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise UserError(f"the dashboard was not ready after {settings.startup_timeout_s:.0f}s; "
                    f"see {settings.state / 'logs' / 'dashboard.out'}")


def stop(settings: Settings) -> bool:
    return processes.stop(settings.state, NAME)
