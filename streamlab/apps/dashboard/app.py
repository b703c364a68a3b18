"""The dashboard's ASGI app: the page, the interactive-query API, the live WebSocket.

Kafka → :class:`Feed` (a thread) → :class:`Views` and :class:`Hub` on the event loop → each
client's queue → its WebSocket. Reads are open; the one write (acknowledging an alert) needs
the token in ``<state>/dashboard/token``, which the page never carries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from streamlab.apps.dashboard import assets
from streamlab.apps.dashboard.feed import Batch, Feed
from streamlab.apps.dashboard.health import Health, restart_loop_alert
from streamlab.apps.dashboard.hub import Hub
from streamlab.apps.dashboard.notify import Notifier
from streamlab.apps.dashboard.views import TOPICS, Views
from streamlab.config import Settings

STATIC = Path(__file__).parent / "static"
HEALTH_EVERY_S = 5.0
KEY_PATTERNS = {"customer_id": r"^c-\d+$", "user_id": r"^c-\d+$", "card_id": r"^card-\d+$"}
log = logging.getLogger("streamlab.apps.dashboard")
Limit = Annotated[int, Query(ge=1, le=200, description="how many, newest first")]
Windows = Annotated[int, Query(ge=1, le=1440, description="how many 1-minute windows")]
Severity = Annotated[str, Query(pattern="^(low|medium|high)$", description="low, medium or high")]
BEARER = HTTPBearer(auto_error=False, description="the token in <state>/dashboard/token")


class Problem(BaseModel):
    """Every 4xx answer: one sentence saying what was wrong."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such key in the view"}}
WRITE_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No token, or not the token"},
    403: {"model": Problem, "description": "A page of another origin"},
}


def token_path(settings: Settings) -> Path:
    return settings.state / "dashboard" / "token"


def token(settings: Settings) -> str:
    """The write token, generated once, readable by its owner only."""
    path = token_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError), \
                os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


class State:
    """What the routes share; mutated only on the event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.views = Views(settings.dashboard_windows)
        self.hub = Hub(settings.dashboard_client_queue)
        self.restored_s: float | None = None
        self.health: dict[str, Any] = {}
        self.token = token(settings)

    # --8<-- [start:ingest]
    def ingest(self, batch: Batch) -> None:
        for message in batch:
            update = self.views.apply(message.topic, message.key, message.value)
            if update is not None and self.restored_s is not None:  # history is not pushed: it is the snapshot
                self.hub.publish(update.kind, update.data)

    def raise_alert(self, alert: dict[str, Any], notifier: Notifier) -> None:
        """A platform alert: into the feed and to live clients, and to the webhook, once."""
        update = self.views.platform_alert(alert)
        if update is not None:
            self.hub.publish(update.kind, update.data)
            notifier.submit(alert)

    def restored(self, seconds: float) -> None:
        if self.restored_s is None:
            self.restored_s = seconds
            log.info("views restored from %d records in %.1fs", self.views.records, seconds)
    # --8<-- [end:ingest]


def create_app(settings: Settings, follow: bool = True) -> FastAPI:
    """The app; ``follow=False`` leaves out Kafka, Flink and the webhook (for unit tests)."""
    state = State(settings)

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
    app.state.notifier = app.state.feed = None

    # --8<-- [start:bad_parameter]
    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "request"
        if first["loc"][0] == "path" and where in KEY_PATTERNS:  # a typo in an id, not a missing key
            example = KEY_PATTERNS[where].strip("^$").replace("\\d+", "0042")
            return JSONResponse({"detail": f"bad {where} '{first['input']}': expected the form {example}"},
                                status_code=400)
        return JSONResponse({"detail": f"bad parameter {where}: {first['msg']}"}, status_code=400)
    # --8<-- [end:bad_parameter]

    # --8<-- [start:writer]
    def writer(request: Request, bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        if not same_origin(request.headers.get("origin"), settings):
            raise HTTPException(403, f"cross-origin write refused (Origin {request.headers['origin']!r})")
        # Compared as bytes: HTTP headers arrive as latin-1 text, which compare_digest refuses
        # unless it is ASCII; any malformed header is then simply not the token.
        given = bearer.credentials.encode("latin-1", "replace") if bearer else b""
        if not secrets.compare_digest(given, state.token.encode()):
            raise HTTPException(401, f"this endpoint needs 'Authorization: Bearer <token>' with the "
                                     f"token in {token_path(settings)}")
    # --8<-- [end:writer]

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/snapshot", summary="Everything the page shows, and the sequence number it is current to")
    async def snapshot(windows: Windows = 30) -> dict[str, Any]:
        return {"seq": state.hub.seq, "epoch": state.hub.epoch, "restored": state.restored_s is not None,
                "chart": state.views.chart(windows), "categories": state.views.categories(),
                "alerts": state.views.latest_alerts(50), "health": state.health}

    @app.get("/api/categories", summary="Every category with its latest 1-minute window")
    async def categories() -> list[dict[str, Any]]:
        return state.views.categories()

    @app.get("/api/categories/{category}/revenue",
             summary="A category's revenue in its latest windows (latest first)", responses=NOT_FOUND)
    async def category_revenue(category: str, windows: Windows = 2) -> dict[str, Any]:
        rows = state.views.latest_windows(category, windows)
        if not rows:
            raise HTTPException(404, f"no revenue windows for category '{category}' yet "
                             f"(known: {', '.join(sorted(state.views.revenue)) or 'none'})")
        return {"category": category, "latest": rows[0], "previous": rows[1] if len(rows) > 1 else None,
                "windows": rows}

    @app.get("/api/categories/{category}/products", summary="Drill-down: a category's products by revenue", responses=NOT_FOUND)
    async def category_products(category: str, limit: Limit = 20) -> dict[str, Any]:
        rows = state.views.category_products(category)
        if not rows:
            raise HTTPException(404, f"no products in category '{category}'")
        return {"category": category, "products": rows[:limit]}

    @app.get("/api/users/{user_id}/session", summary="A user's visit still open, and the last closed one", responses=NOT_FOUND)
    async def user_session(user_id: Annotated[str, _key("user_id")]) -> dict[str, Any]:
        found = state.views.session(user_id)
        if found is None:
            raise HTTPException(404, f"no session for user '{user_id}'")
        return found

    # --8<-- [start:customer_route]
    @app.get("/api/customers/{customer_id}", summary="A customer's running stats (the customer-orders store)",
             responses=NOT_FOUND)
    async def customer(customer_id: Annotated[str, _key("customer_id")]) -> dict[str, Any]:
        found = state.views.customers.get(customer_id)
        if found is None:
            raise HTTPException(404, f"no orders for customer '{customer_id}' ({len(state.views.customers):,} customers)")
        return {"customer_id": customer_id, **found}
    # --8<-- [end:customer_route]

    @app.get("/api/cards/{card_id}/alerts", summary="The latest alerts for a card", responses=NOT_FOUND)
    async def card_alerts(card_id: Annotated[str, _key("card_id")], limit: Limit = 20) -> dict[str, Any]:
        found = state.views.card_alerts(card_id, limit)
        if found is None:
            raise HTTPException(404, f"no alerts for card '{card_id}'")
        return {"card_id": card_id, "alerts": found}

    @app.get("/api/alerts", summary="The latest alerts, newest first")
    async def alerts(limit: Limit = 50, min_severity: Severity = "low"
                     ) -> list[dict[str, Any]]:
        return state.views.latest_alerts(limit, min_severity)

    @app.get("/api/alerts/{alert_id}", summary="Drill-down: an alert with its evidence and the card's other alerts",
             responses=NOT_FOUND)
    async def alert(alert_id: str) -> dict[str, Any]:
        found = state.views.alert(alert_id)
        if found is None:
            raise HTTPException(404, f"no alert '{alert_id}' (the dashboard keeps the latest per card and overall)")
        others = [a for a in state.views.card_alerts(found["card_id"], 20) or [] if a["alert_id"] != alert_id]
        return {**found, "card_alerts": others}

    # --8<-- [start:ack_route]
    @app.post("/api/alerts/{alert_id}/ack", summary="Acknowledge an alert (needs the token)",
              dependencies=[Depends(writer)], responses=WRITE_REFUSED | NOT_FOUND)
    async def acknowledge(alert_id: str) -> dict[str, Any]:
        if state.views.alert(alert_id) is None:
            raise HTTPException(404, f"no alert '{alert_id}'")
        state.views.acknowledged.add(alert_id)
        state.hub.publish("ack", {"alert_id": alert_id})
        return {"alert_id": alert_id, "acknowledged": True}
    # --8<-- [end:ack_route]

    @app.get("/api/health", summary="Jobs, last checkpoints, consumer lag, and the dashboard itself")
    async def health() -> dict[str, Any]:
        notifier = app.state.notifier
        return {**state.health, "restored": state.restored_s is not None, "restore_s": state.restored_s,
                "records": state.views.records, "feed_error": app.state.feed.error if app.state.feed else None,
                "clients": len(state.hub.clients), "dropped": state.hub.dropped,
                "seq": state.hub.seq, "notifier": notifier.status() if notifier else None}

    # --8<-- [start:websocket]
    @app.websocket("/ws")
    async def live(ws: WebSocket, since: int | None = None, epoch: str | None = None) -> None:
        """Updates as they happen: ``{"seq", "type": window|alert|health|ack|reset, "sent_ms", "data"}``.
        Reconnect with ``?since=<last seq>&epoch=<snapshot's epoch>`` to resume; ``reset``: reload
        the snapshot (too much missed, or the dashboard restarted). A page of another origin is refused
        (browsers let any page open a WebSocket to any host, and send its Origin)."""
        if not same_origin(ws.headers.get("origin"), settings):
            await ws.close(code=1008, reason="cross-origin WebSocket refused")
            return
        await ws.accept()
        client = state.hub.subscribe(since, epoch)
        pump = asyncio.create_task(_pump(ws, client.queue))
        listen = asyncio.create_task(_listen(ws))
        dropped = asyncio.create_task(client.dropped.wait())
        try:
            await asyncio.wait({pump, listen, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            state.hub.unsubscribe(client)
            for task in (pump, listen, dropped):
                task.cancel()
            if client.dropped.is_set():
                with contextlib.suppress(Exception):  # it may not even read the close frame
                    await asyncio.wait_for(ws.close(code=4008, reason="too slow: reconnect with ?since="), 1.0)
    # --8<-- [end:websocket]

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.openapi = lambda: _spec(app)  # type: ignore[method-assign]

    @app.get("/vendor/chart.js", include_in_schema=False)
    def chart_library() -> FileResponse:  # one unversioned URL: the version lives in package.json only
        return FileResponse(assets.chart_js(), media_type="text/javascript")

    return app


# --8<-- [start:key_check]
def _key(name: str) -> Any:
    """A path parameter that must look like the generator's ids (a typo is a 400, not a 404):
    declared with its pattern, so the spec says what the API checks (``bad_parameter`` words it)."""
    example = KEY_PATTERNS[name].strip("^$").replace("\\d+", "0042")
    return PathParam(pattern=KEY_PATTERNS[name], description=f"of the form {example}")
# --8<-- [end:key_check]


def same_origin(origin: str | None, settings: Settings) -> bool:
    """No Origin (a client that is not a browser page), or the dashboard's own address."""
    port = settings.dashboard_port
    return origin is None or origin in {f"http://{settings.host}:{port}", f"http://127.0.0.1:{port}",
                                        f"http://localhost:{port}"}


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


async def _pump(ws: WebSocket, queue: asyncio.Queue[str]) -> None:
    while True:
        await ws.send_text(await queue.get())


async def _listen(ws: WebSocket) -> None:
    """Reads until the client goes away (clients send nothing we need)."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await ws.receive_text()


async def _watch_health(state: State, health: Health, notifier: Notifier) -> None:
    while True:
        try:
            state.health = await asyncio.to_thread(health.check)
            state.hub.publish("health", state.health)
            for row in state.health["jobs"]:
                if row["restart_loop"]:
                    state.raise_alert(restart_loop_alert(row, state.health["checked_ms"]), notifier)
        except Exception as err:  # noqa: BLE001 - keep watching
            log.warning("health check failed: %s", err)
        await asyncio.sleep(HEALTH_EVERY_S)

