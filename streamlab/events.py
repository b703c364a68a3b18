"""The online-store event domain, schema version 1.

Every event is a UTF-8 JSON object with ``schema_version`` and an event-time ``ts_ms``
(epoch milliseconds, UTC). Money is integer cents. Kafka record timestamps stay the time of
production: event times are simulated and would otherwise fall outside topic retention.

Validity rules (what a job accepts; everything else is dead-lettered with a reason):

* the value is a JSON object with ``schema_version`` equal to 1;
* identifiers are non-empty strings; ``ts_ms`` is a non-negative integer;
* clicks: ``url`` starts with ``/``; ``device`` is one of ``DEVICES``; ``user_agent`` present;
* orders: ``items`` is a non-empty array; each item has a ``product_id``, a ``category`` from
  ``CATEGORIES``, a ``quantity`` from 1 to 999 and a ``unit_price_cents`` of at least 0.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

SCHEMA_VERSION = 1
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
    """Changelog of customers (table), keyed by ``customer_id``; tiers change over time."""

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
