"""Streaming CSV output shared by both generators.

Rows go to disk one at a time, so a generator that yields its rows lazily writes ten million
sales in the same memory as ten thousand.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

_NEEDS_QUOTES = re.compile(r'[,\r\n]|^"')


def _quote_if_needed(value: str) -> str:
    """Quote a comma, a line break or a leading quote; leave any other `"` bare.

    The csv module quotes any field containing `"`, but real exports (the reference retail
    files) write `Monitor 24"` unquoted and the loaders must cope with exactly that, so the
    seeds do too.
    """
    if _NEEDS_QUOTES.search(value) is None:
        return value
    return '"' + value.replace('"', '""') + '"'


def _line(values: Iterable[str], line_terminator: str) -> str:
    return ",".join(map(_quote_if_needed, values)) + line_terminator


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Mapping[str, str]],
    *,
    line_terminator: str,
) -> int:
    """Write `header` then each row's values in header order; return the data rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(_line(header, line_terminator))
        for row in rows:
            handle.write(_line((row[column] for column in header), line_terminator))
            written += 1
    return written
