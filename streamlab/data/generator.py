"""A seeded, deterministic generator of online-store events with disorder, late and bad data.

The same ``GeneratorSpec`` always yields the same records in the same order. Event time is
simulated from ``start_ms``; each record's *arrival* is its event time plus a small random
delay (``max_disorder_ms``), or a large one for the ``late_fraction`` of events, and records
are produced in arrival order — so topics hold out-of-order and late events, as in real life.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace

from streamlab.wire import events as ev

MINUTE_MS = 60_000


@dataclass(frozen=True)
class GeneratorSpec:
    seed: int = 42
    count: int = 10_000
    start_ms: int = 1_767_254_400_000  # 2026-01-01T08:00:00Z, the store opens
    customers: int = 200
    products: int = 40
    max_disorder_ms: int = 20_000
    late_fraction: float = 0.02
    late_delay_ms: tuple[int, int] = (5 * MINUTE_MS, 15 * MINUTE_MS)
    malformed_fraction: float = 0.02
    bot_session_fraction: float = 0.05
    fraud_fraction: float = 0.01
    heartbeat: bool = True
    heartbeat_after_ms: int = 60 * 60_000  # event time from the last event to the closing heartbeats


@dataclass(frozen=True)
class Record:
    """One Kafka record as produced; ``kind`` says how the generator shaped it."""

    topic: str
    key: bytes
    value: bytes
    arrival_ms: int
    kind: str  # "valid", "late", "malformed:<how>" or "heartbeat"


def heartbeat_value(ts_ms: int) -> bytes:
    return json.dumps({"heartbeat": True, "ts_ms": ts_ms}).encode()


MALFORMATIONS = ["not-json", "missing-field", "wrong-type", "invalid-value", "bad-schema-version"]
BOT_AGENTS = ["Googlebot/2.1 (+http://www.google.com/bot.html)", "AhrefsBot/7.0", "Mozilla/5.0 (compatible; bingbot/2.0)"]
HUMAN_AGENTS = {
    "desktop": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    "mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile Safari/604.1",
    "tablet": "Mozilla/5.0 (iPad; CPU OS 17_0) Safari/604.1",
}
FIRST_NAMES = ["Ada", "Ben", "Chen", "Dora", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jana"]
NOUNS = ["Lamp", "Phone", "Jacket", "Novel", "Ball", "Kettle", "Scarf", "Tablet", "Chair", "Racket"]


class _World:
    """Mutable simulation state: the customers and products as they are now."""

    def __init__(self, spec: GeneratorSpec, rng: random.Random) -> None:
        self.rng = rng
        countries = list(ev.COUNTRY_REGION)
        self.products = {
            f"p-{i:03d}": ev.Product(
                product_id=f"p-{i:03d}",
                name=f"{rng.choice(NOUNS)} {i}",
                category=ev.CATEGORIES[i % len(ev.CATEGORIES)],
                price_cents=rng.randrange(299, 49_999),
                ts_ms=spec.start_ms,
            )
            for i in range(1, spec.products + 1)
        }
        self.customers = {}
        for i in range(1, spec.customers + 1):
            country = rng.choice(countries)
            self.customers[f"c-{i:04d}"] = ev.Customer(
                customer_id=f"c-{i:04d}",
                name=f"{rng.choice(FIRST_NAMES)} {i}",
                tier=rng.choices(ev.TIERS, weights=[6, 3, 1])[0],
                country=country,
                region=ev.COUNTRY_REGION[country],
                ts_ms=spec.start_ms,
            )
        self.cards = {cid: f"card-{i:04d}" for i, cid in enumerate(self.customers, start=1)}


def _fraud(world: _World, n: str, start: int) -> list[ev.Event]:
    """Card testing with a stolen card: a few cheap orders paid seconds apart, the first from
    the card's home country and the rest from abroad, then one dear order — the patterns the
    fraud alerts look for."""
    rng = world.rng
    customer = rng.choice(list(world.customers.values()))
    abroad = rng.choice([c for c in ev.COUNTRY_REGION if c != customer.country])
    by_price = sorted(world.products.values(), key=lambda p: p.price_cents)
    out: list[ev.Event] = []
    t = start
    count = rng.randint(3, 5)
    for i in range(count):
        product, quantity = (by_price[-1], rng.randint(5, 10)) if i == count - 1 else (by_price[0], 1)
        order = ev.Order(f"o-{n}-f{i}", customer.customer_id,
                         [ev.LineItem(product.product_id, product.category, quantity, product.price_cents)],
                         "EUR", t)
        out.append(order)
        out.append(ev.Payment(f"pay-{n}-f{i}", order.order_id, world.cards[customer.customer_id],
                              customer.country if i == 0 else abroad, quantity * product.price_cents,
                              t + rng.randint(1_000, 5_000)))
        t += rng.randint(5_000, 30_000)
    return out


def _session(world: _World, spec: GeneratorSpec, number: int, start: int) -> list[ev.Event]:
    """One visit: page views, maybe an order, maybe its payment, maybe a data change — or,
    now and then, a fraud burst.

    Ids carry the seed, so data sets of different seeds never share an id.
    """
    rng = world.rng
    n = f"{spec.seed}-{number}"
    if rng.random() < spec.fraud_fraction:
        return _fraud(world, n, start)
    customer = rng.choice(list(world.customers.values()))
    bot = rng.random() < spec.bot_session_fraction
    device = rng.choice(ev.DEVICES)
    agent = rng.choice(BOT_AGENTS) if bot else HUMAN_AGENTS[device]
    out: list[ev.Event] = []
    t = start
    viewed: list[ev.Product] = []
    for page in range(rng.randint(3, 12) if bot else rng.randint(1, 8)):
        product = rng.choice(list(world.products.values()))
        url = rng.choice(
            ["/", f"/category/{product.category}", f"/product/{product.product_id}",
             f"/Product/{product.product_id}?ref=mail", "/search?q=" + product.name.split()[0]]
        )
        if url.lower().startswith("/product/"):
            viewed.append(product)
        out.append(ev.Click(f"k-{n}-{page}", customer.customer_id, url, device, agent, t))
        t += rng.randint(200, 1_000) if bot else rng.randint(5_000, 120_000)
    if not bot and viewed and rng.random() < 0.35:
        picks = rng.sample(viewed, k=min(len(viewed), rng.randint(1, 3)))
        items = [
            ev.LineItem(p.product_id, p.category, rng.randint(1, 3), world.products[p.product_id].price_cents)
            for p in picks
        ]
        out.append(ev.Click(f"k-{n}-cart", customer.customer_id, "/cart", device, agent, t))
        t += rng.randint(10_000, 60_000)
        order = ev.Order(f"o-{n}", customer.customer_id, items, "EUR", t)
        out.append(order)
        if rng.random() < 0.9:
            # Mostly paid within minutes from the home country; some too late, some from abroad.
            delay = rng.randint(5_000, 10 * MINUTE_MS) if rng.random() < 0.9 else rng.randint(16, 40) * MINUTE_MS
            country = customer.country if rng.random() < 0.95 else rng.choice(list(ev.COUNTRY_REGION))
            total = sum(i.quantity * i.unit_price_cents for i in items)
            out.append(ev.Payment(f"pay-{n}", order.order_id, world.cards[customer.customer_id],
                                  country, total, t + delay))
    if rng.random() < 0.03:
        changed = replace(customer, tier=rng.choice(ev.TIERS), ts_ms=t)
        # A quarter of the changes are a move abroad, drawn from a generator of their own so
        # every other record of the data set stays as it was before moves existed.
        move = random.Random(f"{spec.seed}-move-{number}")
        if move.random() < 0.25:
            country = move.choice(sorted(set(ev.COUNTRY_REGION) - {customer.country}))
            changed = replace(changed, country=country, region=ev.COUNTRY_REGION[country])
        world.customers[customer.customer_id] = changed
        out.append(changed)
    if rng.random() < 0.02:
        product = rng.choice(list(world.products.values()))
        changed_p = replace(product, price_cents=max(99, int(product.price_cents * rng.uniform(0.8, 1.2))), ts_ms=t)
        world.products[product.product_id] = changed_p
        out.append(changed_p)
    return out


def _malform(value: bytes, how: str, rng: random.Random) -> bytes:
    if how == "not-json":
        return value[: rng.randint(1, max(1, len(value) - 2))]
    doc = json.loads(value)
    if how == "missing-field":
        doc.pop("ts_ms")
    elif how == "wrong-type":
        doc["ts_ms"] = "yesterday"
    elif how == "invalid-value":
        if "items" in doc:
            doc["items"][-1]["quantity"] = 0
        elif "url" in doc:
            doc["url"] = "no-leading-slash"
        else:
            doc["order_id"] = ""
    elif how == "bad-schema-version":
        doc["schema_version"] = 99
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


FACT_TOPICS = {"clicks", "orders", "payments"}
ALL_TOPICS = set(ev.TOPIC_OF.values())


def generate(spec: GeneratorSpec) -> Iterator[Record]:
    """Yield ``spec.count`` fact events (clicks, orders, payments) plus the reference data
    they refer to, in arrival order.

    A bounded data set ends with one heartbeat per topic, an hour of event time after the last
    event: the producer sends it to every partition (with the ``streamlab-heartbeat`` header),
    so event time advances everywhere, every window closes and every temporal join (whose
    table side needs event time too) emits. Jobs never count or
    dead-letter heartbeats; as in Kafka Streams, only new records move stream time.
    """
    rng = random.Random(spec.seed)
    world = _World(spec, rng)
    pending: list[tuple[int, int, Record]] = []
    seq = 0

    def push(event: ev.Event, arrival: int, kind: str, value: bytes) -> None:
        nonlocal seq
        record = Record(ev.TOPIC_OF[type(event)], ev.key_of(event).encode(), value, arrival, kind)
        heapq.heappush(pending, (arrival, seq, record))
        seq += 1

    for reference in [*world.products.values(), *world.customers.values()]:
        push(reference, spec.start_ms - MINUTE_MS, "valid", ev.encode(reference))

    facts = 0
    session_start = spec.start_ms
    n = 0
    while facts < spec.count:
        n += 1
        session_start += rng.randint(500, 15_000)
        for event in _session(world, spec, n, session_start):
            topic = ev.TOPIC_OF[type(event)]
            value = ev.encode(event)
            kind, arrival = "valid", event.ts_ms + rng.randint(0, spec.max_disorder_ms)
            if topic in FACT_TOPICS:
                if facts >= spec.count:
                    break
                facts += 1
                roll = rng.random()
                if roll < spec.malformed_fraction:
                    how = rng.choice(MALFORMATIONS)
                    kind, value = f"malformed:{how}", _malform(value, how, rng)
                elif roll < spec.malformed_fraction + spec.late_fraction:
                    kind, arrival = "late", event.ts_ms + rng.randint(*spec.late_delay_ms)
            push(event, arrival, kind, value)
        # Everything that arrives before the next session can start is final: emit it.
        while pending and pending[0][0] < session_start:
            yield heapq.heappop(pending)[2]
    last_ts = spec.start_ms
    while pending:
        record = heapq.heappop(pending)[2]
        last_ts = max(last_ts, record.arrival_ms)
        yield record
    if spec.heartbeat:
        for topic in sorted(ALL_TOPICS):
            yield Record(topic, b"", heartbeat_value(last_ts + spec.heartbeat_after_ms),
                         last_ts + spec.heartbeat_after_ms, "heartbeat")
