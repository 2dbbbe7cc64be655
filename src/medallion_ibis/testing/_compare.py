"""Two builds published the same rows: order-free, exact, floats within a stated tolerance."""

import math
from collections.abc import Sequence
from typing import Any

from medallion_ibis.testing._run import Published

RUN_COLUMNS = ("_gold_created_at", "_loaded_at", "_run_id")
"""Columns that record the run itself, not the data: left out of every comparison."""


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[bool, str, str], ...]:
    return tuple((value is None, type(value).__name__, repr(value)) for value in row)


def _same_value(left: Any, right: Any, tolerance: float) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return left == right or math.isclose(left, right, rel_tol=tolerance, abs_tol=tolerance)
    return bool(type(left) is type(right) and left == right)


def assert_same_rows(
    left: Published,
    right: Published,
    *,
    float_tolerance: float = 1e-9,
    ignore: Sequence[str] = RUN_COLUMNS,
) -> None:
    """``left`` and ``right`` hold the same tables with the same rows, in any order.

    Values must be equal and of the same Python type (``Decimal('1.50')`` is not ``1.5``);
    only floats may differ, by ``float_tolerance`` (relative or absolute). ``ignore`` names
    columns to leave out (by default those that record the run).
    """
    if sorted(left) != sorted(right):
        raise AssertionError(f"different tables: {sorted(left)} != {sorted(right)}")
    for name in sorted(left):
        columns = [c for c in (left[name][0] if left[name] else {}) if c not in ignore]
        if right[name] and sorted(c for c in right[name][0] if c not in ignore) != sorted(columns):
            raise AssertionError(f"{name}: different columns")
        ours = sorted((tuple(row[c] for c in columns) for row in left[name]), key=_sort_key)
        theirs = sorted((tuple(row[c] for c in columns) for row in right[name]), key=_sort_key)
        if len(ours) != len(theirs):
            raise AssertionError(f"{name}: {len(ours)} rows != {len(theirs)} rows")
        for mine, other in zip(ours, theirs, strict=True):
            differing = [
                column
                for column, a, b in zip(columns, mine, other, strict=True)
                if not _same_value(a, b, float_tolerance)
            ]
            if differing:
                raise AssertionError(
                    f"{name}: rows differ in {', '.join(differing)}: "
                    f"{dict(zip(columns, mine, strict=True))} != "
                    f"{dict(zip(columns, other, strict=True))}"
                )
