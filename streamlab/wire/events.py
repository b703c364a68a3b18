"""The online-store event domain, schema version 1.

Every event is a UTF-8 JSON object with ``schema_version`` and an event-time ``ts_ms``
(epoch milliseconds, UTC). Money is integer cents. A raw record's Kafka timestamp is the
broker's append time (the raw topics use ``LogAppendTime``), a clock no producer can set: event
times are simulated, often long past, but an event cannot happen after it was written.

Validity rules (what a job accepts; everything else is dead-lettered with a reason):

* the value is a JSON object with ``schema_version`` equal to 1;
* identifiers are non-empty strings; ``ts_ms`` is a non-negative integer, not before
  ``EARLIEST_TS_MS`` and at most ``MAX_AHEAD_MS`` after the record's Kafka timestamp;
* clicks: ``url`` starts with ``/``; ``device`` is one of ``DEVICES``; ``user_agent`` present;
* orders: ``items`` is a non-empty array; each item has a ``product_id``, a ``category`` from
  ``CATEGORIES``, a ``quantity`` from 1 to 999 and a ``unit_price_cents`` of at least 0.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

SCHEMA_VERSION = 1
# --8<-- [start:event_time_bounds]
# Event time you can trust: a record's ts_ms may lag its broker append time by any amount (a
# replay, a backfill, the generator's simulated 2026), but may lead it only by clock skew. A
# time outside these bounds would drag every job's stream time and watermark with it.
EARLIEST_TS_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_AHEAD_MS = 3_600_000  # one hour of producer clock skew
# --8<-- [end:event_time_bounds]


def trusted_time(ts_ms: object, kafka_timestamp_ms: int) -> int | None:
    """``ts_ms`` when it is an event time the rules accept for a record appended at
    ``kafka_timestamp_ms``, else None: what the tools reading raw topics may believe."""
    if not isinstance(ts_ms, int) or isinstance(ts_ms, bool):
        return None
    return ts_ms if EARLIEST_TS_MS <= ts_ms <= kafka_timestamp_ms + MAX_AHEAD_MS else None
CATEGORIES = ["electronics", "fashion", "home", "books", "sports"]
DEVICES = ["desktop", "mobile", "tablet"]
TIERS = ["bronze", "silver", "gold"]
COUNTRY_REGION = {
    "DE": "central", "AT": "central", "PL": "central",
    "FR": "west", "NL": "west", "BE": "west",
    "ES": "south", "IT": "south", "PT": "south",
}


@dataclass(frozen=True)
class Product:
    """Reference data (global table), keyed by ``product_id``; prices change over time."""

    product_id: str
    name: str
    category: str
    price_cents: int
    ts_ms: int
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True)
class Customer:
    """Changelog of customers (table), keyed by ``customer_id``; tiers change over time, and
    now and then a customer moves to another country."""

    customer_id: str
    name: str
    tier: str
    country: str
    region: str
    ts_ms: int
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True)
class Click:
    """A page view by a user (customer id), keyed by ``user_id``."""

    event_id: str
    user_id: str
    url: str
    device: str
    user_agent: str
    ts_ms: int
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True)
class LineItem:
    product_id: str
    category: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class Order:
    """An order with its line items, keyed by ``order_id``."""

    order_id: str
    customer_id: str
    items: list[LineItem]
    currency: str
    ts_ms: int
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True)
class Payment:
    """A card payment for an order, keyed by ``order_id``."""

    payment_id: str
    order_id: str
    card_id: str
    country: str
    amount_cents: int
    ts_ms: int
    schema_version: int = SCHEMA_VERSION


Event = Product | Customer | Click | Order | Payment

TOPIC_OF: dict[type, str] = {
    Product: "products",
    Customer: "customers",
    Click: "clicks",
    Order: "orders",
    Payment: "payments",
}


def key_of(event: Event) -> str:
    match event:
        case Product():
            return event.product_id
        case Customer():
            return event.customer_id
        case Click():
            return event.user_id
        case Order() | Payment():
            return event.order_id
    raise TypeError(event)


def encode(event: Event) -> bytes:
    return json.dumps(asdict(event), separators=(",", ":"), sort_keys=True).encode()
