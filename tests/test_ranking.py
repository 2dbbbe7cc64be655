"""``with_ntile`` numbers rows as SQL's NTILE does, without a window over the whole table.

Expected buckets come from NTILE's definition computed in Python, never from an engine.
"""

from decimal import Decimal

import ibis
import ibis.expr.operations as ops
import pyarrow as pa
from helpers import Engine
from hypothesis import example, given
from hypothesis import strategies as st

from medallion_ibis import with_ntile

VALUES = st.lists(
    st.one_of(st.none(), st.decimals(-50, 50, places=2), st.sampled_from([Decimal("1.00")])),
    max_size=30,
)


def ntile_by_definition(
    values: list[Decimal | None], buckets: int, descending: bool
) -> dict[int, int]:
    """Row id → NTILE bucket: rows ordered by value (NULLs last) then id; the first
    ``len % buckets`` buckets hold one row more."""
    present = sorted(
        (index for index, value in enumerate(values) if value is not None),
        key=lambda index: (values[index], -index if descending else index),
        reverse=descending,
    )
    order = present + [index for index, value in enumerate(values) if value is None]
    size, larger = divmod(len(order), buckets)
    numbered: dict[int, int] = {}
    position = 0
    for bucket in range(1, buckets + 1):
        for row in order[position : position + size + (bucket <= larger)]:
            numbered[row] = bucket
        position += size + (bucket <= larger)
    return numbered


def numbered_on(
    engine: Engine, values: list[Decimal | None], buckets: int, descending: bool
) -> dict[int, int]:
    rows = ibis.memtable(
        pa.table(
            {
                "id": pa.array(range(len(values)), pa.int64()),
                "value": pa.array(values, pa.decimal128(38, 2)),
            }
        )
    )
    numbered = with_ntile(rows, "bucket", buckets, "value", "id", descending=descending)
    return {row["id"]: row["bucket"] for row in engine.to_pyarrow(numbered).to_pylist()}


@given(values=VALUES, buckets=st.integers(1, 7), descending=st.booleans())
@example(values=[Decimal(1)] * 7, buckets=5, descending=False)
@example(values=[None, Decimal(2), Decimal(2), None], buckets=3, descending=True)
def test_buckets_are_ntiles_with_ties_broken_by_id(
    engine: Engine, values: list[Decimal | None], buckets: int, descending: bool
) -> None:
    assert numbered_on(engine, values, buckets, descending) == ntile_by_definition(
        values, buckets, descending
    )


def test_no_window_orders_the_whole_input() -> None:
    """Every window either has a partition or runs over the per-range aggregate (at most
    RANGES + 1 rows): that is what lets Spark spread the ranking over its executors."""
    rows = ibis.table({"id": "int64", "value": "decimal(38, 2)"}, name="rows")
    numbered = with_ntile(rows, "bucket", 5, "value", "id")
    windows = numbered.op().find(ops.WindowFunction)
    assert windows
    for window in windows:
        if window.group_by:
            continue
        fields = window.find(ops.Field, filter=lambda node: not isinstance(node, ops.Relation))
        relations = {field.rel for field in fields}
        assert relations
        assert all(isinstance(rel, ops.Aggregate) for rel in relations)
