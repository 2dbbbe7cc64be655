"""Injecting the dirty values that the silver layer exists to clean.

A defect is a small function that spoils one row in place, paired with the share of rows it
should hit. Streamed fact tables draw at most one defect per row, independently; small
dimension tables instead get every defect at least once on distinct rows, so that even a
forty-row table exercises every cleaning rule and no defect hides another.
"""

import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, islice

Row = dict[str, str]
RowDefect = Callable[[Row, random.Random], None]

PADDINGS = ((" ", ""), ("", " "), ("  ", ""), ("", "  "), (" ", " "))
"""Leading and trailing spaces as they turn up in hand-typed source fields."""


@dataclass(frozen=True)
class Defect:
    """One kind of bad value and the share of rows that carry it."""

    apply: RowDefect
    rate: float


def replace_with(column: str, choices: Sequence[object]) -> RowDefect:
    """Overwrite the column with one of `choices`: a sentinel, a typo, an unknown id."""

    def replace(row: Row, rng: random.Random) -> None:
        row[column] = str(rng.choice(choices))

    return replace


def blank(column: str) -> RowDefect:
    """Empty the column, as a source system does for a value nobody entered."""
    return replace_with(column, ("",))


def negate(column: str) -> RowDefect:
    """Make a number negative; generated values are positive, so a leading minus suffices."""

    def prepend_minus(row: Row, rng: random.Random) -> None:
        row[column] = "-" + row[column]

    return prepend_minus


def pad(column: str) -> RowDefect:
    """Surround the text with stray spaces."""

    def add_spaces(row: Row, rng: random.Random) -> None:
        row[column] = _pad_with_spaces(row[column], rng)

    return add_spaces


def scramble_text(column: str) -> RowDefect:
    """Change the text's case and pad it, e.g. `New York` becomes `  new york `."""

    def scramble(row: Row, rng: random.Random) -> None:
        recased = rng.choice((str.lower, str.upper))(row[column])
        row[column] = _pad_with_spaces(recased, rng)

    return scramble


def _pad_with_spaces(text: str, rng: random.Random) -> str:
    """Add spaces before, after or around the text, never leaving it unchanged."""
    before, after = rng.choice(PADDINGS)
    return before + text + after


def stream_with_defects(
    rng: random.Random, rows: Iterable[Row], defects: Sequence[Defect]
) -> Iterator[Row]:
    """Spoil each row with at most one defect, drawn by rate; the rates must sum below 1.

    One random number per row, looked up in the cumulative rates, keeps the cost per row
    constant however many defect kinds there are.
    """
    thresholds = list(accumulate(defect.rate for defect in defects))
    for row in rows:
        hit = bisect_right(thresholds, rng.random())
        if hit < len(defects):
            defects[hit].apply(row, rng)
        yield row


def rows_to_spoil(rate: float, row_count: int) -> int:
    """`rate` of the rows, but at least one, so that small tables still carry every defect."""
    return max(1, round(rate * row_count))


def inject_defects(rng: random.Random, rows: list[Row], defects: Sequence[Defect]) -> None:
    """Spoil `rate` of the rows with each defect, at least one row each, on distinct rows."""
    counts = [rows_to_spoil(defect.rate, len(rows)) for defect in defects]
    victims = iter(rng.sample(rows, sum(counts)))
    for defect, count in zip(defects, counts, strict=True):
        for row in islice(victims, count):
            defect.apply(row, rng)


def resend_rows(rng: random.Random, rows: list[Row], rate: float, revise: RowDefect) -> list[Row]:
    """Revised copies of some rows (at least one), to append after the originals.

    Source systems re-send a record after an edit under the same id; silver must keep only
    the latest version, so the seeds carry such duplicates.
    """
    resent = [dict(row) for row in rng.sample(rows, rows_to_spoil(rate, len(rows)))]
    for row in resent:
        revise(row, rng)
    return resent
