"""Lesson 14's expected outputs: the stateless cleaning, the branches and the dead letter, which
holds every rejected record of every raw topic once (Lesson 14 validates them all)."""

from __future__ import annotations

import duckdb

from flink_jobs.lesson14_stateless.contract import ITEM_BRANCHES, LESSON
from streamlab.data import topics
from validation.oracle import (
    OTHER_STREAMS,
    Source,
    TopicCheck,
    actual_json,
    compare,
    compare_dead_letter,
    load_inputs,
    load_topic,
)

NAMED_BRANCHES = [b for b in ITEM_BRANCHES if b != "other"]

CLICK_COLUMNS = "key, event_id, user_id, page_type, path, product_id, device, ts_ms"
CLICK_TYPES = LESSON.output("l14-clicks").duckdb_columns()
ITEM_COLUMNS = (
    "key, order_id, line_no, customer_id, product_id, category, quantity, unit_price_cents,"
    " line_total_cents, ts_ms"
)
ITEM_TYPES = LESSON.output("l14-items-other").duckdb_columns()


def _load(source: Source, peer: bool = False) -> duckdb.DuckDBPyConnection:
    """The raw input, judged, and every Lesson 14 output topic as it is now: the PyFlink job's,
    or with ``peer`` its Kafka Streams peer's."""
    con = duckdb.connect()
    load_inputs(con, source, extra=OTHER_STREAMS)  # judged here too: their rejects are dead-lettered
    load_topic(con, source, (topics.PEER_DEAD_LETTER if peer else topics.DEAD_LETTER).name, "out_dead_letter")
    load_topic(con, source, _topic("l14-clicks", peer), "out_clicks")
    for branch in ITEM_BRANCHES:
        load_topic(con, source, _topic(f"l14-items-{branch}", peer), f"out_items_{branch}")
    return con


def _topic(output: str, peer: bool) -> str:
    return LESSON.peer.topic(output) if peer and LESSON.peer else output


def check(source: Source, peer: bool = False) -> list[TopicCheck]:
    """Compare every Lesson 14 output topic with the oracle's expectation: the PyFlink job's,
    or with ``peer`` the Kafka Streams peer's (the same rows, in its own topics)."""
    con = _load(source, peer)
    results = [compare(con, _topic("l14-clicks", peer), f"SELECT {CLICK_COLUMNS} FROM expected_clicks",
                       actual_json("out_clicks", CLICK_TYPES))]
    for branch in ITEM_BRANCHES:
        where = (f"category = '{branch}'" if branch != "other"
                 else "category NOT IN (" + ", ".join(f"'{b}'" for b in NAMED_BRANCHES) + ")")
        results.append(compare(con, _topic(f"l14-items-{branch}", peer),
                               f"SELECT {ITEM_COLUMNS} FROM expected_items WHERE {where}",
                               actual_json(f"out_items_{branch}", ITEM_TYPES)))
    job, dead_letter = ((LESSON.peer.job, topics.PEER_DEAD_LETTER) if peer and LESSON.peer
                        else (LESSON.name, topics.DEAD_LETTER))
    results.append(compare_dead_letter(con, job, ("clicks", "orders", *OTHER_STREAMS), dead_letter.name))
    return results


def check_peer(source: Source) -> list[TopicCheck]:
    """The Kafka Streams peer's outputs: the same rows as the job's, in its own topics."""
    return check(source, peer=True)


def balance(source: Source) -> dict[str, int]:
    """How the input split, in the job's *actual* output counts, beside the bots the oracle
    says it filtered: forwarded + bots + dead-lettered must equal what came in
    (``balanced`` is 1 when it does, for clicks and for orders)."""
    con = _load(source)
    dead = f"SELECT count(*) FROM out_dead_letter WHERE headers->>'dlq.job' = '{LESSON.name}'"
    items = " + ".join(f"(SELECT count(*) FROM out_items_{b})" for b in ITEM_BRANCHES)
    row = con.execute(f"""
        SELECT (SELECT count(*) FROM clicks_judged),
               (SELECT count(*) FROM out_clicks),
               (SELECT count(*) FROM bot_clicks),
               ({dead} AND headers->>'dlq.source.topic' = 'clicks'),
               (SELECT count(*) FROM orders_judged),
               -- an order is its id at its time: same-seed data sets reuse ids, at other times
               (SELECT count(DISTINCT (json_extract_string(doc, '$.order_id'), json_extract_string(doc, '$.ts_ms'))) FROM (
                  {" UNION ALL ".join(f"SELECT doc FROM out_items_{b}" for b in ITEM_BRANCHES)})),
               ({dead} AND headers->>'dlq.source.topic' = 'orders'),
               ({items})""").fetchall()[0]
    names = ["clicks_in", "clicks_forwarded", "clicks_bots", "clicks_dead",
             "orders_in", "orders_forwarded", "orders_dead", "items"]
    result = dict(zip(names, row))
    result["balanced"] = int(
        result["clicks_in"] == result["clicks_forwarded"] + result["clicks_bots"] + result["clicks_dead"]
        and result["orders_in"] == result["orders_forwarded"] + result["orders_dead"]
    )
    return result


def explain(source: Source) -> tuple[list[str], bool]:
    """How the input split, for the demo, and whether it balances."""
    b = balance(source)
    return [
        f"clicks {b['clicks_in']:>7} = {b['clicks_forwarded']} forwarded + {b['clicks_bots']} bots "
        f"filtered + {b['clicks_dead']} dead-lettered",
        f"orders {b['orders_in']:>7} = {b['orders_forwarded']} forwarded (-> {b['items']} line items) + "
        f"{b['orders_dead']} dead-lettered",
        "input and outputs balance" if b["balanced"] else "input and outputs DO NOT balance",
    ], bool(b["balanced"])
