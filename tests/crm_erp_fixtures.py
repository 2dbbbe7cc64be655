"""Helpers for the crm_erp tests: bronze stand-ins and an in-memory build of the models.

Owned by the crm_erp test suite (conftest.py and helpers.py belong to the lead).
``CompiledPipeline`` runs every model on one DuckDB connection without files, contracts or
publishing, fast enough for one build per property-test example.
"""

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from medallion_ibis.dag import build_order
from medallion_ibis.ingest import LINEAGE_TYPES
from medallion_ibis.model import RunContext, Source
from medallion_ibis.pipelines.crm_erp import PIPELINE

REFERENCE_CRM_ERP = Path(__file__).resolve().parents[2] / "shared" / "reference" / "crm_erp"
RUN_STARTED_AT = datetime(2024, 2, 1, 8, 30, 0)
"""The stamp unit tests give the models; any fixed value will do."""
FIELD_SEPARATOR = "\x1f"

Row = Sequence[str | None]


def row_hash(row: Row) -> str:
    """The bronze ``_row_hash`` of a row, as ingest computes it (md5 of the joined values)."""
    text = FIELD_SEPARATOR.join("" if value is None else value for value in row)
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def bronze_arrow(source: Source, rows: Sequence[Row], *, first_line: int = 2) -> pa.Table:
    """The rows of a bronze table: the source's text columns plus lineage columns."""
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
    }
    schema = ibis.schema(dict.fromkeys(source.columns, "string") | LINEAGE_TYPES)
    return pa.Table.from_pydict(data, schema=schema.to_pyarrow())


def bronze(source: Source, rows: Sequence[Row], *, first_line: int = 2) -> ir.Table:
    """A stand-in for a bronze table, as an in-memory table."""
    return ibis.memtable(bronze_arrow(source, rows, first_line=first_line))


def run_context(as_of: date) -> RunContext:
    return RunContext(run_id="unit-test", started_at=RUN_STARTED_AT, as_of=as_of)


class CompiledPipeline:
    """Every crm_erp model compiled once to SQL over fixed table names of a private DuckDB.

    Compiling an Ibis expression costs far more than running it on a few rows, so a build here
    only reloads the bronze tables and re-runs the compiled statements, in build order: a
    property test can afford one build per example. No contracts, staging or publishing: the
    models' logic only, for a fixed as-of date.
    """

    def __init__(self, as_of: date) -> None:
        self.native = duckdb.connect()
        self.con = ibis.duckdb.from_connection(self.native)
        self.statements: list[tuple[str, str]] = []
        self._load({})
        tables = {source.table: self.con.table(source.table) for source in PIPELINE.sources}
        run = run_context(as_of)
        for model in build_order(PIPELINE):
            sql = str(self.con.compile(model.build(tables, lambda: run)))
            self.statements.append((model.name, sql))
            self.native.execute(f'CREATE OR REPLACE TABLE "{model.name}" AS {sql}')
            tables[model.name] = self.con.table(model.name)

    def build(self, rows: Mapping[str, Sequence[Row]]) -> None:
        """Rebuild every table from bronze ``rows`` (by source table; a missing one is empty)."""
        self._load(rows)
        for name, sql in self.statements:
            self.native.execute(f'CREATE OR REPLACE TABLE "{name}" AS {sql}')

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a table of the last build as a dict (Decimals stay Decimals)."""
        return list(self.native.sql(f'FROM "{table}"').to_arrow_table().to_pylist())

    def close(self) -> None:
        self.native.close()

    def _load(self, rows: Mapping[str, Sequence[Row]]) -> None:
        for source in PIPELINE.sources:
            self.native.register("incoming", bronze_arrow(source, rows.get(source.table, ())))
            self.native.execute(f'CREATE OR REPLACE TABLE "{source.table}" AS FROM incoming')
            self.native.unregister("incoming")


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
