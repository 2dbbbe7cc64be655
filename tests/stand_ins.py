"""Stand-ins shared by the pipelines' unit tests: bronze tables built from rows in memory, a
fixed run context, and small readers. Model functions take Ibis tables, so a rule can be
tested on a few hand-written rows without files, staging or publishing."""

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from medallion_ibis.ingest import LINEAGE_TYPES
from medallion_ibis.model import RunContext, Source

RUN_STARTED_AT = datetime(2025, 2, 1, 8, 30, 0)
"""The stamp unit tests give the models: any fixed value after every sale date the tests
write, which would otherwise count as future-dated."""
FIELD_SEPARATOR = "\x1f"

Row = Sequence[str | None]


def row_hash(row: Row) -> str:
    """The bronze ``_row_hash`` of a row, as ingest computes it (md5 of the joined values)."""
    text = FIELD_SEPARATOR.join("" if value is None else value for value in row)
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def bronze_arrow(
    source: Source, rows: Sequence[Row], *, first_line: int = 2, batch_id: int = 1
) -> pa.Table:
    """The rows of a bronze table (one batch): the source's text columns plus lineage."""
    data: dict[str, list[Any]] = {
        column: [row[index] for row in rows] for index, column in enumerate(source.columns)
    }
    count = len(rows)
    data |= {
        "_source_file": [source.path] * count,
        "_source_system": [source.system] * count,
        "_row_number": list(range(first_line, first_line + count)),
        "_loaded_at": [RUN_STARTED_AT] * count,
        "_run_id": ["unit-test"] * count,
        "_row_hash": [row_hash(row) for row in rows],
        "_batch_id": [batch_id] * count,
    }
    schema = ibis.schema(dict.fromkeys(source.columns, "string") | LINEAGE_TYPES)
    return pa.Table.from_pydict(data, schema=schema.to_pyarrow())


def bronze(
    source: Source, rows: Sequence[Row], *, first_line: int = 2, batch_id: int = 1
) -> ir.Table:
    """A stand-in for a bronze table, as an in-memory table."""
    return ibis.memtable(bronze_arrow(source, rows, first_line=first_line, batch_id=batch_id))


def run_context(as_of: date) -> RunContext:
    return RunContext(run_id="unit-test", started_at=RUN_STARTED_AT, as_of=as_of)


def records(con: ibis.BaseBackend, expr: ir.Table) -> list[dict[str, Any]]:
    """Every row of ``expr`` as a dict (Decimals stay Decimals)."""
    return list(con.to_pyarrow(expr).to_pylist())


def by_key(rows: Sequence[dict[str, Any]], *key: str) -> dict[Any, dict[str, Any]]:
    """Rows by their key (one column: its value; several: a tuple), checked to be unique."""
    keyed = {
        (row[key[0]] if len(key) == 1 else tuple(row[name] for name in key)): row for row in rows
    }
    assert len(keyed) == len(rows), f"{key} is not unique in {rows}"
    return keyed
