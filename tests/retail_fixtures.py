"""Helpers for the retail tests: tiny seed folders, bronze stand-ins, throwaway databases.

Owned by the retail test suite (conftest.py and helpers.py belong to the lead). Everything here
is plain functions; each test module wraps what it needs in its own fixtures.
"""

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis
from helpers import SHARED_REFERENCE
from stand_ins import Row, records

from medallion_ibis.examples.retail.sources import CUSTOMERS, PRODUCTS, SALES

REFERENCE_RETAIL = SHARED_REFERENCE / "retail"


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


def table_records(con: ibis.BaseBackend, schema: str, table: str) -> list[dict[str, Any]]:
    return records(con, con.table(table, database=schema))
