"""Ranks over a whole table that still scale out on a cluster.

A window ordered over the whole table (``ntile``, ``row_number`` without a partition) makes
Spark gather every row into one task, however big the cluster. ``with_ntile`` gives the
numbers SQL's ``NTILE`` would, with only partitioned windows and aggregates: the rows are cut
into value ranges that follow the sort order, each range is ranked in its own partition, and a
row's position in the whole order is the size of the ranges before it plus its rank within its
own. DuckDB and PostgreSQL give the same answer either way; on them it costs a join.
"""

import ibis
import ibis.expr.types as ir

RANGES = 64
"""How many value ranges the rows are cut into: the parallelism a cluster can use. Any number
gives the same result, since ranges only group rows that are adjacent in the order."""


def with_ntile(
    table: ir.Table,
    name: str,
    buckets: int,
    by: str,
    tie_breaker: str,
    *,
    descending: bool = False,
) -> ir.Table:
    """``table`` with a column ``name``: SQL's ``NTILE(buckets)`` (1 to ``buckets``) over the
    rows ordered by the numeric column ``by`` (descending if asked, NULLs last) and then by
    ``tie_breaker``, a column unique per row, so the numbering never depends on the engine.

    Like NTILE, the first ``rows % buckets`` buckets take one row more than the others.
    """
    value = table[by]
    bounds = table.aggregate(
        __low=value.min(), __high=value.max(), __rows=ibis._.count().cast("int64")
    )
    bounded = table.cross_join(bounds)
    distance = (bounded["__high"] - bounded[by]) if descending else (bounded[by] - bounded["__low"])
    spread = (bounded["__high"] - bounded["__low"]).cast("float64").nullif(0)
    # Monotone in the sort order: subtraction, casting, multiplying and dividing by a positive
    # number all keep the order, so a range never splits rows that would sit between others.
    value_range = (
        (distance.cast("float64") * RANGES / spread)
        .floor()
        .clip(upper=RANGES - 1)
        .fill_null(0)
        .cast("int64")
    )
    ranged = bounded.mutate(__range=ibis.ifelse(bounded[by].isnull(), RANGES, value_range))
    sizes = ranged.group_by("__range").aggregate(__size=ibis._.count().cast("int64"))
    earlier = ibis.window(order_by="__range", rows=(None, -1))
    offsets = sizes.select(
        "__range", __before=sizes["__size"].sum().over(earlier).fill_null(0).cast("int64")
    )
    placed = ranged.join(offsets, "__range")
    ordered = placed[by].desc() if descending else placed[by].asc()
    order = [ordered, placed[tie_breaker].asc()]
    position = placed["__before"] + ibis.row_number().over(group_by="__range", order_by=order)
    bucket = _bucket_of(position, placed["__rows"], buckets)
    return placed.select(*table.columns, **{name: bucket})


def _bucket_of(position: ir.IntegerValue, rows: ir.IntegerValue, buckets: int) -> ir.IntegerValue:
    """NTILE's bucket (1-based) of a 0-based ``position`` among ``rows``: bucket i starts at
    ``i * (rows // buckets) + min(i, rows % buckets)``. Counting the starts at or before the
    position keeps to integer comparisons, where a division would pass through doubles."""
    remainder = rows % buckets
    base_size = (rows - remainder) // buckets  # exact: rows - remainder is a multiple
    starts = [base_size * i + ibis.least(remainder, i) for i in range(1, buckets)]
    passed = [ibis.ifelse(position >= start, 1, 0) for start in starts]
    return (sum(passed, ibis.literal(1, type="int64"))).cast("int64")
