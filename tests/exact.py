"""Exact rounding in Python: the yardstick engine results are compared with."""

from decimal import Decimal
from fractions import Fraction


def rounded_half_away(value: Fraction, places: int) -> Fraction:
    """``value`` rounded once, half away from zero, to ``places`` decimals."""
    scaled = abs(value) * 10**places
    units = scaled.numerator // scaled.denominator
    if 2 * (scaled - units) >= 1:
        units += 1
    return Fraction(-units if value < 0 else units, 10**places)


def decimal_of(units: int, places: int) -> Decimal:
    """``units · 10^-places`` as a Decimal, exactly (``scaleb`` would round to 28 digits)."""
    return Decimal(f"{units}E-{places}")
