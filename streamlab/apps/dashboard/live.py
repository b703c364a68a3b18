"""The live WebSocket: every update as it happens, resumable by sequence number."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from streamlab.apps.dashboard.security import same_origin
from streamlab.apps.dashboard.state import State

router = APIRouter()


# --8<-- [start:websocket]
@router.websocket("/ws")
async def live(ws: WebSocket, since: int | None = None, epoch: str | None = None) -> None:
    """Updates as they happen: ``{"seq", "type": window|alert|health|ack|reset, "sent_ms", "data"}``.
    Reconnect with ``?since=<last seq>&epoch=<snapshot's epoch>`` to resume; ``reset``: reload
    the snapshot (too much missed, or the dashboard restarted). A page of another origin is refused
    (browsers let any page open a WebSocket to any host, and send its Origin)."""
    state: State = ws.app.state.dashboard
    if not same_origin(ws.headers.get("origin"), state.settings):
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


async def _pump(ws: WebSocket, queue: asyncio.Queue[str]) -> None:
    while True:
        await ws.send_text(await queue.get())


async def _listen(ws: WebSocket) -> None:
    """Reads until the client goes away (clients send nothing we need)."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await ws.receive_text()
