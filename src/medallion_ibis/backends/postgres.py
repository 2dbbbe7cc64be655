"""PostgreSQL: production builds of the gold tables.

Bronze rows are parsed by DuckDB (the one CSV reader, see ``ingest``) and streamed into
PostgreSQL with COPY: row-by-row inserts, which is what ``create_table`` from Arrow does, are
ten to a hundred times slower.
"""

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import psycopg
from psycopg import sql

from medallion_ibis.backends.base import (
    LAYER_SCHEMAS,
    STAGING_SCHEMA,
    Publication,
    Timeouts,
    Warehouse,
)
from medallion_ibis.backends.duckdb import limit_memory
from medallion_ibis.backends.postgres_fence import fence_parsing
from medallion_ibis.backends.postgres_publish import Staged, put_in_place
from medallion_ibis.errors import (
    BackendUnavailable,
    MedallionError,
    PublishBlocked,
    PublishRejected,
)
from medallion_ibis.ingest import CSV_ERRORS, explain_csv_error, read_source
from medallion_ibis.model import Lineage, Source
from medallion_ibis.redact import redact_text, redact_url

COPY_CHUNK_BYTES = 1 << 20
BUILD_LOCK_KEY = 0x6D656461
"""Advisory-lock key shared by every medallion-ibis build against one database."""


class PostgresWarehouse(Warehouse):
    """A PostgreSQL database reached by URL; a second connection holds the build lock."""

    name = "postgres"

    def __init__(
        self, url: str, timeouts: Timeouts | None = None, memory_limit: int | None = None
    ) -> None:
        self.url = url
        self.timeouts = timeouts or Timeouts()
        self._raw = self._connect()
        self.con = ibis.postgres.from_connection(self._raw)
        self._reader = ibis.duckdb.connect()
        self._spill = tempfile.TemporaryDirectory(prefix="medallion-spill-")
        limit_memory(self._reader.con, memory_limit, Path(self._spill.name))

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection, or a sentence saying why there is none; a server that accepts the
        connection but never answers is given up on after ``connect_timeout``."""
        try:
            return psycopg.connect(
                self.url, autocommit=True, connect_timeout=self.timeouts.connect_seconds
            )
        except psycopg.Error as error:
            reason = redact_text(str(error)).strip().splitlines()[0]
            if "timeout expired" in reason:
                reason = (
                    f"no answer within {self.timeouts.connect_seconds}s (connect-timeout); "
                    "is the host and port a PostgreSQL server?"
                )
            raise BackendUnavailable(
                f"cannot connect to PostgreSQL at {redact_url(self.url)}: {reason}"
            ) from None

    @contextmanager
    def lock(self) -> Iterator[None]:
        with self._connect() as holder:
            locked = holder.execute("SELECT pg_try_advisory_lock(%s)", [BUILD_LOCK_KEY]).fetchone()
            if not locked or not locked[0]:
                raise BackendUnavailable(
                    f"another build holds the build lock on {redact_url(self.url)}; "
                    "wait for it to finish"
                )
            yield

    def explain(self, error: Exception) -> MedallionError | None:
        """The failures that are the server's or the account's, not a model's."""
        if isinstance(error, psycopg.errors.InsufficientPrivilege):
            user = self._raw.info.user if not self._raw.closed else "the configured user"
            return BackendUnavailable(
                f"PostgreSQL user {user} lacks a privilege the build needs "
                f"({redact_text(str(error)).strip().splitlines()[0]}): it needs CREATE on the "
                "database (for the bronze, silver, gold and staging schemas) and must own the "
                "published tables, or be a member of their owner's role"
            )
        if self._connection_lost(error):
            return BackendUnavailable(
                f"lost the connection to PostgreSQL at {redact_url(self.url)} during the build "
                f"({redact_text(str(error)).strip().splitlines()[0] if str(error) else 'closed'})"
                "; nothing was published"
            )
        return None

    def _connection_lost(self, error: Exception) -> bool:
        """The session ended under the build: a dead socket, or an administrator or a server
        shutdown ending it (SQLSTATE classes 08 and 57P)."""
        if not isinstance(error, psycopg.OperationalError):
            return False
        state = error.sqlstate or ""
        return self._raw.closed or self._raw.broken or state.startswith(("08", "57P"))

    def prepare(self, publications: Sequence[Publication] = ()) -> None:
        for schema in LAYER_SCHEMAS:
            self._raw.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
        self.discard_staging()
        self._raw.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(STAGING_SCHEMA)))

    def materialize(self, staged: str, expr: ir.Table) -> int:
        """Create the staged table with the expression's column types, then fill it with the
        query, its text parsing fenced (see ``postgres_fence``); returns the rows inserted."""
        self.con._run_pre_execute_hooks(expr)  # registers in-memory tables the query reads
        query = fence_parsing(self.con.compiler.to_sqlglot(expr)).sql(self.con.dialect)
        self.con.create_table(staged, schema=expr.schema(), database=STAGING_SCHEMA)
        statement = sql.SQL("INSERT INTO {} ").format(sql.Identifier(STAGING_SCHEMA, staged))
        with self._raw.cursor() as cursor, self._raw.transaction():
            cursor.execute(statement.as_string(self._raw) + query)
            return cursor.rowcount

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

    def publish(self, publications: Sequence[Publication]) -> list[str]:
        """One transaction; each table waits at most ``lock_timeout`` for readers to let go."""
        notices: list[str] = []
        current = ""
        try:
            with self._raw.transaction():
                self._raw.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}").format(
                        sql.Literal(f"{self.timeouts.lock_seconds}s")
                    )
                )
                for publication in publications:
                    current = f"{publication.schema}.{publication.table}"
                    notices += self._publish_one(publication)
        except psycopg.errors.LockNotAvailable:
            raise PublishBlocked(
                f"publishing waited more than {self.timeouts.lock_seconds}s (lock-timeout) for "
                f"other sessions to release {current}: a long query or an open transaction "
                "holds it; nothing was published, retry when it has finished"
            ) from None
        except psycopg.errors.IntegrityError as error:
            raise PublishRejected(
                f"the new rows break a constraint the warehouse holds: "
                f"{redact_text(str(error)).strip().splitlines()[0]}; nothing was published"
            ) from None
        return notices

    def _publish_one(self, publication: Publication) -> list[str]:
        staged = sql.Identifier(STAGING_SCHEMA, publication.staged)
        target = sql.Identifier(publication.schema, publication.table)
        if publication.partition is None:
            return put_in_place(
                self._raw,
                Staged(STAGING_SCHEMA, publication.staged),
                publication.schema,
                publication.table,
            )
        column, value = publication.partition
        self._raw.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (LIKE {})").format(target, staged))
        self._raw.execute(
            sql.SQL("DELETE FROM {} WHERE {} = %s").format(target, sql.Identifier(column)),
            [value],
        )
        self._raw.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(target, staged))
        return []

    def discard_staging(self) -> None:
        self._raw.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(STAGING_SCHEMA))
        )

    def close(self) -> None:
        self._reader.disconnect()
        self._spill.cleanup()
        self._raw.close()
