"""CSV → bronze: every source column kept as text exactly as received, plus lineage.

One reader parses every file for every backend: DuckDB's CSV scanner, configured explicitly
(no dialect sniffing) and in strict mode. PostgreSQL's own COPY parser rejects real exports
such as a bare ``"`` inside an unquoted field (``Monitor 24"``); DuckDB keeps it as text. The
PostgreSQL backend streams the rows DuckDB parsed into COPY, so both engines hold the same
bytes and the same ``_row_hash``.
"""

import csv
import re
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
_DUCKDB_CSV_ERROR = re.compile(
    r"CSV Error on Line: (?P<line>\d+).*?Original Line: (?P<text>.*?)\n(?P<problem>[^\n]*)", re.S
)


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
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    found = [name.strip() for name in header]
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


def read_source(con: ibis.BaseBackend, path: Path, source: Source, lineage: Lineage) -> ir.Table:
    """The bronze rows of ``path`` as an expression on a DuckDB connection.

    ``_row_number`` is the line the record starts on: the header is line 1, and a quoted value
    spanning several lines pushes every later record down by its line breaks.
    """
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
    values = ibis.literal(_FIELD_SEPARATOR).join(
        [raw[name].fill_null("") for name in source.columns]
    )
    counted = raw.mutate(
        __record=ibis.row_number(),
        __line_breaks=values.length() - values.replace("\n", "").length(),
        _row_hash=md5(values),
    )
    earlier_records = ibis.window(rows=(None, -1))
    # DuckDB sums integers into a 128-bit integer that Parquet can only hold as a double; line
    # breaks fit 32 bits, and narrowing the sum keeps _row_number a plain bigint everywhere.
    line_breaks_before = (
        counted["__line_breaks"].sum().over(earlier_records).cast("int32").fill_null(0)
    )
    return counted.select(
        *source.columns,
        _source_file=ibis.literal(source.path),
        _source_system=ibis.literal(source.system),
        _row_number=counted["__record"] + line_breaks_before + (HEADER_LINES + 1),
        _loaded_at=ibis.literal(lineage.loaded_at, type="timestamp"),
        _run_id=ibis.literal(lineage.run_id),
        _row_hash=counted._row_hash,
    )


def explain_csv_error(path: Path, error: duckdb.Error) -> InputFileError:
    """Turn DuckDB's multi-paragraph CSV error into one sentence naming file and line."""
    match = _DUCKDB_CSV_ERROR.search(str(error))
    if match is None:
        return InputFileError(f"{path}: cannot be read as CSV: {str(error).splitlines()[0]}")
    return InputFileError(
        f"{path}:{match['line']}: {match['problem'].strip()} in line {match['text'].strip()!r}"
    )
