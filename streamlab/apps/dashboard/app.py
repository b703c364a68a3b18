"""The dashboard's ASGI app: the page, the interactive-query API, the live WebSocket.

Kafka → :class:`Feed` (a thread) → :class:`Views` and :class:`Hub` on the event loop → each
client's queue → its WebSocket. The routes are routers of their own: ``queries`` (reads, open
to all), ``writes`` (acknowledging an alert, which needs the token: ``security``) and ``live``
(the WebSocket); they share one :class:`State`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from streamlab.apps.dashboard import assets, live, queries, writes
from streamlab.apps.dashboard.feed import Feed
from streamlab.apps.dashboard.health import Health, health_action_alert, restart_loop_alert
from streamlab.apps.dashboard.notify import Notifier
from streamlab.apps.dashboard.queries import KEY_PATTERNS
from streamlab.apps.dashboard.security import token
from streamlab.apps.dashboard.state import State
from streamlab.apps.dashboard.views import TOPICS
from streamlab.config import Settings
from streamlab.jobs import ops

STATIC = Path(__file__).parent / "static"
HEALTH_EVERY_S = 5.0
HEALTH_ACTIONS_FOR = timedelta(hours=24)  # what job_health did this long ago is still shown (and sent once)
log = logging.getLogger("streamlab.apps.dashboard")


def create_app(settings: Settings, follow: bool = True) -> FastAPI:
    """The app; ``follow=False`` leaves out Kafka, Flink and the webhook (for unit tests)."""
    state = State(settings, token(settings))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not follow:
            yield
            return
        # --8<-- [start:lifespan]
        loop = asyncio.get_running_loop()
        feed = Feed(settings.bootstrap_servers, list(TOPICS),
                    on_batch=lambda batch: loop.call_soon_threadsafe(state.ingest, batch),
                    on_restored=lambda s: loop.call_soon_threadsafe(state.restored, s))
        notifier = Notifier(settings)
        app.state.notifier, app.state.feed = notifier, feed
        health = Health(settings)
        feed.start()
        notifier.start()
        watcher = asyncio.create_task(_watch_health(state, health, notifier))
        # --8<-- [end:lifespan]
        try:
            yield
        finally:
            watcher.cancel()
            for worker in (feed, notifier):
                worker.stop()
            for worker in (feed, notifier):  # closing its consumer leaves the group: a restart rejoins at once
                await asyncio.to_thread(worker.join, 10.0)

    app = FastAPI(title="streamlab dashboard", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # Swagger UI would load from a CDN; /openapi.json stays
                  description="Live windows and alerts, and lookups into the streams' materialised views.")
    app.state.dashboard = state
    app.state.notifier = app.state.feed = None
    app.add_exception_handler(RequestValidationError, bad_parameter)  # type: ignore[arg-type]
    for router in (queries.router, writes.router, live.router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.openapi = lambda: _spec(app)  # type: ignore[method-assign]

    @app.get("/vendor/chart.js", include_in_schema=False)
    def chart_library() -> FileResponse:  # one unversioned URL: the version lives in package.json only
        return FileResponse(assets.chart_js(), media_type="text/javascript")

    return app


# --8<-- [start:bad_parameter]
async def bad_parameter(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"][1:]) or "request"
    if first["loc"][0] == "path" and where in KEY_PATTERNS:  # a typo in an id, not a missing key
        example = KEY_PATTERNS[where].strip("^$").replace("\\d+", "0042")
        return JSONResponse({"detail": f"bad {where} '{first['input']}': expected the form {example}"},
                            status_code=400)
    return JSONResponse({"detail": f"bad parameter {where}: {first['msg']}"}, status_code=400)
# --8<-- [end:bad_parameter]


def _spec(app: FastAPI) -> dict[str, Any]:
    """FastAPI's spec, saying 400 where it says 422: ``bad_parameter`` answers a bad parameter
    with a 400 and a ``Problem``, never FastAPI's 422 and its list of errors."""
    if app.openapi_schema is None:
        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for operation in (op for path in spec["paths"].values() for op in path.values()):
            if operation["responses"].pop("422", None) is not None:
                operation["responses"]["400"] = {
                    "description": "A parameter is not valid",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        schemas = spec["components"]["schemas"]
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = spec
    return app.openapi_schema


async def _watch_health(state: State, health: Health, notifier: Notifier) -> None:
    while True:
        try:
            state.health = await asyncio.to_thread(health.check)
            state.hub.publish("health", state.health)
            for row in state.health["jobs"]:
                if row["restart_loop"]:
                    state.raise_alert(restart_loop_alert(row, state.health["checked_ms"]), notifier)
            since = datetime.now(timezone.utc) - HEALTH_ACTIONS_FOR
            for action in await asyncio.to_thread(ops.health_actions, state.settings, since):
                state.raise_alert(health_action_alert(action), notifier)
        except Exception as err:  # noqa: BLE001 - keep watching
            log.warning("health check failed: %s", err)
        await asyncio.sleep(HEALTH_EVERY_S)
