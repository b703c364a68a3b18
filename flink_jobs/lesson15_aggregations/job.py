"""Lesson 15 — aggregations: statistics, a custom aggregate and a cube, in 5-minute windows.

    orders ─ validate ─ late? ─┬─ yes ──────────────────────────────────────► l15-aggregations-late
                               └─ no ─ flatMap ─ ⟕ customers AS OF order time
                                    ├─ TUMBLE 5 min by category: count, sum, min, max, mean, stddev ─► l15-category-stats
                                    ├─ TUMBLE 5 min by category: top-3 products (Java UDAF) ─────────► l15-top-products
                                    └─ TUMBLE 5 min, CUBE(category, region, tier) ──────────────────► l15-revenue-cube

An order is judged late when its own time is more than the watermark delay behind its
partition's stream time (as the joins job judges), so counted + late = produced: a temporal
join needs every order it enriches ahead of its watermark.
All three aggregations run in the JVM: the custom aggregate is Java (``TopProducts.java`` in
``jvm/functions``), so no line item crosses into a Python worker.
"""

from __future__ import annotations

from pyflink.table import StatementSet, TableEnvironment

from flink_jobs.common import kafka_ddl, streams
from flink_jobs.common.runner import JobArgs, run
from flink_jobs.lesson15_aggregations.contract import LESSON

WATERMARK_DELAY_S = 120
WINDOW_MIN = 5
WINDOW_MS = WINDOW_MIN * 60_000

TOP_PRODUCTS_CLASS = "dev.streamlab.flink.TopProducts"  # jvm/functions, on the cluster's classpath


# --8<-- [start:cube_all_or]
def all_or(column: str) -> str:
    """A cube dimension's value, or ``*`` in the rows that aggregate over all of its values."""
    return f"CASE WHEN GROUPING({column}) = 1 THEN '*' ELSE COALESCE({column}, 'unknown') END"
# --8<-- [end:cube_all_or]


# The queries a learner writes in this lesson's exercises (exercise.py); ``build`` takes each as
# a keyword. Both aggregate five-minute tumbling windows of ``items_enriched`` (line items with
# their customer's tier and region); the window bounds go out as epoch milliseconds.
BOUNDS = f"{streams.epoch_ms('window_start')} AS window_start_ms, {streams.epoch_ms('window_end')} AS window_end_ms"

# --8<-- [start:category_stats]
# AVG and STDDEV of a BIGINT are BIGINT in SQL: the line totals are cast to DOUBLE first.
CATEGORY_STATS = f"""
SELECT category, {BOUNDS}, COUNT(*) AS items, SUM(line_total_cents) AS revenue_cents,
       MIN(line_total_cents) AS min_line_cents, MAX(line_total_cents) AS max_line_cents,
       AVG(CAST(line_total_cents AS DOUBLE)) AS mean_line_cents,
       STDDEV_POP(CAST(line_total_cents AS DOUBLE)) AS stddev_line_cents
FROM TABLE(TUMBLE(TABLE items_enriched, DESCRIPTOR(ts), INTERVAL '{WINDOW_MIN}' MINUTE))
GROUP BY category, window_start, window_end"""
# --8<-- [end:category_stats]

# --8<-- [start:top_products_window]
# top_products is a custom aggregate function (jvm/functions, registered in ``build``).
TOP_PRODUCTS = f"""
SELECT category, {BOUNDS}, top_products(product_id, line_total_cents) AS top_products
FROM TABLE(TUMBLE(TABLE items_enriched, DESCRIPTOR(ts), INTERVAL '{WINDOW_MIN}' MINUTE))
GROUP BY category, window_start, window_end"""
# --8<-- [end:top_products_window]

# --8<-- [start:revenue_cube]
REVENUE_CUBE = f"""
SELECT {all_or('category')} || '/' || {all_or('region')} || '/' || {all_or('tier')} AS cell,
       {all_or('category')} AS category, {all_or('region')} AS region, {all_or('tier')} AS tier, {BOUNDS},
       COUNT(DISTINCT order_id) AS orders, COUNT(DISTINCT customer_id) AS customers,
       SUM(line_total_cents) AS revenue_cents
FROM TABLE(TUMBLE(TABLE items_enriched, DESCRIPTOR(ts), INTERVAL '{WINDOW_MIN}' MINUTE))
GROUP BY window_start, window_end, CUBE (category, region, tier)"""
# --8<-- [end:revenue_cube]


def build(env: TableEnvironment, args: JobArgs, category_stats: str = CATEGORY_STATS,
          top_products: str = TOP_PRODUCTS, revenue_cube: str = REVENUE_CUBE) -> StatementSet:
    # --8<-- [start:state_backend]
    # State on the heap: a flame graph of this job alone (docs/benchmark/profiles/
    # lesson15-aggregations.md) put most of its CPU in RocksDB reads and seeks of the cube's
    # distinct counts and the temporal join. Its state is small: five-minute windows and the
    # customers' latest versions.
    env.get_config().set("state.backend.type", "hashmap")
    # --8<-- [end:state_backend]
    # --8<-- [start:register_top_products]
    env.execute_sql(f"CREATE TEMPORARY FUNCTION top_products AS '{TOP_PRODUCTS_CLASS}' LANGUAGE JAVA")
    # --8<-- [end:register_top_products]
    streams.create_event_time_source(env, "orders", args, WATERMARK_DELAY_S)
    streams.create_reference_table(env, "customers", args, WATERMARK_DELAY_S, "customer_id", ["tier", "region"])
    kafka_ddl.create_sinks(env, LESSON.writes, args)

    # Late by the order's own time, not its window's: the temporal join below looks the
    # customer up as of the order's time, and Flink's join keeps only the newest version at or
    # before its watermark. An order behind the watermark, though inside its window's grace,
    # would find no version at all when the customer changed in between.
    env.execute_sql(f"""
CREATE TEMPORARY VIEW orders_judged AS
SELECT *, {streams.behind("ts", WATERMARK_DELAY_S)} AS late
FROM (SELECT *, ts_ms - MOD(ts_ms, {WINDOW_MS}) + {WINDOW_MS} AS window_end_ms FROM orders_valid)""")
    env.execute_sql("CREATE TEMPORARY VIEW orders_on_time AS SELECT * FROM orders_judged WHERE NOT late")
    # --8<-- [start:enrich_items]
    streams.create_order_items_view(env, source="orders_on_time", name="items_on_time", keep=["ts"])
    # A view of a table, not CREATE VIEW: the three INSERTs below share this one join and its
    # state, where each would expand a SQL view into a join of its own.
    enriched = env.sql_query("""
SELECT i.*, c.tier, c.region
FROM items_on_time AS i
LEFT JOIN customers_versions FOR SYSTEM_TIME AS OF i.ts AS c ON i.customer_id = c.customer_id""")
    env.create_temporary_view("items_enriched", enriched)
    # --8<-- [end:enrich_items]

    statements = env.create_statement_set()
    statements.add_insert_sql(f"INSERT INTO stats_out {category_stats}")
    statements.add_insert_sql(f"INSERT INTO top_out {top_products}")
    statements.add_insert_sql(f"INSERT INTO cube_out {revenue_cube}")
    statements.add_insert_sql(f"""
INSERT INTO late_out
SELECT order_id, ts_ms, window_end_ms - {WINDOW_MS}, window_end_ms, src_topic, src_partition, src_offset
FROM orders_judged WHERE late""")
    return statements


if __name__ == "__main__":
    run(LESSON.name, build)
