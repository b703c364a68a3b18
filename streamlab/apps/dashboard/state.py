"""What the dashboard's routes share, mutated only on the event loop: the views, the hub that
fans updates out, the last health check, and the write token."""

from __future__ import annotations

import logging
from typing import Any

from fastapi.requests import HTTPConnection

from streamlab.apps.dashboard.feed import Batch
from streamlab.apps.dashboard.hub import Hub
from streamlab.apps.dashboard.notify import Notifier
from streamlab.apps.dashboard.views import Views
from streamlab.config import Settings

log = logging.getLogger("streamlab.apps.dashboard")


class State:
    def __init__(self, settings: Settings, token: str) -> None:
        self.settings = settings
        self.views = Views(settings.dashboard_windows)
        self.hub = Hub(settings.dashboard_client_queue)
        self.restored_s: float | None = None
        self.health: dict[str, Any] = {}
        self.token = token

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


def current(connection: HTTPConnection) -> State:
    """The app's state, for a route (``Depends(current)``)."""
    return connection.app.state.dashboard
