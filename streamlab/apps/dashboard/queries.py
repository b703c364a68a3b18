"""The interactive-query API: lookups into the views, each answered from memory."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam

from streamlab.apps.dashboard.problems import NOT_FOUND
from streamlab.apps.dashboard.state import State, current

KEY_PATTERNS = {"customer_id": r"^c-\d+$", "user_id": r"^c-\d+$", "card_id": r"^card-\d+$"}
Current = Annotated[State, Depends(current)]
Limit = Annotated[int, Query(ge=1, le=200, description="how many, newest first")]
Windows = Annotated[int, Query(ge=1, le=1440, description="how many 1-minute windows")]
Severity = Annotated[str, Query(pattern="^(low|medium|high)$", description="low, medium or high")]

router = APIRouter(prefix="/api")


# --8<-- [start:key_check]
def _key(name: str) -> Any:
    """A path parameter that must look like the generator's ids (a typo is a 400, not a 404):
    declared with its pattern, so the spec says what the API checks (``bad_parameter`` words it)."""
    example = KEY_PATTERNS[name].strip("^$").replace("\\d+", "0042")
    return PathParam(pattern=KEY_PATTERNS[name], description=f"of the form {example}")
# --8<-- [end:key_check]


@router.get("/snapshot", summary="Everything the page shows, and the sequence number it is current to")
async def snapshot(state: Current, windows: Windows = 30) -> dict[str, Any]:
    return {"seq": state.hub.seq, "epoch": state.hub.epoch, "restored": state.restored_s is not None,
            "chart": state.views.chart(windows), "categories": state.views.categories(),
            "alerts": state.views.latest_alerts(50), "health": state.health}


@router.get("/categories", summary="Every category with its latest 1-minute window")
async def categories(state: Current) -> list[dict[str, Any]]:
    return state.views.categories()


@router.get("/categories/{category}/revenue",
            summary="A category's revenue in its latest windows (latest first)", responses=NOT_FOUND)
async def category_revenue(state: Current, category: str, windows: Windows = 2) -> dict[str, Any]:
    rows = state.views.latest_windows(category, windows)
    if not rows:
        raise HTTPException(404, f"no revenue windows for category '{category}' yet "
                                 f"(known: {', '.join(sorted(state.views.revenue)) or 'none'})")
    return {"category": category, "latest": rows[0], "previous": rows[1] if len(rows) > 1 else None,
            "windows": rows}


@router.get("/categories/{category}/products", summary="Drill-down: a category's products by revenue",
            responses=NOT_FOUND)
async def category_products(state: Current, category: str, limit: Limit = 20) -> dict[str, Any]:
    rows = state.views.category_products(category)
    if not rows:
        raise HTTPException(404, f"no products in category '{category}'")
    return {"category": category, "products": rows[:limit]}


@router.get("/users/{user_id}/session", summary="A user's visit still open, and the last closed one",
            responses=NOT_FOUND)
async def user_session(state: Current, user_id: Annotated[str, _key("user_id")]) -> dict[str, Any]:
    found = state.views.session(user_id)
    if found is None:
        raise HTTPException(404, f"no session for user '{user_id}'")
    return found


# --8<-- [start:customer_route]
@router.get("/customers/{customer_id}", summary="A customer's running stats (the customer-orders store)",
            responses=NOT_FOUND)
async def customer(state: Current, customer_id: Annotated[str, _key("customer_id")]) -> dict[str, Any]:
    found = state.views.customers.get(customer_id)
    if found is None:
        raise HTTPException(404, f"no orders for customer '{customer_id}' ({len(state.views.customers):,} customers)")
    return {"customer_id": customer_id, **found}
# --8<-- [end:customer_route]


@router.get("/cards/{card_id}/alerts", summary="The latest alerts for a card", responses=NOT_FOUND)
async def card_alerts(state: Current, card_id: Annotated[str, _key("card_id")], limit: Limit = 20) -> dict[str, Any]:
    found = state.views.card_alerts(card_id, limit)
    if found is None:
        raise HTTPException(404, f"no alerts for card '{card_id}'")
    return {"card_id": card_id, "alerts": found}


@router.get("/alerts", summary="The latest alerts, newest first")
async def alerts(state: Current, limit: Limit = 50, min_severity: Severity = "low") -> list[dict[str, Any]]:
    return state.views.latest_alerts(limit, min_severity)


@router.get("/alerts/{alert_id}", summary="Drill-down: an alert with its evidence and the card's other alerts",
            responses=NOT_FOUND)
async def alert(state: Current, alert_id: str) -> dict[str, Any]:
    found = state.views.alert(alert_id)
    if found is None:
        raise HTTPException(404, f"no alert '{alert_id}' (the dashboard keeps the latest per card and overall)")
    others = [a for a in state.views.card_alerts(found["card_id"], 20) or [] if a["alert_id"] != alert_id]
    return {**found, "card_alerts": others}


@router.get("/health", summary="Jobs, last checkpoints, consumer lag, and the dashboard itself")
async def health(state: Current, request: Request) -> dict[str, Any]:
    notifier, feed = request.app.state.notifier, request.app.state.feed
    return {**state.health, "restored": state.restored_s is not None, "restore_s": state.restored_s,
            "records": state.views.records, "feed_error": feed.error if feed else None,
            "clients": len(state.hub.clients), "dropped": state.hub.dropped,
            "seq": state.hub.seq, "notifier": notifier.status() if notifier else None}
