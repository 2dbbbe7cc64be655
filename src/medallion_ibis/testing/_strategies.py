"""Hypothesis strategies for source rows: plausible values and the text real exports hold."""

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from medallion_ibis.model import Source

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

HOSTILE_TEXT = (
    "",
    " ",
    "\t",
    "  padded  ",
    '"',
    'say "cheese"',
    "a,b",
    '",",',
    "two\nlines",
    "\n",
    "Zoë Ünïcode",
    "日本語",
    "🙂",
    "99999999999999999999999999",
    "-99999999999999999999",
    "1e400",
    "NaN",
    "12.345.678",
    "2024-02-30",
    "2024-13-01",
    "31/12/2024",
    "0000-00-00",
)
"""Values every source column is tried with: what breaks naive CSV, cast and date code."""

_KINDS: tuple[tuple[str, str], ...] = (
    (r"(^|_)(id|key|number|nr|no|count|qty|quantity|stock|level)$", "integer"),
    (r"(date|_on|_at|_dt|day)$", "date"),
    (r"(price|amount|cost|limit|total|value|revenue|sales)$", "decimal"),
)


def column_kind(column: str) -> str:
    """What a column probably holds, from its name: integer, date, decimal, or text."""
    lowered = column.lower()
    return next((kind for pattern, kind in _KINDS if re.search(pattern, lowered)), "text")


def plausible_values(kind: str) -> "SearchStrategy[str]":
    """Well-formed text for a column kind, drawn from small pools so that keys repeat."""
    from hypothesis import strategies as st

    if kind == "integer":
        return st.integers(min_value=-3, max_value=40).map(str)
    if kind == "date":
        return st.dates().map(lambda day: day.isoformat())
    if kind == "decimal":
        return st.decimals(
            min_value=-1000, max_value=100_000, places=2, allow_nan=False, allow_infinity=False
        ).map(str)
    return st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
    )


def source_rows(
    source: Source,
    *,
    min_size: int = 0,
    max_size: int = 20,
    values: Mapping[str, "SearchStrategy[str]"] | None = None,
) -> "SearchStrategy[list[dict[str, str | None]]]":
    """Lists of rows for ``source``: each declared column holds a plausible value for its
    kind (guessed from its name: ``*_id`` integer, ``*_date`` date, ``*price`` decimal, else
    text), a hostile value from ``HOSTILE_TEXT``, arbitrary text, or nothing (``None``).

    ``values`` overrides the plausible values of chosen columns, e.g.
    ``{"status": st.sampled_from(["open", "paid"])}``. Text never holds NUL or a carriage
    return, which no CSV export can carry through unchanged.
    """
    from hypothesis import strategies as st

    overrides = values or {}
    printable = st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"),
        max_size=16,
    )

    def cell(column: str) -> "SearchStrategy[str | None]":
        plausible = overrides.get(column, plausible_values(column_kind(column)))
        return st.one_of(plausible, plausible, st.sampled_from(HOSTILE_TEXT), printable, st.none())

    row = st.fixed_dictionaries({column: cell(column) for column in source.columns})
    return st.lists(row, min_size=min_size, max_size=max_size)
