"""Interactive queries: the read side of the state stores the Lesson 16 job materialises.

A store's changelog is a compacted topic (upsert-kafka: the latest value per key, a tombstone
for a deleted key). A view restores itself from it on start, the way a Kafka Streams state
store restores from its changelog topic, and then answers lookups by key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from streamlab.data import kafka_io, records
from streamlab.errors import UserError


@dataclass(frozen=True)
class Store:
    name: str
    topic: str
    key: str  # the aggregate's key column
    description: str


STORES = {
    store.name: store
    for store in [
        Store("customer-orders", "store-customer-orders", "customer_id",
              "per customer: orders, items, revenue_cents, last_order_ms"),
        Store("product-sales", "store-product-sales", "product_id",
              "per product: order lines, units, revenue_cents, last_order_ms"),
    ]
}


def store(name: str) -> Store:
    if name not in STORES:
        raise UserError(f"unknown store '{name}': choose one of {', '.join(STORES)}")
    return STORES[name]


# --8<-- [start:store_view]
@dataclass
class StoreView:
    store: Store
    values: dict[str, dict] = field(default_factory=dict)
    records_read: int = 0
    skipped: int = 0  # records neither a value nor a tombstone (not a JSON object, no key)
    restore_s: float = 0.0

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """One changelog record: the latest value wins, a tombstone deletes; anything else
        (another writer's bytes) is skipped and counted, never trusted or raised."""
        self.records_read += 1
        name = key.decode("utf-8", "replace") if key is not None else None
        row = records.json_object(value)
        if name is None or (value is not None and row is None):
            self.skipped += 1
        elif row is None:
            self.values.pop(name, None)
        else:
            self.values[name] = row

    def restore(self, bootstrap_servers: str) -> StoreView:
        """Read the changelog from the beginning to its end (committed records only)."""
        started = time.monotonic()
        for message in kafka_io.read_all(bootstrap_servers, self.store.topic):
            self.apply(message.key, message.value)
        self.restore_s = time.monotonic() - started
        return self

    def get(self, key: str) -> dict | None:
        return self.values.get(key)
# --8<-- [end:store_view]


def restored(bootstrap_servers: str, name: str) -> StoreView:
    return StoreView(store(name)).restore(bootstrap_servers)
