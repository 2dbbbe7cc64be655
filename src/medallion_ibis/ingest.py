"""CSV → bronze: every source column kept as text exactly as received, plus lineage.

One reader parses every file for every backend: DuckDB's CSV scanner, configured explicitly
(no dialect sniffing) and in strict mode. PostgreSQL's own COPY parser rejects real exports
such as a bare ``"`` inside an unquoted field (``Monitor 24"``); DuckDB keeps it as text. The
PostgreSQL backend streams the rows DuckDB parsed into COPY, so both engines hold the same
bytes and the same ``_row_hash``.
"""

import csv
import mmap
import re
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir

from medallion_ibis.errors import InputFileError
from medallion_ibis.model import Lineage, Source
from medallion_ibis.portable import md5

LINEAGE_TYPES = {
    "_source_file": "string",
    "_source_system": "string",
    "_row_number": "int64",
    "_loaded_at": "timestamp(6)",
    "_run_id": "string",
    "_row_hash": "string",
}
HEADER_LINES = 1
_FIELD_SEPARATOR = "\x1f"
"""ASCII unit separator between values in the row hash: it cannot occur in the CSV text, so
('a,b', 'c') and ('a', 'b,c') hash differently."""
_SCAN_BYTES = 1 << 24
_EMPTY_LINE = re.compile(rb"\n(?=\r?\n)")
"""A line break followed by an empty line (LF or CRLF files)."""
_EMPTY_LINE_IN_VALUE = re.compile(r"\n(?=\r?\n)")
_DUCKDB_CSV_ERROR = re.compile(
    r"CSV Error on Line: (?P<line>\d+).*?Original Line: (?P<text>.*?)\n\s*(?P<problem>[^\n]+)"
    r"\n\s*Possible fixes",
    re.S,
)
MAX_RECORD_BYTES = 2 << 20
"""DuckDB's default longest record (max_line_size)."""
CSV_ERRORS = (duckdb.InvalidInputException, duckdb.NotImplementedException)
"""What DuckDB raises for a file it cannot parse; ``explain_csv_error`` turns them into a
sentence."""


def with_lineage(rows: ir.Table, **columns: ir.Value) -> ir.Table:
    """Select ``columns`` and carry every lineage column along, so any silver row can be
    traced to its file, line and load."""
    named = [value.name(name) for name, value in columns.items()]
    return rows.select(*named, *LINEAGE_TYPES)


def source_file(seeds: Path, source: Source) -> Path:
    """The file a source reads, checked to exist and to carry exactly the expected header."""
    path = seeds / source.path
    if not path.is_file():
        raise InputFileError(f"{path}: file not found (source {source.table} of {source.system})")
    found = _header(path)
    duplicates = sorted({name for name in found if found.count(name) > 1})
    if duplicates:
        raise InputFileError(
            f"{path}:1: header names {', '.join(repr(n) for n in duplicates)} more than once"
        )
    if "" in found:
        raise InputFileError(
            f"{path}:1: header has an empty column name (column {found.index('') + 1}); "
            "a trailing comma on every line?"
        )
    if found != list(source.columns):
        missing = [name for name in source.columns if name not in found]
        unexpected = [name for name in found if name not in source.columns]
        raise InputFileError(
            f"{path}:1: header does not match {source.table}: expected columns "
            f"{', '.join(source.columns)}; missing: {', '.join(missing) or 'none'}; "
            f"unexpected: {', '.join(unexpected) or 'none'}"
            + ("; same names in another order" if not missing and not unexpected else "")
        )
    return path


def _header(path: Path) -> list[str]:
    """The header's column names; an empty file or one that is not UTF-8 is refused."""
    with path.open("rb") as handle:
        first_line = handle.readline()
    if not first_line:
        raise InputFileError(f"{path}: empty file (expected a header line)")
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _not_utf8(path, 1, first_line, error) from None
    return [name.strip() for name in next(csv.reader([text]), [])]


def _not_utf8(path: Path, line: int, raw: bytes, error: UnicodeDecodeError) -> InputFileError:
    column = len(raw[: error.start].decode("utf-8", errors="replace")) + 1
    return InputFileError(
        f"{path}:{line}: not UTF-8 (byte 0x{raw[error.start]:02x} at column {column}); "
        "re-export the file as UTF-8"
    )


def read_source(con: ibis.BaseBackend, path: Path, source: Source, lineage: Lineage) -> ir.Table:
    """The bronze rows of ``path`` as an expression on a DuckDB connection.

    ``_row_number`` is the physical line the record starts on: the header is line 1, a quoted
    value spanning several lines pushes every later record down by its line breaks, and so
    does each blank line between records (which DuckDB's reader skips without a trace).
    """
    empty_lines = scan_raw_lines(path)
    raw = con.read_csv(
        path,
        table_name=f"raw_{source.table}",
        header=True,
        delim=",",
        quote='"',
        escape='"',
        auto_detect=False,
        strict_mode=True,
        columns=dict.fromkeys(source.columns, "VARCHAR"),
    )
    values = _joined_values(raw, source)
    counted = raw.mutate(
        __record=ibis.row_number(),
        __line_breaks=values.length() - values.replace("\n", "").length(),
        _row_hash=md5(values),
    )
    # A running sum up to the current record, minus its own breaks: DuckDB computes that frame
    # while streaming the file in order, whereas one ending at the record before makes it hold
    # the whole file in one window partition (measured on 1M sales rows: EXPLAIN ANALYZE).
    # DuckDB sums integers into a 128-bit integer that Parquet can only hold as a double; line
    # breaks fit 32 bits, and narrowing the sum keeps _row_number a plain bigint everywhere.
    up_to_this_record = ibis.window(rows=(None, 0))
    line_breaks_before = (
        counted["__line_breaks"].sum().over(up_to_this_record) - counted["__line_breaks"]
    ).cast("int32")
    # The line the record would start on if the file had no blank line between records
    # (row_number counts from 0).
    placed = counted.mutate(__line=counted["__record"] + line_breaks_before + (HEADER_LINES + 1))
    if empty_lines:
        try:
            placed = _shift_past_skipped_lines(placed, source, empty_lines)
        except CSV_ERRORS as error:  # the one query run here, before any backend's
            raise explain_csv_error(path, error) from None
    else:
        placed = placed.mutate(__skipped=ibis.literal(0, type="int64"))
    return placed.select(
        *source.columns,
        _source_file=ibis.literal(source.path),
        _source_system=ibis.literal(source.system),
        _row_number=(placed["__line"] + placed["__skipped"]).cast("int64"),
        _loaded_at=ibis.literal(lineage.loaded_at, type="timestamp"),
        _run_id=ibis.literal(lineage.run_id),
        _row_hash=placed._row_hash,
    )


def _joined_values(rows: ir.Table, source: Source) -> ir.StringValue:
    """A record's values in one string, NULL as empty: what the row hash is taken of."""
    return ibis.literal(_FIELD_SEPARATOR).join(
        [rows[name].fill_null("") for name in source.columns]
    )


def scan_raw_lines(path: Path) -> list[int]:
    """The physical numbers of the file's empty lines, found in the raw bytes at C speed
    (a file without any costs two ``find`` calls).

    Refuses a NUL byte, naming its line: DuckDB would keep it and PostgreSQL would reject it,
    so the same file gets the same answer on every engine.
    """
    if path.stat().st_size == 0:
        return []
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        nul = data.find(b"\x00")
        if nul != -1:
            line = _line_breaks(data, 0, nul) + 1
            raise InputFileError(
                f"{path}:{line}: contains a NUL byte (\\x00), which "
                "no database can store as text; remove it from the file"
            )
        if data.find(b"\n\n") == -1 and data.find(b"\n\r\n") == -1:
            return []
        return list(_empty_line_numbers(data))


def _empty_line_numbers(data: mmap.mmap) -> Iterator[int]:
    line_breaks, counted_to = 0, 0
    for match in _EMPTY_LINE.finditer(data):
        line_breaks += _line_breaks(data, counted_to, match.start())
        counted_to = match.start()
        yield line_breaks + 2


def _line_breaks(data: mmap.mmap, start: int, end: int) -> int:
    """``\\n`` between two offsets, counted a slice at a time to bound memory."""
    return sum(
        data[offset : min(offset + _SCAN_BYTES, end)].count(b"\n")
        for offset in range(start, end, _SCAN_BYTES)
    )


def _shift_past_skipped_lines(placed: ir.Table, source: Source, empty_lines: list[int]) -> ir.Table:
    """Add ``__skipped``: how many blank lines between records precede each record.

    An empty line is either inside a quoted value (part of a record, already counted by its
    line breaks) or between records (skipped by DuckDB). Walking the empty lines in file
    order, and the few values that hold an empty line, tells them apart. Each skipped line
    becomes a marker row at the unshifted line it precedes; a running sum over records and
    markers in line order gives every record its shift (one sort, no join: DuckDB plans an
    inequality join against the markers as a nested loop).
    """
    inside_values = deque(_empty_lines_inside_values(placed, source))
    skipped_before: Counter[int] = Counter()
    skipped = 0
    for line in empty_lines:
        unshifted = line - skipped
        if inside_values and inside_values[0] == unshifted:
            inside_values.popleft()
            continue
        skipped += 1
        skipped_before[unshifted] += 1
    schema = placed.schema()
    markers = ibis.memtable(
        {"__line": list(skipped_before), "__weight": list(skipped_before.values())},
        schema={"__line": "int64", "__weight": "int64"},
    ).select(
        *[ibis.null(schema[name]).name(name) for name in schema if name != "__line"],
        "__line",
        "__weight",
    )
    records = placed.mutate(__weight=ibis.literal(0, type="int64"))
    stream = records.union(markers.select(*records.columns))
    in_line_order = ibis.window(
        order_by=[stream["__line"], stream["__weight"].desc()], rows=(None, 0)
    )
    shifted = stream.mutate(__skipped=stream["__weight"].sum().over(in_line_order))
    return shifted.filter(shifted["__weight"] == 0).drop("__weight")


def _empty_lines_inside_values(placed: ir.Table, source: Source) -> Iterator[int]:
    """Unshifted line numbers of the empty lines inside quoted values, in file order."""
    values = _joined_values(placed, source)
    holding = placed.select("__line", __values=values).filter(
        values.contains("\n\n") | values.contains("\n\r\n")
    )
    rows = holding.order_by("__line").to_pyarrow().to_pylist()
    for row in rows:
        for match in _EMPTY_LINE_IN_VALUE.finditer(row["__values"]):
            yield row["__line"] + row["__values"].count("\n", 0, match.start() + 1)


def explain_csv_error(path: Path, error: duckdb.Error) -> InputFileError:
    """Turn DuckDB's multi-paragraph CSV error into one sentence naming file and line."""
    message = str(error)
    match = _DUCKDB_CSV_ERROR.search(message)
    if match is not None:
        # DuckDB quotes the blank lines before the record too; they are not part of it.
        record = match["text"].lstrip("\r\n").rstrip("\r\n")
        first_line = record.split("\n", 1)[0].rstrip("\r")
        shown = first_line if len(first_line) <= 80 else first_line[:77] + "..."
        problem = match["problem"].strip().rstrip(".")
        if "unterminated quote" in problem:
            problem = "a quoted value is not closed properly (unterminated quote)"
        spanned = record.count("\n") + 1
        if spanned > 1:
            problem += f" (the record runs over {spanned} lines: an unterminated quote?)"
        physical = _physical_line(path, int(match["line"]), first_line)
        return InputFileError(f"{path}:{physical}: {problem} in line {shown!r}")
    if "full read" in message:
        long_line = _first_line_longer_than(path, MAX_RECORD_BYTES)
        return InputFileError(
            f"{path}:{long_line}: a record longer than {MAX_RECORD_BYTES >> 20} MB; an "
            "unterminated quote, or a value too large for a source file"
        )
    mixed = _first_line_ending_unlike_the_first(path)
    if mixed is not None:
        return InputFileError(
            f"{path}:{mixed}: mixed line endings (this line and line 1 end differently, "
            "CRLF and LF); convert the file to one kind"
        )
    return InputFileError(f"{path}: cannot be read as CSV: {message.splitlines()[0]}")


def _physical_line(path: Path, reported: int, text: str) -> int:
    """The line DuckDB's report points at, in the file's own numbering.

    DuckDB counts blank lines but not the line breaks inside quoted values, so its number
    can only fall short of the physical line: the first line from there on that holds the
    text it quotes is the one.
    """
    wanted = text.encode("utf-8")
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number >= reported and line.rstrip(b"\r\n") == wanted:
                return number
    return reported


def _first_line_longer_than(path: Path, limit: int) -> int | str:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if len(line) > limit:
                return number
    return "?"


def _first_line_ending_unlike_the_first(path: Path) -> int | None:
    with path.open("rb") as handle:
        lines = iter(handle)
        first = next(lines, b"")
        crlf = first.endswith(b"\r\n")
        for number, line in enumerate(lines, start=2):
            if line.endswith(b"\n") and line.endswith(b"\r\n") != crlf:
                return number
    return None
