"""Each portable helper gives the same, exact answer on DuckDB and on a real PostgreSQL.

Inputs are columns of a table (not literals), as in the pipelines: PostgreSQL folds constant
expressions while planning, which would test something the models never do.
"""

import hashlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pytest
from helpers import Engine
from hypothesis import given
from hypothesis import strategies as st

from medallion_ibis import portable
from medallion_ibis.portable import MONEY


def evaluate(
    con: Engine,
    values: Sequence[Any],
    helper: Callable[[ir.Column], ir.Value],
    value_type: str = "string",
) -> list[Any]:
    """``helper`` applied to a column holding ``values``, results in input order."""
    table = ibis.memtable(
        {"i": list(range(len(values))), "v": list(values)},
        schema={"i": "int64", "v": value_type},
    )
    expr = table.select("i", out=helper(table.v)).order_by("i")
    return [row["out"] for row in con.to_pyarrow(expr).to_pylist()]


def as_text(values: Sequence[Any]) -> list[str | None]:
    """Decimals as written (scale included), so 2.68 and 2.680 are told apart."""
    return [None if value is None else str(value) for value in values]


def test_parse_int_accepts_only_plain_integers(engine: Engine) -> None:
    cases = {
        " 42 ": 42,
        "\t7\n": 7,
        "-7": -7,
        "+8": 8,
        "007": 7,
        "999999999999999999": 999_999_999_999_999_999,
        "9999999999999999999": None,  # 19 digits: beyond int64's safe range, not an error
        "1e5": None,
        "4.0": None,
        "1,000": None,
        "0x10": None,
        "TX-17": None,
        "": None,
        "   ": None,
        None: None,
    }
    assert evaluate(engine, list(cases), portable.parse_int) == list(cases.values())


def test_parse_decimal_rounds_half_away_from_zero_to_money(engine: Engine) -> None:
    cases = {
        " 42 ": "42.00",
        "1299.99": "1299.99",
        "1.005": "1.01",
        "2.675": "2.68",
        "-1.005": "-1.01",
        "0.125": "0.13",
        "12.344": "12.34",
        ".5": "0.50",
        "5.": "5.00",
        "+3.1": "3.10",
        "123456789012345.999": "123456789012346.00",
        "999999999999999.995": "1000000000000000.00",  # rounding carries into a 16th digit
        "1e5": None,
        "1,000.00": None,
        "$5": None,
        "abc": None,
        "": None,
        None: None,
    }
    assert as_text(evaluate(engine, list(cases), portable.parse_decimal)) == list(cases.values())


@pytest.mark.parametrize(
    ("target", "cases"),
    [
        (  # 18 - 4 digits, one of them kept free for a carry: 13 integer digits
            dt.Decimal(18, 4),
            {
                "1234567890123456": None,
                "12345678901234": None,
                "1234567890123": "1234567890123.0000",
                "123456789012": "123456789012.0000",
                "0.00005": "0.0001",
            },
        ),
        (
            dt.Decimal(10, 2),
            {
                "123456789": None,
                "12345678": None,
                "1234567": "1234567.00",
                "99999999.995": None,
                "123456.785": "123456.79",
            },
        ),
        (dt.Decimal(10, 0), {"1234567890": None, "123456789": "123456789"}),
    ],
    ids=["18,4", "10,2", "10,0"],
)
def test_parse_decimal_gives_null_for_numbers_too_large_for_the_target_type(
    engine: Engine, target: dt.Decimal, cases: dict[str, str | None]
) -> None:
    """A number that cannot fit is NULL on both engines (PostgreSQL's CAST would raise)."""

    def parse(value: ir.Column) -> ir.Value:
        return portable.parse_decimal(value, target)

    assert as_text(evaluate(engine, list(cases), parse)) == list(cases.values())


def test_parse_decimal_to_whole_numbers_rounds_once_from_the_text(engine: Engine) -> None:
    """2.45 is 2 at scale 0: rounding first to one place (2.5) and then again would give 3."""
    cases = {"2.45": "2", "-2.45": "-2", "2.5": "3", "123456789012345": "123456789012345"}

    def parse(value: ir.Column) -> ir.Value:
        return portable.parse_decimal(value, dt.Decimal(18, 0))

    assert as_text(evaluate(engine, list(cases), parse)) == list(cases.values())


@pytest.mark.parametrize(
    "target", [MONEY, dt.Decimal(18, 4), dt.Decimal(10, 2), dt.Decimal(10, 0)], ids=str
)
def test_parse_decimal_gives_every_intermediate_type_a_precision(target: dt.Decimal) -> None:
    """Every intermediate type has a precision: PostgreSQL's compiler refuses a decimal
    with a scale and none (DuckDB's would quietly take 18 digits)."""
    text = ibis.table({"text": "string"}, name="t").text
    compiled = ibis.to_sql(portable.parse_decimal(text, target).name("x"), "postgres")
    assert f"AS DECIMAL({target.precision}, {target.scale}))" in compiled


def test_parse_iso_date_keeps_only_real_calendar_days(engine: Engine) -> None:
    cases = {
        "2024-02-29": date(2024, 2, 29),  # leap year
        "2000-02-29": date(2000, 2, 29),  # divisible by 400: leap
        " 2024-01-05 ": date(2024, 1, 5),
        "2024-04-30": date(2024, 4, 30),
        "9999-12-31": date(9999, 12, 31),
        "2023-02-29": None,
        "1900-02-29": None,  # divisible by 100, not by 400: not leap
        "2024-02-30": None,
        "2024-04-31": None,
        "2024-13-01": None,
        "2024-00-10": None,
        "2024-01-00": None,
        "0000-01-01": None,
        "2024-1-05": None,
        "01/15/2024": None,
        "20240115": None,
        "abcd-ef-gh": None,
        "": None,
        None: None,
    }
    assert evaluate(engine, list(cases), portable.parse_iso_date) == list(cases.values())


def test_parse_compact_date_reads_yyyymmdd_only(engine: Engine) -> None:
    cases = {
        "20240229": date(2024, 2, 29),
        " 20101229 ": date(2010, 12, 29),
        "20230229": None,
        "20241301": None,
        "0": None,
        "2024013": None,
        "202401150": None,
        "2024-01-15": None,
        "": None,
        None: None,
    }
    assert evaluate(engine, list(cases), portable.parse_compact_date) == list(cases.values())


def test_clean_text_trims_and_turns_blank_into_null(engine: Engine) -> None:
    cases = {
        "  New York ": "New York",
        "\tx\n": "x",
        "a  b": "a  b",
        " Jeff ": "Jeff",  # Ibis's strip() trims the letters f and v on Spark
        "vav": "vav",
        "": None,
        "  ": None,
    }
    assert evaluate(engine, list(cases), portable.clean_text) == list(cases.values())


def test_title_case_capitalises_every_word_and_lowers_the_rest(engine: Engine) -> None:
    cases = {
        "hello wORLD": "Hello World",
        "JOHN": "John",
        "  mary   ann ": "Mary   Ann",
        'monitor 24"': 'Monitor 24"',
        "o'brien": "O'brien",
        "jean-luc": "Jean-luc",
        "ÉCOLE été": "École Été",
        "": None,
        "   ": None,
        None: None,
    }
    assert evaluate(engine, list(cases), portable.title_case) == list(cases.values())


def test_safe_divide_is_true_division_and_null_for_a_zero_denominator(engine: Engine) -> None:
    table = ibis.memtable(
        {
            "i": [0, 1, 2, 3, 4, 5],
            "a": [1, 7, 5, 0, 2, None],
            "b": [2, 2, 0, 0, 3, 4],
        },
        schema={"i": "int64", "a": "int64", "b": "int64"},
    )
    expr = table.select("i", q=portable.safe_divide(table.a, table.b)).order_by("i")
    quotients = [row["q"] for row in engine.to_pyarrow(expr).to_pylist()]
    assert quotients == [0.5, 3.5, None, None, 2 / 3, None]


@pytest.mark.parametrize(
    ("digits", "cases"),
    [
        (
            2,
            {
                2.675: "2.68",  # stored as 2.67499999…: the helper still rounds the written value
                0.125: "0.13",  # exactly half: half to even would give 0.12
                -1.005: "-1.01",
                1.234449: "1.23",
                -2.5: "-2.50",
            },
        ),
        (0, {0.5: "1", 1.5: "2", 2.5: "3", -2.5: "-3", 0.125: "0"}),
        (4, {0.00005: "0.0001", 2.675: "2.6750", 1 / 3: "0.3333"}),
    ],
    ids=["2-digits", "0-digits", "4-digits"],
)
def test_round_half_away_rounds_halves_away_from_zero(
    engine: Engine, digits: int, cases: dict[float, str]
) -> None:
    def round_it(value: ir.Column) -> ir.Value:
        return portable.round_half_away(value, digits)

    values = [*cases, None]
    assert as_text(evaluate(engine, values, round_it, "float64")) == [*cases.values(), None]


def test_round_half_away_also_rounds_exact_decimals_half_away(engine: Engine) -> None:
    values = [Decimal("323.975"), Decimal("-0.005"), Decimal("0.004999")]
    assert as_text(evaluate(engine, values, portable.round_half_away, "decimal(18,6)")) == [
        "323.98",
        "-0.01",
        "0.00",
    ]


@pytest.mark.parametrize(
    ("value_type", "value", "rounded"),
    [
        ("int64", 1_234_567_890_123_456_789, "1234567890123456789.00"),
        ("float64", 1e13, "10000000000000.00"),
        ("decimal(38,4)", Decimal("12345678901234567890.1250"), "12345678901234567890.13"),
    ],
)
def test_round_half_away_gives_a_decimal_38_for_every_input_type(
    engine: Engine, value_type: str, value: Any, rounded: str
) -> None:
    """Values beyond 18 digits (DuckDB's default decimal precision) do not overflow."""
    column = ibis.table({"v": value_type}, name="t").v
    assert portable.round_half_away(column).type() == dt.Decimal(38, 2)
    assert as_text(evaluate(engine, [value], portable.round_half_away, value_type)) == [rounded]


def test_non_negative_or_zero_keeps_every_value_from_zero_up(engine: Engine) -> None:
    values = [Decimal("-1.50"), Decimal("0.00"), Decimal("0.50"), Decimal("7.00")]
    assert as_text(evaluate(engine, values, portable.non_negative_or_zero, "decimal(9,2)")) == [
        "0.00",
        "0.00",
        "0.50",
        "7.00",
    ]


def test_days_between_counts_whole_days_signed(engine: Engine) -> None:
    table = ibis.memtable(
        {
            "i": [0, 1, 2, 3, 4],
            "start": [
                date(2023, 1, 1),
                date(2024, 3, 1),
                date(2024, 2, 28),
                date(2023, 2, 28),
                date(2024, 1, 19),
            ],
            "end": [
                date(2024, 3, 1),
                date(2023, 1, 1),
                date(2024, 3, 1),
                date(2023, 3, 1),
                date(2024, 1, 19),
            ],
        }
    )
    expr = table.select("i", n=portable.days_between(table.start, table.end)).order_by("i")
    assert [row["n"] for row in engine.to_pyarrow(expr).to_pylist()] == [425, -425, 2, 1, 0]


def test_md5_is_the_hex_digest_of_the_utf8_bytes(engine: Engine) -> None:
    values = ["abc", "", "é", 'Monitor 24"', "a\x1fb,c", "日本"]
    expected = [hashlib.md5(value.encode("utf-8")).hexdigest() for value in values]
    assert evaluate(engine, [*values, None], portable.md5) == [*expected, None]


def python_date(text: str, layout: str) -> date | None:
    """What Python's calendar says the text means (None: not a real day)."""
    try:
        return datetime.strptime(text, layout).date()
    except ValueError:
        return None


DATE_PARTS = st.tuples(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32))


@given(parts=st.lists(DATE_PARTS, min_size=1, max_size=60))
def test_date_parsing_agrees_with_pythons_calendar(
    engine: Engine, parts: list[tuple[int, int, int]]
) -> None:
    """Every year, month and day combination (leap years, month lengths, year 0) is read as
    Python reads it, or is NULL where Python finds no such day."""
    iso = [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in parts]
    compact = [f"{y:04d}{m:02d}{d:02d}" for y, m, d in parts]
    assert evaluate(engine, iso, portable.parse_iso_date) == [
        python_date(text, "%Y-%m-%d") for text in iso
    ]
    assert evaluate(engine, compact, portable.parse_compact_date) == [
        python_date(text, "%Y%m%d") for text in compact
    ]
