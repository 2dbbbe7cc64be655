"""Engine-neutral building blocks for business rules.

Each helper exists because the obvious Ibis spelling gives different answers (or an error) on
DuckDB and PostgreSQL; see DESIGN.md "Verified facts". Business logic uses these helpers and
never branches on the engine, so a model written once builds the same rows everywhere.
"""

from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

MONEY = dt.Decimal(38, 2)
"""Money and other two-decimal measures: exact sums, identical on every engine, and room for
quantity x price of any parseable line (18 + 15 integer digits) without overflow."""
MAX_INTEGER_DIGITS = 15
"""Integer digits a parsed decimal may have; larger values are implausible and become NULL."""

_SURROUNDING_WHITE_SPACE = r"^\s+|\s+$"
_INTEGER_TEXT = r"[+-]?[0-9]{1,18}"
_FLOAT_READING_SCALE = 6
"""Decimal places a float is read at before it is rounded: absorbs binary floating-point error
so that a value like 2.675 (stored as 2.67499999…) rounds the same way on every engine."""


@ibis.udf.scalar.builtin  # type: ignore[untyped-decorator]
def md5(value: str) -> str:  # type: ignore[empty-body]
    """The engine's own md5: hex digest, byte-identical on DuckDB and PostgreSQL."""


def trim(value: ir.StringValue) -> ir.StringValue:
    """``value`` without leading and trailing white space.

    Ibis's ``strip()`` renders its character set with C escapes that Spark SQL reads as
    letters, so on Spark it also trims every leading and trailing 'f' and 'v' ("Jeff" →
    "Je"); a regular expression means the same on every engine.
    """
    return value.re_replace(_SURROUNDING_WHITE_SPACE, "")


def clean_text(value: ir.StringValue) -> ir.StringValue:
    """Trim surrounding white space; an empty result means 'missing' and becomes NULL."""
    return trim(value).nullif("")


def title_case(value: ir.StringValue) -> ir.StringValue:
    """Upper-case the first letter of every space-separated word and lower-case the rest.

    DuckDB has no ``initcap`` and Ibis's ``capitalize`` only touches the first letter of the
    whole string, so the rule is spelled out once here. Blank input gives NULL on every engine.
    """
    words = clean_text(value).split(" ")
    return words.map(lambda word: word.capitalize()).join(" ")


def _written_as(text: ir.StringValue, pattern: str) -> ir.BooleanValue:
    """Whether ``text``, white space around it aside, is exactly what ``pattern`` (unanchored,
    matching no white space at either end) describes.

    The same answer as matching the trimmed text, without trimming: the parsers below trim
    only the values they then cast. PostgreSQL evaluates a repeated expression once per use,
    so trimming in the test and again in the cast made three regular expressions a value
    where two do.
    """
    return text.re_search(rf"^\s*(?:{pattern})\s*$")


def parse_int(text: ir.StringValue) -> ir.IntegerValue:
    """The integer written in ``text``, or NULL when it is not a plain integer.

    PostgreSQL compiles ``try_cast`` to a plain CAST that raises on bad input, so the cast only
    runs behind a pattern check.
    """
    return ibis.cases(
        (_written_as(text, _INTEGER_TEXT), trim(text).try_cast("int64")), else_=ibis.null("int64")
    )


def parse_decimal(text: ir.StringValue, to: dt.Decimal = MONEY) -> ir.DecimalValue:
    """The decimal number written in ``text`` (rounded half away from zero to ``to``), or NULL.

    The text is read into the narrowest decimal that holds every accepted value and widened
    afterwards: DuckDB parses text into a 38-digit decimal a hundred times slower than into
    an 18-digit one (2.2 s against 0.02 s for a million prices).
    """
    scale = to.scale or 0
    carry = 1  # rounding 999.995 to two places needs one more integer digit
    narrow = dt.Decimal(min(to.precision or 18, MAX_INTEGER_DIGITS + carry + scale), scale)
    return ibis.cases(
        (_written_as(text, _decimal_text(to)), trim(text).try_cast(narrow).cast(to)),
        else_=ibis.null(to),
    )


def _decimal_text(to: dt.Decimal) -> str:
    """Plain decimals with at most ``MAX_INTEGER_DIGITS`` integer digits (fewer when ``to``
    holds fewer), so a cast never overflows: PostgreSQL's CAST would raise where DuckDB gives
    NULL."""
    digits = min(MAX_INTEGER_DIGITS, (to.precision or 18) - (to.scale or 0) - 1)
    return rf"[+-]?(?:[0-9]{{1,{digits}}}(?:[.][0-9]*)?|[.][0-9]+)"


def _calendar_date_text(separator: str) -> str:
    """A pattern that matches only real calendar days, leap years included.

    The check is one regular expression rather than arithmetic on the parts because
    PostgreSQL evaluates every repeated sub-expression again (DuckDB shares them): taking the
    date apart cost it 20 µs a row. Years run from 0001 to 9999, as both engines' dates do.
    """
    year = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
    leap_year = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
    month_day = (
        "(?:(?:0[1-9]|1[0-2])SEP(?:0[1-9]|1[0-9]|2[0-8])"
        "|(?:0[13-9]|1[0-2])SEP(?:29|30)"
        "|(?:0[13578]|1[02])SEP31)"
    ).replace("SEP", separator)
    return f"{year}{separator}{month_day}|{leap_year}{separator}02{separator}29"


def parse_iso_date(text: ir.StringValue) -> ir.DateValue:
    """The date written as YYYY-MM-DD in ``text``, or NULL when it is not a real date."""
    return ibis.cases(
        (_written_as(text, _calendar_date_text("-")), trim(text).try_cast("date")),
        else_=ibis.null("date"),
    )


def parse_compact_date(text: ir.StringValue) -> ir.DateValue:
    """The date written as yyyymmdd digits (ERP style), or NULL for 0, other lengths, or
    impossible days."""
    trimmed = trim(text)
    iso = trimmed.substr(0, 4) + "-" + trimmed.substr(4, 2) + "-" + trimmed.substr(6, 2)
    return ibis.cases(
        (_written_as(text, _calendar_date_text("")), iso.try_cast("date")), else_=ibis.null("date")
    )


def safe_divide(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """True division of floats that yields NULL for a zero denominator on every engine.

    PostgreSQL raises on division by zero and truncates integer division; DuckDB returns
    infinity or NULL. Both operands become doubles so the quotient is the same IEEE value.
    For exact operands (integers, decimals) use ``ratio``, which never leaves exact arithmetic.
    """
    return numerator.cast("float64") / denominator.cast("float64").nullif(0)


def ratio(
    numerator: ir.NumericValue, denominator: ir.NumericValue, places: int = 2
) -> ir.DecimalValue:
    """``numerator / denominator`` rounded once, half away from zero, to ``places`` decimals.

    NULL when either operand is NULL or the denominator is zero. Both operands must be exact
    (integers or decimals whose Ibis type states their true scale). Guarantee: the result is
    the exact quotient rounded once, as a ``decimal(38, places)``, on every engine, whenever
    every whole number below fits 38 digits; beyond that the engine fails with an overflow
    error rather than give a wrong digit.

    Ibis compiles every division to a double (DuckDB's ``decimal / decimal`` is one anyway, and
    on PostgreSQL Ibis casts the dividend to double precision), so rounding the engine's
    quotient would round twice. Instead both operands become whole numbers, counted in units
    of their last decimal place and one of them shifted, ``n`` and ``d`` with
    ``n / d = numerator / denominator · 10^places``. The exact ``%`` gives
    ``|n| = q·|d| + r``; the result is ``q``, plus one when ``2r ≥ |d|``, with the sign of
    ``n / d``, divided by ``10^places``.

    Spark divides decimals exactly but keeps 6 places within 38 digits, so there ``q`` must
    stay below 10^32. The price of exactness is some twenty decimal operations a row, which
    PostgreSQL evaluates one by one (about 20 µs a row on the development machine): nothing
    for aggregated marts, noticeable in a row-level rule over millions of rows.
    """
    shift = places + _scale_of(denominator) - _scale_of(numerator)
    dividend = _times_power_of_ten(_unscaled(numerator), max(shift, 0))
    divisor = _times_power_of_ten(_unscaled(denominator), max(-shift, 0)).nullif(0)
    magnitude, size = dividend.abs(), divisor.abs()
    remainder = magnitude % size
    units = _quotient_of_multiple(magnitude - remainder, size)
    rounded = units + ibis.cases((remainder * 2 >= size, 1), else_=0)
    sign = ibis.cases(((dividend < 0) != (divisor < 0), -1), else_=1)
    return (rounded * sign * _power_of_ten(-places)).cast(dt.Decimal(38, places))


_WHOLE = dt.Decimal(38, 0)
_REFINEMENTS = 2
"""Corrections of the quotient estimated in ``_quotient_of_multiple``. A double estimate, read
back into a decimal (PostgreSQL keeps 15 significant digits), is within ~6e-15 of the
quotient: off by up to ~6e23 for a 38-digit quotient. The first correction brings that under
~4e9 and the second to zero."""


def _quotient_of_multiple(dividend: ir.DecimalValue, divisor: ir.DecimalValue) -> ir.DecimalValue:
    """``dividend / divisor``, exactly, for a whole ``dividend`` that is a multiple of ``divisor``.

    The engine's quotient is only an estimate (a double); what it misses is itself a whole
    multiple of ``divisor``, computed exactly, so each refinement divides that and adds it.
    """
    quotient = (dividend / divisor).cast(_WHOLE)
    for _ in range(_REFINEMENTS):
        quotient = quotient + ((dividend - quotient * divisor) / divisor).cast(_WHOLE)
    return quotient


def _scale_of(value: ir.NumericValue) -> int:
    """Decimal places of an exact value; floats have no exact value to divide."""
    dtype = value.type()
    if dtype.is_integer():
        return 0
    if dtype.is_decimal():
        return dtype.scale or 0
    raise TypeError(f"ratio() divides exact values (integers, decimals), not {dtype}")


def _unscaled(value: ir.NumericValue) -> ir.DecimalValue:
    """The whole number of units in the last place of ``value`` (12.34 → 1234), exactly.

    Fails with the engine's overflow error when that number does not fit its own type on
    DuckDB (a ``decimal(38, 2)`` from 10^34 up): the shift happens at the value's own scale.
    """
    scale = _scale_of(value)
    return _times_power_of_ten(value.cast(dt.Decimal(38, scale)), scale).cast(_WHOLE)


def _times_power_of_ten(value: ir.DecimalValue, exponent: int) -> ir.DecimalValue:
    return value * _power_of_ten(exponent) if exponent else value


def _power_of_ten(exponent: int) -> ir.DecimalValue:
    """10^exponent as an exact ``decimal(38, ·)`` literal: never a float, never an int64
    overflow, and of a type Ibis lets multiply any other ``decimal(38, ·)``."""
    return ibis.literal(Decimal(10) ** exponent, type=dt.Decimal(38, max(0, -exponent)))


def round_half_away(value: ir.NumericValue, digits: int = 2) -> ir.DecimalValue:
    """Round half away from zero to a ``decimal(38, digits)``, once, identically on every engine.

    Integers and decimals are rounded from their exact value (both engines round decimals half
    away from zero). A float has no exact decimal to round (2.675 is stored as 2.67499999…),
    so it is first read as a decimal of ``_FLOAT_READING_SCALE`` places and that decimal is
    rounded. Guarantee for floats: when the float is the nearest double to a decimal of at most
    6 places whose magnitude is below 10^9 (at most 15 digits once written to 6 places, so
    DuckDB's cast, which scales in double precision, stays exact), the result is that decimal
    rounded once; other floats are rounded twice (to 6 places, then to ``digits``) and may be
    one unit off in the last place (576460752305.0 to 4 places gives 576460752304.9999 on
    DuckDB). Divide exact operands with ``ratio`` rather than rounding a float quotient.
    """
    target = dt.Decimal(38, digits)
    if value.type().is_integer():
        return value.cast(target)
    if value.type().is_floating():
        value = value.cast(dt.Decimal(38, _FLOAT_READING_SCALE))
    return value.round(digits).cast(target)


def days_between(start: ir.DateValue, end: ir.DateValue) -> ir.IntegerValue:
    """Whole days from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    return end.delta(start, unit="day")


def add_days(day: ir.DateValue, days: int) -> ir.DateValue:
    """The date ``days`` after ``day`` (before, when negative), as a date on every engine.

    DuckDB and PostgreSQL both answer ``date ± interval`` with a timestamp while Ibis types the
    result as a date and drops a cast back to date as redundant; going through a timestamp
    explicitly keeps the final cast, so a stored column is a real date everywhere.
    """
    return (day.cast("timestamp") + ibis.interval(days=days)).cast("date")


def upper_text(value: ir.StringValue) -> ir.StringValue:
    """Codes and labels compared across rows: trimmed and upper-cased (blank is NULL)."""
    return clean_text(value).upper()


def positive_or_null(value: ir.NumericValue) -> ir.NumericValue:
    """``value`` when it is above zero, else NULL of the same type."""
    return ibis.cases((value > 0, value), else_=ibis.null(value.type()))


def non_negative_or_null(value: ir.NumericValue) -> ir.NumericValue:
    """``value`` when it is zero or more, else NULL of the same type."""
    return ibis.cases((value >= 0, value), else_=ibis.null(value.type()))


def non_negative_or_zero(value: ir.NumericValue) -> ir.NumericValue:
    """``value`` when it is zero or more; a negative or missing count means none."""
    return ibis.cases((value >= 0, value), else_=0)
