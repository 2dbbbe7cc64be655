"""Division and rounding give the exact value rounded once, half away from zero, on DuckDB and
on a real PostgreSQL.

Expected values come from Python's Fraction and Decimal, never from an engine. Operands are
columns of a table (not literals), as in the pipelines.
"""

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeAlias

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pytest
from exact import decimal_of, rounded_half_away
from helpers import Engine
from hypothesis import example, given
from hypothesis import strategies as st

from medallion_ibis import portable

Pair: TypeAlias = tuple[Any, Any]

PLACES = (0, 2, 4)
ISSUE_ROWS = [(56, 346), (38, 359)]
"""Quotients just below a half at the 5th place, once rounded up by rounding to 6 places first
(issue 6: 0.16184971… and 0.10584958… must give 0.1618 and 0.1058)."""
INT64 = 2**63 - 1
CENTS_LIMIT = 10**34
"""2-place numerators up to 10^32: their quotient by 1 still fits 38 digits at 4 places."""


def expected_ratio(numerator: Any, denominator: Any, places: int) -> Fraction | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return rounded_half_away(Fraction(numerator) / Fraction(denominator), places)


def ratios(
    con: Engine, pairs: Sequence[Pair], types: tuple[pa.DataType, pa.DataType], places: int
) -> list[Any]:
    """``portable.ratio`` of each (numerator, denominator) pair, in input order."""
    table = ibis.memtable(
        pa.table(
            {
                "i": pa.array(range(len(pairs)), pa.int64()),
                "n": pa.array([n for n, _ in pairs], types[0]),
                "d": pa.array([d for _, d in pairs], types[1]),
            }
        )
    )
    expr = table.select("i", q=portable.ratio(table.n, table.d, places)).order_by("i")
    return [row["q"] for row in con.to_pyarrow(expr).to_pylist()]


def assert_exact(
    con: Engine, pairs: Sequence[Pair], types: tuple[pa.DataType, pa.DataType], places: int
) -> None:
    got = ratios(con, pairs, types, places)
    expected = [expected_ratio(n, d, places) for n, d in pairs]
    wrong = [(pair, g, e) for pair, g, e in zip(pairs, got, expected, strict=True) if g != e]
    assert not wrong, f"(numerator, denominator), got, expected: {wrong}"
    assert all(g is None or -g.as_tuple().exponent == places for g in got)


def test_the_issue_rows_round_once(engine: Engine) -> None:
    got = ratios(engine, ISSUE_ROWS, (pa.int64(), pa.int64()), 4)
    assert [str(value) for value in got] == ["0.1618", "0.1058"]


def test_ratio_is_null_for_a_zero_or_missing_operand(engine: Engine) -> None:
    pairs = [(5, 0), (None, 3), (3, None), (0, 7), (-1, 2), (1, -2), (-1, -2), (1, 3), (2, 3)]
    assert [
        None if q is None else str(q) for q in ratios(engine, pairs, (pa.int64(), pa.int64()), 2)
    ] == [None, None, None, "0.00", "-0.50", "-0.50", "0.50", "0.33", "0.67"]


DENOMINATORS = st.one_of(st.integers(1, 1_000), st.integers(1, INT64))
"""Small denominators too, so that large numerators give quotients of 30 digits and more."""
INTEGER_PAIRS = st.lists(
    st.tuples(st.integers(-INT64, INT64), DENOMINATORS), min_size=1, max_size=40
)
CENT_PAIRS = st.lists(
    st.tuples(
        st.integers(-CENTS_LIMIT, CENTS_LIMIT).map(lambda cents: decimal_of(cents, 2)),
        DENOMINATORS,
    ),
    min_size=1,
    max_size=40,
)
SMALL_PAIRS = st.lists(st.tuples(st.integers(-5_000, 5_000), st.integers(1, 400)), max_size=40)
"""Small operands make exact halves and near-halves common."""


@given(pairs=INTEGER_PAIRS, small=SMALL_PAIRS, places=st.sampled_from(PLACES))
@example(pairs=ISSUE_ROWS, small=[], places=4)
def test_ratio_of_integers_is_the_fraction_rounded_once(
    engine: Engine, pairs: list[Pair], small: list[Pair], places: int
) -> None:
    assert_exact(engine, pairs + small, (pa.int64(), pa.int64()), places)


@given(pairs=CENT_PAIRS, places=st.sampled_from(PLACES))
@example(pairs=[(Decimal("0.56"), 346), (Decimal("-0.38"), 359)], places=6)
@example(pairs=[(Decimal("12345678901234567890123456789012.34"), 3)], places=4)
@example(pairs=[(Decimal("1000000000000000000000000000000000.00"), 1)], places=4)  # 38 digits
def test_ratio_of_two_place_decimals_is_the_fraction_rounded_once(
    engine: Engine, pairs: list[Pair], places: int
) -> None:
    assert_exact(engine, pairs, (pa.decimal128(38, 2), pa.int64()), places)


@given(
    pairs=st.lists(
        st.tuples(
            st.integers(-(10**20), 10**20).map(lambda cents: decimal_of(cents, 2)),
            st.integers(-(10**20), 10**20).filter(bool).map(lambda cents: decimal_of(cents, 2)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_ratio_of_decimals_by_decimals_is_the_fraction_rounded_once(
    engine: Engine, pairs: list[Pair]
) -> None:
    """Money over money, as in margin and revenue-share percentages."""
    assert_exact(engine, pairs, (pa.decimal128(38, 2), pa.decimal128(38, 2)), 2)


def test_ratio_by_a_whole_number_decimal_reaches_the_38_digit_edge(engine: Engine) -> None:
    """A decimal of scale 0 is counted in units, like an integer: no digit of the 38 is lost."""
    pairs = [(Decimal("1000000000000000000000000000000000.00"), Decimal(1)), (Decimal("-7.00"), 2)]
    assert_exact(engine, pairs, (pa.decimal128(38, 2), pa.decimal128(38, 0)), 4)


def test_ratio_refuses_floats() -> None:
    table = ibis.table({"x": "float64", "n": "int64"})
    with pytest.raises(TypeError, match="exact values"):
        portable.ratio(table.x, table.n)


def evaluate(con: Engine, values: Sequence[Any], value_type: pa.DataType, digits: int) -> list[Any]:
    table = ibis.memtable(
        pa.table({"i": pa.array(range(len(values)), pa.int64()), "v": pa.array(values, value_type)})
    )
    expr = table.select("i", r=portable.round_half_away(table.v, digits)).order_by("i")
    return [row["r"] for row in con.to_pyarrow(expr).to_pylist()]


SIX_PLACE_DECIMALS = st.integers(-(10**30), 10**30).map(lambda units: decimal_of(units, 6))


@given(values=st.lists(SIX_PLACE_DECIMALS, min_size=1, max_size=40), digits=st.integers(0, 5))
def test_round_half_away_rounds_a_decimal_once(
    engine: Engine, values: list[Decimal], digits: int
) -> None:
    got = evaluate(engine, values, pa.decimal128(38, 6), digits)
    assert got == [rounded_half_away(Fraction(value), digits) for value in values]


WRITTEN_FLOATS = st.integers(0, 6).flatmap(
    lambda places: st.integers(-(10 ** (9 + places)) + 1, 10 ** (9 + places) - 1).map(
        lambda units: decimal_of(units, places)
    )
)
"""Decimals of at most 6 places below 10^9: what the float guarantee covers (written to six
places they have at most 15 digits)."""


@given(values=st.lists(WRITTEN_FLOATS, min_size=1, max_size=40), digits=st.integers(0, 5))
@example(values=[Decimal("2.675"), Decimal("0.125"), Decimal("-1.005")], digits=2)
@example(values=[Decimal("999999999.999999"), Decimal("-123456789.5")], digits=0)
def test_round_half_away_rounds_a_float_as_written_once(
    engine: Engine, values: list[Decimal], digits: int
) -> None:
    got = evaluate(engine, [float(value) for value in values], pa.float64(), digits)
    assert got == [rounded_half_away(Fraction(value), digits) for value in values]


def test_round_half_away_keeps_the_declared_scale(engine: Engine) -> None:
    assert [str(v) for v in evaluate(engine, [7, -3], pa.int64(), 2)] == ["7.00", "-3.00"]
    assert dt.Decimal(38, 4) == portable.round_half_away(ibis.literal(1.5), 4).type()
