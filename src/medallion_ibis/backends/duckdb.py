"""DuckDB: the embedded default, one file on disk, for development and tests.

A table published whole is staged in the schema it is published to, under a private name, so
publishing renames it into place instead of copying its rows (DuckDB cannot move a table to
another schema). Measured on 1M sales rows: copying every table at publish took 8–10 s of a
33 s build, renaming takes milliseconds.
"""

import re
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir

from medallion_ibis.backends.base import (
    LAYER_SCHEMAS,
    LOCK_POLL_SECONDS,
    METADATA_SCHEMA,
    STAGING_SCHEMA,
    LedgerRows,
    Publication,
    Warehouse,
    another_build,
    file_lock,
    lock_busy,
    missing_columns,
    read_holder,
    refuse_changed_append,
)
from medallion_ibis.errors import BackendUnavailable
from medallion_ibis.ingest import CSV_ERRORS, bronze_schema, explain_csv_error, read_source
from medallion_ibis.model import Lineage, Source


def _quoted(*parts: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _lock_holder(error: duckdb.IOException, build: str) -> str | None:
    """Who holds the database file open, as DuckDB names the process, or as the build lock
    file describes it when that process is a build (``build``: the file's text, which a
    build killed outright leaves behind, so the process ids must agree); None when the error
    is not about that lock."""
    held = re.search(r"Conflicting lock is held in (.*) \(PID (\d+)\)", str(error))
    if held is None:
        return None
    program, pid = held.groups()
    if f"pid {pid} " in build:
        return another_build(build)
    return f"another program ({program} pid {pid})"


STAGED_IN_PLACE = "__medallion_staged__"
"""Prefix of a table staged inside the schema it will be published to."""

CARRIES_ANYTHING = """
SELECT EXISTS (SELECT 1 FROM duckdb_tables()
               WHERE schema_name = $schema AND table_name = $table AND comment IS NOT NULL)
    OR EXISTS (SELECT 1 FROM duckdb_columns()
               WHERE schema_name = $schema AND table_name = $table
                 AND (comment IS NOT NULL OR column_default IS NOT NULL))
    OR EXISTS (SELECT 1 FROM duckdb_indexes()
               WHERE schema_name = $schema AND table_name = $table)
    OR EXISTS (SELECT 1 FROM duckdb_constraints()
               WHERE schema_name = $schema
                 AND (table_name = $table OR referenced_table = $table))
"""
"""True when users attached something a rename would lose: a comment, a column default, an
index or a constraint (a foreign key pointing at the table needs a key on it, so it counts
too). Views are bound by name and survive either way."""


def limit_memory(con: duckdb.DuckDBPyConnection, limit: int | None, spill: Path | None) -> None:
    """Cap what DuckDB holds in memory at ``limit`` bytes, spilling to ``spill`` past it (a
    database file spills beside itself, to ``<file>.tmp``, without being told)."""
    if limit is not None:
        con.execute(f"SET memory_limit = '{limit}B'")
    if spill is not None:
        con.execute(f"SET temp_directory = {_literal(str(spill))}")


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file; DuckDB reads the CSV files itself, in parallel.

    DuckDB lets one process at a time open the file for writing, so a second build is stopped
    (or kept waiting, ``wait_seconds``) when it opens the database, before the build lock.
    """

    name = "duckdb"

    def __init__(
        self, path: Path, *, wait_seconds: float = 0.0, memory_limit: int | None = None
    ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = self._connect(wait_seconds)
        self._raw: duckdb.DuckDBPyConnection = self.con.con
        limit_memory(self._raw, memory_limit, None)
        self._in_place: dict[str, str] = {}
        """Staged name → the schema it is staged (and will be published) in."""

    @property
    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _connect(self, wait_seconds: float) -> ibis.BaseBackend:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                return ibis.duckdb.connect(str(self.path))
            except duckdb.IOException as error:
                holder = _lock_holder(error, read_holder(self._lock_path))
                if holder is None:
                    raise BackendUnavailable(
                        f"cannot open DuckDB database {self.path}: {error}"
                    ) from None
                if time.monotonic() >= deadline:
                    raise lock_busy(
                        f"the DuckDB database {self.path}", holder, wait_seconds
                    ) from None
                time.sleep(LOCK_POLL_SECONDS)

    def lock(self, wait_seconds: float = 0.0) -> AbstractContextManager[None]:
        return file_lock(self._lock_path, wait_seconds)

    def prepare(self, publications: Sequence[Publication] = ()) -> None:
        for schema in LAYER_SCHEMAS:
            self._raw.execute(f"CREATE SCHEMA IF NOT EXISTS {_quoted(schema)}")
        self.discard_staging()
        self._raw.execute(f"CREATE SCHEMA {_quoted(STAGING_SCHEMA)}")
        self._in_place = {
            publication.staged: publication.schema
            for publication in publications
            if publication.partition is None
        }

    def _place(self, staged: str) -> tuple[str, str]:
        """Schema and name of a staged table."""
        schema = self._in_place.get(staged)
        if schema is None:
            return STAGING_SCHEMA, staged
        return schema, STAGED_IN_PLACE + staged

    def materialize(self, staged: str, expr: ir.Table) -> int:
        schema, table = self._place(staged)
        self.con.create_table(table, expr, database=schema)
        return int(self.staged(staged).count().execute())

    def staged(self, staged: str) -> ir.Table:
        schema, table = self._place(staged)
        return self.con.table(table, database=schema)

    def stage_empty(self, staged: str, source: Source) -> None:
        schema, table = self._place(staged)
        self.con.create_table(table, schema=bronze_schema(source), database=schema)

    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        schema, table = self._place(staged)
        try:
            rows = read_source(self.con, path, source, lineage)
            self.con.insert(table, rows, database=schema)
        except CSV_ERRORS as error:
            raise explain_csv_error(path, error) from None
        landed = self.staged(staged)
        return int(landed.filter(landed._batch_id == lineage.batch_id).count().execute())

    def publish(
        self, publications: Sequence[Publication], ledger: Sequence[LedgerRows] = ()
    ) -> list[str]:
        notices: list[str] = []
        self._raw.begin()
        try:
            for publication in publications:
                notices += self._publish_one(publication)
            for entry in ledger:
                self._append(entry)
        except BaseException:
            self._raw.rollback()
            raise
        self._raw.commit()
        return notices

    def _publish_one(self, publication: Publication) -> list[str]:
        """Rename a table staged in place over the published one when users attached nothing
        to it; otherwise refill the published table in place, so its comments, indexes and
        constraints stay (``CREATE OR REPLACE`` would drop them). Views survive either way,
        being bound by name. Only a table that carries something and whose columns changed is
        replaced, with its comments re-applied. An append (bronze) only inserts: the runner has
        checked its columns."""
        schema, table = publication.schema, publication.table
        staged_schema, staged_table = self._place(publication.staged)
        staged = _quoted(staged_schema, staged_table)
        target = _quoted(schema, table)
        carries = self._exists(schema, table) and self._carries_anything(schema, table)
        if staged_schema == schema and not publication.append and not carries:
            self._raw.execute(f"DROP TABLE IF EXISTS {target}")
            self._raw.execute(f"ALTER TABLE {staged} RENAME TO {_quoted(table)}")
            return []
        self._raw.execute(f"CREATE TABLE IF NOT EXISTS {target} AS FROM {staged} LIMIT 0")
        old_columns = self._columns(schema, table)
        new_columns = self._columns(staged_schema, staged_table)
        if publication.partition is not None:
            column, value = publication.partition
            self._raw.execute(f"DELETE FROM {target} WHERE {_quoted(column)} = ?", [value])
        elif publication.append:
            refuse_changed_append(
                f"{publication.schema}.{publication.table}", old_columns == new_columns
            )
        elif old_columns == new_columns:
            self._raw.execute(f"DELETE FROM {target}")
        else:
            return self._replace(publication, old_columns, new_columns)
        self._raw.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {staged}")
        return []

    def _append(self, entry: LedgerRows) -> None:
        """Append the rows to their ``_medallion`` table, creating what is missing."""
        target = _quoted(METADATA_SCHEMA, entry.table)
        self._raw.execute(f"CREATE SCHEMA IF NOT EXISTS {_quoted(METADATA_SCHEMA)}")
        view = f"medallion_ledger_{entry.table}"
        self._raw.register(view, entry.rows)
        try:
            self._raw.execute(f"CREATE TABLE IF NOT EXISTS {target} AS FROM {view} LIMIT 0")
            existing = [name for name, _ in self._columns(METADATA_SCHEMA, entry.table)]
            for name, _ in missing_columns(entry.rows, existing):
                described = self._raw.execute(f"DESCRIBE SELECT {_quoted(name)} FROM {view}")
                kind = described.fetchall()[0][1]
                self._raw.execute(f"ALTER TABLE {target} ADD COLUMN {_quoted(name)} {kind}")
            self._raw.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {view}")
        finally:
            self._raw.unregister(view)

    def _exists(self, schema: str, table: str) -> bool:
        return bool(
            self._raw.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                [schema, table],
            ).fetchall()[0][0]
        )

    def _carries_anything(self, schema: str, table: str) -> bool:
        row = self._raw.execute(CARRIES_ANYTHING, {"schema": schema, "table": table}).fetchone()
        return bool(row and row[0])

    def _columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        return [
            (str(name), str(kind))
            for name, kind in self._raw.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
        ]

    def _replace(
        self,
        publication: Publication,
        old_columns: list[tuple[str, str]],
        new_columns: list[tuple[str, str]],
    ) -> list[str]:
        schema, table = publication.schema, publication.table
        target = _quoted(schema, table)
        comments = self._raw.execute(
            "SELECT NULL, comment FROM duckdb_tables() "
            "WHERE schema_name = ? AND table_name = ? AND comment IS NOT NULL "
            "UNION ALL SELECT column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = ? AND table_name = ? AND comment IS NOT NULL",
            [schema, table, schema, table],
        ).fetchall()
        staged_schema, staged_table = self._place(publication.staged)
        if staged_schema == schema:
            self._raw.execute(f"DROP TABLE {target}")
            self._raw.execute(
                f"ALTER TABLE {_quoted(schema, staged_table)} RENAME TO {_quoted(table)}"
            )
        else:
            self._raw.execute(
                f"CREATE OR REPLACE TABLE {target} AS "
                f"SELECT * FROM {_quoted(staged_schema, staged_table)}"
            )
        kept = {name for name, _ in new_columns}
        for column, text in comments:
            if column is None:
                self._raw.execute(f"COMMENT ON TABLE {target} IS {_literal(text)}")
            elif column in kept:
                self._raw.execute(
                    f"COMMENT ON COLUMN {_quoted(schema, table, column)} IS {_literal(text)}"
                )
        old, new = dict(old_columns), dict(new_columns)
        changes = [f"+{name}" for name in new if name not in old]
        changes += [f"-{name}" for name in old if name not in new]
        changes += [f"~{name}" for name in new if name in old and old[name] != new[name]]
        return [
            f"{schema}.{table}: columns changed ({', '.join(changes) or 'order'}), so the table "
            "was replaced and its comments re-applied; indexes on it were not carried over"
        ]

    def discard_staging(self) -> None:
        """Drop the staging schema and every table staged in place, this run's or one a
        killed build left behind."""
        self._raw.execute(f"DROP SCHEMA IF EXISTS {_quoted(STAGING_SCHEMA)} CASCADE")
        leftovers = self._raw.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND starts_with(table_name, ?)",
            [STAGED_IN_PLACE],
        ).fetchall()
        for schema, table in leftovers:
            self._raw.execute(f"DROP TABLE {_quoted(schema, table)}")
