"""Helpers for the crm_erp tests: bronze stand-ins and an in-memory build of the models.

Owned by the crm_erp test suite (conftest.py and helpers.py belong to the lead).
``CompiledPipeline`` runs every model on one DuckDB connection without files, contracts or
publishing, fast enough for one build per property-test example.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import ibis
from helpers import SHARED_REFERENCE
from stand_ins import Row, bronze_arrow, run_context

from medallion_ibis.dag import build_order
from medallion_ibis.examples.crm_erp import PIPELINE

REFERENCE_CRM_ERP = SHARED_REFERENCE / "crm_erp"


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
