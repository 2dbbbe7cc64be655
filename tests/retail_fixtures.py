"""Helpers for the retail tests: tiny seed folders, bronze stand-ins, throwaway databases.

Owned by the retail test suite (conftest.py and helpers.py belong to the lead). Everything here
is plain functions; each test module wraps what it needs in its own fixtures.
"""

import csv
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import psycopg
import pyarrow as pa

from medallion_ibis.ingest import LINEAGE_TYPES
from medallion_ibis.model import RunContext, Source
from medallion_ibis.pipelines.retail.sources import CUSTOMERS, PRODUCTS, SALES

REFERENCE_RETAIL = Path(__file__).resolve().parents[2] / "shared" / "reference" / "retail"
RUN_STARTED_AT = datetime(2024, 2, 1, 8, 30, 0)
"""The stamp unit tests give the models; any fixed value will do."""

Row = Sequence[str | None]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Row]) -> Path:
    """A CSV file as an export tool writes it: minimal quoting, ``\\n`` line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
    return path


def write_seeds(
    root: Path,
    *,
    sales: Sequence[Row] | None = None,
    customers: Sequence[Row] | None = None,
    products: Sequence[Row] | None = None,
) -> Path:
    """A seeds folder ``root`` with ``retail/`` files; a table not given is the reference file."""
    for source, rows in ((SALES, sales), (CUSTOMERS, customers), (PRODUCTS, products)):
        target = root / source.path
        if rows is None:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REFERENCE_RETAIL / Path(source.path).name, target)
            target.chmod(0o644)
        else:
            write_csv(target, source.columns, rows)
    return root


def read_csv_rows(path: Path) -> list[list[str]]:
    """The data rows of a CSV file as Python's csv module reads them (an independent parser)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def bronze(source: Source, rows: Sequence[Row], *, first_line: int = 2) -> ir.Table:
    """A stand-in for a bronze table: the source's text columns plus lineage columns."""
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
        "_row_hash": [f"{index:032x}" for index in range(count)],
    }
    schema = ibis.schema(dict.fromkeys(source.columns, "string") | LINEAGE_TYPES)
    return ibis.memtable(pa.Table.from_pydict(data, schema=schema.to_pyarrow()))


def run_context(as_of: date) -> RunContext:
    return RunContext(run_id="unit-test", started_at=RUN_STARTED_AT, as_of=as_of)


def records(con: ibis.BaseBackend, expr: ir.Table) -> list[dict[str, Any]]:
    """Every row of ``expr`` as a dict (Decimals stay Decimals)."""
    return list(con.to_pyarrow(expr).to_pylist())


def by_key(rows: Sequence[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    keyed = {row[key]: row for row in rows}
    assert len(keyed) == len(rows), f"{key} is not unique in {rows}"
    return keyed


def table_records(con: ibis.BaseBackend, schema: str, table: str) -> list[dict[str, Any]]:
    return records(con, con.table(table, database=schema))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards.

    For module-scoped fixtures: ``pg_url`` from conftest is per test.
    """
    name = f"medallion_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
