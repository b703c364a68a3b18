"""Who may change anything: the one write needs the token in ``<state>/dashboard/token``, which
the page never carries, and neither a write nor the WebSocket is taken from a page of another
origin (browsers let any page send them, with its Origin)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from streamlab.apps.dashboard.state import State, current
from streamlab.config import Settings

BEARER = HTTPBearer(auto_error=False, description="the token in <state>/dashboard/token")


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


def same_origin(origin: str | None, settings: Settings) -> bool:
    """No Origin (a client that is not a browser page), or the dashboard's own address."""
    port = settings.dashboard_port
    return origin is None or origin in {f"http://{settings.host}:{port}", f"http://127.0.0.1:{port}",
                                        f"http://localhost:{port}"}


# --8<-- [start:writer]
def writer(request: Request, state: Annotated[State, Depends(current)],
           bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
    if not same_origin(request.headers.get("origin"), state.settings):
        raise HTTPException(403, f"cross-origin write refused (Origin {request.headers['origin']!r})")
    # Compared as bytes: HTTP headers arrive as latin-1 text, which compare_digest refuses
    # unless it is ASCII; any malformed header is then simply not the token.
    given = bearer.credentials.encode("latin-1", "replace") if bearer else b""
    if not secrets.compare_digest(given, state.token.encode()):
        raise HTTPException(401, f"this endpoint needs 'Authorization: Bearer <token>' with the "
                                 f"token in {token_path(state.settings)}")
# --8<-- [end:writer]
