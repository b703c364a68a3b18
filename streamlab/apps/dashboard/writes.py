"""The one write: acknowledging an alert, for every open page at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from streamlab.apps.dashboard.problems import NOT_FOUND, WRITE_REFUSED
from streamlab.apps.dashboard.security import writer
from streamlab.apps.dashboard.state import State, current

router = APIRouter(prefix="/api")


# --8<-- [start:ack_route]
@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert (needs the token)",
             dependencies=[Depends(writer)], responses=WRITE_REFUSED | NOT_FOUND)
async def acknowledge(state: Annotated[State, Depends(current)], alert_id: str) -> dict[str, Any]:
    if state.views.alert(alert_id) is None:
        raise HTTPException(404, f"no alert '{alert_id}'")
    state.views.acknowledged.add(alert_id)
    state.hub.publish("ack", {"alert_id": alert_id})
    return {"alert_id": alert_id, "acknowledged": True}
# --8<-- [end:ack_route]
