"""DuckDB: the embedded default, one file on disk, for development and tests."""

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb
import ibis

from medallion_ibis.backends.base import (
    LAYER_SCHEMAS,
    STAGING_SCHEMA,
    Publication,
    Warehouse,
    file_lock,
)
from medallion_ibis.errors import BackendUnavailable
from medallion_ibis.ingest import CSV_ERRORS, explain_csv_error, read_source
from medallion_ibis.model import Lineage, Source


def _quoted(*parts: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file; DuckDB reads the CSV files itself, in parallel."""

    name = "duckdb"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = ibis.duckdb.connect(str(path))
        except duckdb.IOException as error:
            raise BackendUnavailable(f"cannot open DuckDB database {path}: {error}") from None
        self._raw: duckdb.DuckDBPyConnection = self.con.con

    def lock(self) -> AbstractContextManager[None]:
        return file_lock(self.path.with_name(self.path.name + ".lock"))

    def prepare(self) -> None:
        for schema in LAYER_SCHEMAS:
            self._raw.execute(f"CREATE SCHEMA IF NOT EXISTS {_quoted(schema)}")
        self.discard_staging()
        self._raw.execute(f"CREATE SCHEMA {_quoted(STAGING_SCHEMA)}")

    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        try:
            return self.materialize(staged, read_source(self.con, path, source, lineage))
        except CSV_ERRORS as error:
            raise explain_csv_error(path, error) from None

    def publish(self, publications: Sequence[Publication]) -> None:
        self._raw.begin()
        try:
            for publication in publications:
                self._publish_one(publication)
        except BaseException:
            self._raw.rollback()
            raise
        self._raw.commit()

    def _publish_one(self, publication: Publication) -> None:
        staged = _quoted(STAGING_SCHEMA, publication.staged)
        target = _quoted(publication.schema, publication.table)
        if publication.partition is None:
            self._raw.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {staged}")
            return
        column, value = publication.partition
        self._raw.execute(f"CREATE TABLE IF NOT EXISTS {target} AS FROM {staged} LIMIT 0")
        self._raw.execute(f"DELETE FROM {target} WHERE {_quoted(column)} = ?", [value])
        self._raw.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {staged}")

    def discard_staging(self) -> None:
        self._raw.execute(f"DROP SCHEMA IF EXISTS {_quoted(STAGING_SCHEMA)} CASCADE")
