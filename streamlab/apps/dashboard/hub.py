"""Fan-out of live updates to WebSocket clients, each behind its own bounded queue.

Every update gets a sequence number and is kept in a short history, so a client that
reconnects with the last number it saw gets exactly what it missed. The numbers are this hub's
own (its ``epoch``): a page still open across a dashboard restart holds a number of the old hub,
and is told to reload instead of waiting for a number the new hub has not reached. Publishing never waits
for a client: a client whose queue is full is dropped (it reconnects and resumes), so one slow
or dead client cannot slow the others. Everything here runs on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Client:
    queue: asyncio.Queue[str]
    dropped: asyncio.Event = field(default_factory=asyncio.Event)


class Hub:
    def __init__(self, queue_size: int, history: int = 1000) -> None:
        self.queue_size = queue_size
        self.seq = 0
        self.epoch = secrets.token_hex(6)
        self.history: deque[tuple[int, str]] = deque(maxlen=history)
        self.clients: set[Client] = set()
        self.dropped = 0

    # --8<-- [start:publish]
    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self.seq += 1
        text = json.dumps({"seq": self.seq, "type": kind, "sent_ms": int(time.time() * 1000), "data": data})
        self.history.append((self.seq, text))
        for client in list(self.clients):
            try:
                client.queue.put_nowait(text)
            except asyncio.QueueFull:
                self._drop(client)
    # --8<-- [end:publish]

    # --8<-- [start:subscribe]
    def subscribe(self, since: int | None, epoch: str | None = None) -> Client:
        """A new client; with ``since`` (of ``epoch``), first everything published after it that
        is still kept, or a ``reset`` telling it to reload: when too much was missed, or when
        ``since`` counts another hub's updates (a restart)."""
        client = Client(asyncio.Queue(self.queue_size))
        if since is not None and (since > self.seq or (epoch is not None and epoch != self.epoch)):
            client.queue.put_nowait(self._reset())
        elif since is not None and since < self.seq:
            missed = [text for seq, text in self.history if seq > since]
            oldest_kept = self.history[0][0] if self.history else self.seq + 1
            if since + 1 < oldest_kept or len(missed) > self.queue_size:
                client.queue.put_nowait(self._reset())
            else:
                for text in missed:
                    client.queue.put_nowait(text)
        self.clients.add(client)
        return client
    # --8<-- [end:subscribe]

    def _reset(self) -> str:
        return json.dumps({"seq": self.seq, "type": "reset", "sent_ms": int(time.time() * 1000),
                           "data": {"epoch": self.epoch}})

    def unsubscribe(self, client: Client) -> None:
        self.clients.discard(client)

    def _drop(self, client: Client) -> None:
        self.clients.discard(client)
        self.dropped += 1
        client.dropped.set()
