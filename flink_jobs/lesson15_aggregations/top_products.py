# --8<-- [start:why_python]
"""The lesson's custom aggregate: the top products of a window by revenue, as one ranked list.

Python, because SQL has no aggregate that keeps a ranked list: Window Top-N emits a row per
rank that a second aggregation would have to reassemble (with an order LISTAGG does not keep).
Only the line items of one aggregation pass through the Python worker.
"""
# --8<-- [end:why_python]

from __future__ import annotations

from pyflink.common import Row
from pyflink.table import AggregateFunction, DataTypes
from pyflink.table.udf import udaf

# --8<-- [start:top_products_udaf]
TOP_N = 3
RESULT_TYPE = DataTypes.ARRAY(DataTypes.ROW([
    DataTypes.FIELD("product_id", DataTypes.STRING()),
    DataTypes.FIELD("revenue_cents", DataTypes.BIGINT()),
]))


class TopProducts(AggregateFunction):
    """Accumulates revenue per product; the result is the top ``TOP_N``, ties by product id."""

    def create_accumulator(self) -> Row:
        return Row({})

    def accumulate(self, accumulator: Row, product_id: str, revenue_cents: int) -> None:
        revenue = accumulator[0]
        revenue[product_id] = revenue.get(product_id, 0) + revenue_cents

    def merge(self, accumulator: Row, accumulators: list[Row]) -> None:
        for other in accumulators:
            for product_id, revenue_cents in other[0].items():
                self.accumulate(accumulator, product_id, revenue_cents)

    def get_value(self, accumulator: Row) -> list[Row]:
        ranked = sorted(accumulator[0].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
        return [Row(product_id, revenue) for product_id, revenue in ranked]

    def get_accumulator_type(self):
        return DataTypes.ROW([DataTypes.FIELD("revenue", DataTypes.MAP(DataTypes.STRING(), DataTypes.BIGINT()))])

    def get_result_type(self):
        return RESULT_TYPE


top_products = udaf(TopProducts())
# --8<-- [end:top_products_udaf]
