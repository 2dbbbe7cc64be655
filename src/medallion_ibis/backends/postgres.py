"""PostgreSQL: production builds of the gold tables.

Bronze rows are parsed by DuckDB (the one CSV reader, see ``ingest``) and streamed into
PostgreSQL with COPY: row-by-row inserts, which is what ``create_table`` from Arrow does, are
ten to a hundred times slower.
"""

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import ibis
import psycopg
from psycopg import sql

from medallion_ibis.backends.base import LAYER_SCHEMAS, STAGING_SCHEMA, Publication, Warehouse
from medallion_ibis.errors import BackendUnavailable
from medallion_ibis.ingest import CSV_ERRORS, explain_csv_error, read_source
from medallion_ibis.model import Lineage, Source
from medallion_ibis.redact import redact_text, redact_url

COPY_CHUNK_BYTES = 1 << 20
BUILD_LOCK_KEY = 0x6D656461
"""Advisory-lock key shared by every medallion-ibis build against one database."""


class PostgresWarehouse(Warehouse):
    """A PostgreSQL database reached by URL; a second connection holds the build lock."""

    name = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self._raw = psycopg.connect(url, autocommit=True)
        except psycopg.Error as error:
            raise BackendUnavailable(
                f"cannot connect to PostgreSQL at {redact_url(url)}: "
                f"{redact_text(str(error)).strip()}"
            ) from None
        self.con = ibis.postgres.from_connection(self._raw)
        self._reader = ibis.duckdb.connect()

    @contextmanager
    def lock(self) -> Iterator[None]:
        with psycopg.connect(self.url, autocommit=True) as holder:
            locked = holder.execute("SELECT pg_try_advisory_lock(%s)", [BUILD_LOCK_KEY]).fetchone()
            if not locked or not locked[0]:
                raise BackendUnavailable(
                    f"another build holds the build lock on {redact_url(self.url)}; "
                    "wait for it to finish"
                )
            yield

    def prepare(self) -> None:
        for schema in LAYER_SCHEMAS:
            self._raw.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
        self.discard_staging()
        self._raw.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(STAGING_SCHEMA)))

    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        bronze = read_source(self._reader, path, source, lineage)
        self.con.create_table(staged, schema=bronze.schema(), database=STAGING_SCHEMA)
        with tempfile.TemporaryDirectory(prefix="medallion-") as scratch:
            parsed = Path(scratch) / "bronze.csv"
            try:
                self._reader.to_csv(bronze, parsed, header=False)
            except CSV_ERRORS as error:
                raise explain_csv_error(path, error) from None
            return self._copy_csv(staged, parsed)

    def _copy_csv(self, staged: str, parsed: Path) -> int:
        statement = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(
            sql.Identifier(STAGING_SCHEMA, staged)
        )
        with self._raw.cursor() as cursor, self._raw.transaction():
            with cursor.copy(statement) as copy, parsed.open("rb") as rows:
                while chunk := rows.read(COPY_CHUNK_BYTES):
                    copy.write(chunk)
            return cursor.rowcount

    def publish(self, publications: Sequence[Publication]) -> None:
        with self._raw.transaction():
            for publication in publications:
                self._publish_one(publication)

    def _publish_one(self, publication: Publication) -> None:
        staged = sql.Identifier(STAGING_SCHEMA, publication.staged)
        target = sql.Identifier(publication.schema, publication.table)
        if publication.partition is not None:
            column, value = publication.partition
            self._raw.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} (LIKE {})").format(target, staged)
            )
            self._raw.execute(
                sql.SQL("DELETE FROM {} WHERE {} = %s").format(target, sql.Identifier(column)),
                [value],
            )
            self._raw.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(target, staged))
        elif self._has_dependent_views(publication):
            self._raw.execute(sql.SQL("TRUNCATE {}").format(target))
            self._raw.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(target, staged))
        else:
            self._raw.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            self._raw.execute(
                sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                    staged, sql.Identifier(publication.schema)
                )
            )
            self._raw.execute(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                    sql.Identifier(publication.schema, publication.staged),
                    sql.Identifier(publication.table),
                )
            )

    def _has_dependent_views(self, publication: Publication) -> bool:
        """Views on a published table would be dropped with it, so their tables are refilled
        in place (TRUNCATE + INSERT, still inside the publishing transaction) instead."""
        row = self._raw.execute(
            """
            SELECT EXISTS (
                SELECT 1
                FROM pg_depend AS d
                JOIN pg_rewrite AS r ON r.oid = d.objid
                WHERE d.refobjid = to_regclass(%s) AND r.ev_class <> d.refobjid
            )
            """,
            [f'"{publication.schema}"."{publication.table}"'],
        ).fetchone()
        return bool(row and row[0])

    def discard_staging(self) -> None:
        self._raw.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(STAGING_SCHEMA))
        )

    def close(self) -> None:
        self._reader.disconnect()
        self._raw.close()
