"""Lesson 15 aggregations' expected outputs, recomputed from the raw topics alone.

An order is late when its own time is more than the 2-minute grace behind its partition's
stream time when it came; every other valid order's line items count, each with the customer
version valid at the order's time (ASOF join). Money is exact; the mean and standard
deviation are compared to 3 decimal places (cents).
"""

from __future__ import annotations

import duckdb

from flink_jobs.lesson15_aggregations.contract import LESSON
from validation.oracle import (
    Source,
    TopicCheck,
    actual_json,
    compare,
    late_revenue,
    load_inputs,
    load_topic,
    output_sum,
    versions_view,
)

GRACE_MS = 120_000
WINDOW_MS = 5 * 60_000

WINDOW = {"window_start_ms": "BIGINT", "window_end_ms": "BIGINT"}
STATS = LESSON.output("l15-category-stats").duckdb_columns()
CUBE = LESSON.output("l15-revenue-cube").duckdb_columns()
LATE = LESSON.output("l15-aggregations-late").duckdb_columns()
TOP = {"category": "VARCHAR", **WINDOW, "top_products": "VARCHAR"}  # "p-001:123,p-002:99,..."


def _load(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    load_inputs(con, source, extra=("customers",))
    for topic, table in [("l15-category-stats", "out_stats"), ("l15-top-products", "out_top"),
                         ("l15-revenue-cube", "out_cube"), ("l15-aggregations-late", "out_late")]:
        load_topic(con, source, topic, table)
    con.execute(versions_view("customers", "customer_id", {"tier": "VARCHAR", "region": "VARCHAR"}))
    con.execute(f"""
CREATE OR REPLACE VIEW items_windowed AS
SELECT *, ts_ms - ts_ms % {WINDOW_MS} AS window_start_ms,
       ts_ms - ts_ms % {WINDOW_MS} + {WINDOW_MS} AS window_end_ms,
       ts_ms <= stream_time_ms - {GRACE_MS} AS late
FROM expected_items""")
    con.execute("""
CREATE OR REPLACE VIEW expected_late AS
SELECT DISTINCT order_id AS id, ts_ms, window_start_ms AS missed_window_start_ms,
       window_end_ms AS missed_window_end_ms, src_topic AS source_topic,
       src_partition AS source_partition, src_offset AS source_offset
FROM items_windowed WHERE late""")
    con.execute("""
CREATE OR REPLACE VIEW counted AS
SELECT i.*, c.tier, c.region
FROM (SELECT * FROM items_windowed WHERE NOT late) AS i
ASOF LEFT JOIN customers_versions AS c ON i.customer_id = c.customer_id AND i.ts_ms >= c.version_ms""")
    con.execute("""
CREATE OR REPLACE VIEW expected_stats AS
SELECT category, window_start_ms, window_end_ms, count(*) AS items, sum(line_total_cents)::BIGINT AS revenue_cents,
       min(line_total_cents) AS min_line_cents, max(line_total_cents) AS max_line_cents,
       round(avg(line_total_cents), 3) AS mean_line_cents,
       round(stddev_pop(line_total_cents), 3) AS stddev_line_cents
FROM counted GROUP BY ALL""")
    con.execute("""
CREATE OR REPLACE VIEW expected_top AS
SELECT category, window_start_ms, window_end_ms,
       string_agg(product_id || ':' || revenue, ',' ORDER BY rank) AS top_products
FROM (
  SELECT *, row_number() OVER (PARTITION BY category, window_start_ms
                               ORDER BY revenue DESC, product_id) AS rank
  FROM (SELECT category, window_start_ms, window_end_ms, product_id,
               sum(line_total_cents)::BIGINT AS revenue
        FROM counted GROUP BY ALL)
) WHERE rank <= 3
GROUP BY ALL""")
    dims = ["category", "region", "tier"]
    shown = {d: f"CASE WHEN grouping({d}) = 1 THEN '*' ELSE coalesce({d}, 'unknown') END" for d in dims}
    con.execute(f"""
CREATE OR REPLACE VIEW expected_cube AS
SELECT {" || '/' || ".join(shown.values())} AS cell,
       {', '.join(f'{expr} AS {d}' for d, expr in shown.items())},
       window_start_ms, window_end_ms, count(DISTINCT order_id) AS orders,
       count(DISTINCT customer_id) AS customers, sum(line_total_cents)::BIGINT AS revenue_cents
FROM counted
GROUP BY window_start_ms, window_end_ms, CUBE (category, region, tier)""")


def check(source: Source) -> list[TopicCheck]:
    """Every output of the aggregations job against the oracle."""
    con = duckdb.connect()
    _load(con, source)
    top_actual = """
SELECT json_extract_string(doc, '$.category'), CAST(json_extract_string(doc, '$.window_start_ms') AS BIGINT),
       CAST(json_extract_string(doc, '$.window_end_ms') AS BIGINT),
       array_to_string(list_transform(json_extract(doc, '$.top_products[*]'),
         lambda p: json_extract_string(p, '$.product_id') || ':' || json_extract_string(p, '$.revenue_cents')), ',')
FROM out_top"""
    return [
        compare(con, "l15-category-stats", f"SELECT {', '.join(STATS)} FROM expected_stats",
                f"""SELECT * REPLACE (round(mean_line_cents, 3) AS mean_line_cents,
                                      round(stddev_line_cents, 3) AS stddev_line_cents)
                    FROM ({actual_json('out_stats', STATS, with_key=False)})"""),
        compare(con, "l15-top-products", f"SELECT {', '.join(TOP)} FROM expected_top", top_actual),
        compare(con, "l15-revenue-cube", f"SELECT {', '.join(CUBE)} FROM expected_cube",
                actual_json("out_cube", CUBE, with_key=False)),
        compare(con, "l15-aggregations-late", f"SELECT {', '.join(LATE)} FROM expected_late",
                actual_json("out_late", LATE, with_key=False)),
    ]


def reconcile(source: Source) -> dict[str, int]:
    """counted + late = produced, in line-item revenue."""
    con = duckdb.connect()
    _load(con, source)
    row = con.execute(f"""
        SELECT (SELECT sum(line_total_cents) FROM expected_items), {output_sum('out_stats', 'revenue_cents')},
               {late_revenue('out_late')}""").fetchall()[0]
    return dict(zip(["revenue_produced", "revenue_counted", "revenue_late"], (int(v or 0) for v in row)))


def explain(source: Source) -> tuple[list[str], bool]:
    """How the input split, for the demo, and whether it balances."""
    t = reconcile(source)
    balanced = t["revenue_counted"] + t["revenue_late"] == t["revenue_produced"]
    return [f"revenue {t['revenue_produced']} cents = {t['revenue_counted']} in 5-minute windows + "
            f"{t['revenue_late']} late" + ("" if balanced else "  (DOES NOT balance)")], balanced
