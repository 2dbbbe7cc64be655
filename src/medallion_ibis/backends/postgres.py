"""PostgreSQL: production builds of the gold tables.

Bronze rows are parsed by DuckDB (the one CSV reader, see ``ingest``) and streamed into
PostgreSQL with COPY (see ``postgres_copy``): row-by-row inserts, which is what
``create_table`` from Arrow does, are ten to a hundred times slower.
"""

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import psycopg
import pyarrow
import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.sql.datatypes import PostgresType
from psycopg import sql

from medallion_ibis.backends.base import (
    LAYER_SCHEMAS,
    METADATA_SCHEMA,
    STAGING_SCHEMA,
    LedgerRows,
    Publication,
    Timeouts,
    Warehouse,
    another_build,
    holder_description,
    lock_busy,
    missing_columns,
)
from medallion_ibis.backends.duckdb import limit_memory
from medallion_ibis.backends.postgres_copy import copy_bronze
from medallion_ibis.backends.postgres_fence import fence_parsing
from medallion_ibis.backends.postgres_publish import Staged, append_in_place, put_in_place
from medallion_ibis.errors import (
    BackendUnavailable,
    MedallionError,
    PublishBlocked,
    PublishRejected,
)
from medallion_ibis.ingest import CSV_ERRORS, explain_csv_error, per_batch_lineage, read_source
from medallion_ibis.model import Lineage, Source
from medallion_ibis.redact import redact_text, redact_url

BUILD_LOCK_KEY = 0x6D656461
"""Advisory-lock key shared by every medallion-ibis build against one database."""
LOCK_HOLDER = """
SELECT a.application_name, a.pid, a.client_addr::text,
       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
    SELECT oid FROM pg_database WHERE datname = current_database()
) AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1
"""
"""The session holding the build lock (a one-argument advisory lock key below 2^32 shows as
classid 0, objid key, objsubid 1)."""
APPLICATION_NAME_LIMIT = 63


def reader_threads() -> int:
    """DuckDB's threads for parsing files into bronze: every core but one.

    The server's COPY runs in one process and, on the same machine, needs a core of its own;
    the bronze query numbers lines with windows that DuckDB computes in one ordered pipeline
    anyway. 1M sales rows on 2 cores: load 2.3 s with DuckDB on both cores, 1.9 s on one.
    """
    return max(1, (os.cpu_count() or 1) - 1)


def bronze_rows(
    reader: ibis.BaseBackend, path: Path, source: Source, lineage: Lineage
) -> tuple[ir.Table, dict[str, object]]:
    """What a bronze load of one file sends: the rows DuckDB makes of it (the values, line
    number and row hash, which differ from row to row), and the lineage values the whole
    batch shares, which travel once, as column defaults."""
    bronze = read_source(reader, path, source, lineage)
    per_batch = per_batch_lineage(source, lineage)
    return bronze.select(*(name for name in bronze.columns if name not in per_batch)), per_batch


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
        self._reader = ibis.duckdb.connect(threads=reader_threads())
        self._spill = tempfile.TemporaryDirectory(prefix="medallion-spill-")
        limit_memory(self._reader.con, memory_limit, Path(self._spill.name))

    def _connect(self, application_name: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection, or a sentence saying why there is none; a server that accepts the
        connection but never answers is given up on after ``connect_timeout``."""
        try:
            return psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=self.timeouts.connect_seconds,
                application_name=application_name,
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
    def lock(self, wait_seconds: float = 0.0) -> Iterator[None]:
        """A session-level advisory lock, held by a connection of its own for the whole build
        and released by the server when that session ends, however the build ends. The
        holder's connection is named (``application_name``) so a build kept waiting can say
        who holds it.

        A build that ends in this process unlocks before it disconnects: the server ends a
        closed session a moment after the client has gone, and a build started right after
        (a script's next step) was seen refused by the lock of the one before.
        """
        with self._connect(application_name=_application_name()) as holder:
            if not self._take(holder, wait_seconds):
                raise lock_busy(
                    f"the build lock on {redact_url(self.url)}", self._holder(holder), wait_seconds
                )
            try:
                yield
            finally:
                with suppress(psycopg.Error):  # a lost session has let go of it already
                    holder.execute("SELECT pg_advisory_unlock(%s)", [BUILD_LOCK_KEY])

    def _take(self, holder: psycopg.Connection[tuple[Any, ...]], wait_seconds: float) -> bool:
        if wait_seconds <= 0:
            taken = holder.execute("SELECT pg_try_advisory_lock(%s)", [BUILD_LOCK_KEY]).fetchone()
            return bool(taken and taken[0])
        milliseconds = max(1, round(wait_seconds * 1000))
        holder.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(milliseconds)))
        try:
            holder.execute("SELECT pg_advisory_lock(%s)", [BUILD_LOCK_KEY])
        except psycopg.errors.LockNotAvailable:
            return False
        holder.execute("RESET lock_timeout")
        return True

    def _holder(self, holder: psycopg.Connection[tuple[Any, ...]]) -> str:
        """The session holding the build lock, as PostgreSQL describes it."""
        found = holder.execute(LOCK_HOLDER, [BUILD_LOCK_KEY]).fetchone()
        if found is None:
            return another_build("gone by now")
        name, pid, address, since = found
        where = f"server pid {pid}, from {address or 'a local socket'}, connected {since}"
        return another_build(f"{name}; {where}" if name else where)

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
        """Create the staged table from the expression's query, its text parsing fenced (see
        ``postgres_fence``); returns the rows created.

        One ``CREATE TABLE … AS``, which PostgreSQL may run with parallel workers, where an
        ``INSERT`` into a created table never is (gold_daily_sales_summary at 1M sales:
        3.2 s → 2.4 s). Every column is cast to the type the expression promises, and a
        column Ibis knows is never NULL is declared NOT NULL, so the table is the one
        ``create_table`` would have made from the schema.
        """
        self.con._run_pre_execute_hooks(expr)  # registers in-memory tables the query reads
        query = fence_parsing(self.con.compiler.to_sqlglot(expr))
        schema = expr.schema()
        typed = sg.select(
            *(
                sge.Cast(this=sg.column(name, quoted=True), to=PostgresType.from_ibis(dtype)).as_(
                    name, quoted=True
                )
                for name, dtype in schema.items()
            )
        ).from_(sge.Subquery(this=query, alias=sge.TableAlias(this=sg.to_identifier("built"))))
        target = sge.table_(staged, db=STAGING_SCHEMA, quoted=True)
        create = sge.Create(kind="TABLE", this=target, expression=typed)
        never_null = [name for name, dtype in schema.items() if not dtype.nullable]
        with self._raw.cursor() as cursor, self._raw.transaction():
            cursor.execute(create.sql(self.con.dialect))
            rows = cursor.rowcount
            if never_null:
                cursor.execute(
                    sql.SQL("ALTER TABLE {} {}").format(
                        sql.Identifier(STAGING_SCHEMA, staged),
                        sql.SQL(", ").join(
                            sql.SQL("ALTER COLUMN {} SET NOT NULL").format(sql.Identifier(name))
                            for name in never_null
                        ),
                    )
                )
            return rows

    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        per_row, per_batch = bronze_rows(self._reader, path, source, lineage)
        target = sql.Identifier(STAGING_SCHEMA, staged)
        try:
            with self._raw.cursor() as cursor, self._raw.transaction():
                return copy_bronze(
                    cursor,
                    target,
                    self._reader.con,
                    str(self._reader.compile(per_row)),
                    per_row.columns,
                    per_batch,
                )
        except CSV_ERRORS as error:
            raise explain_csv_error(path, error) from None

    def publish(
        self, publications: Sequence[Publication], ledger: Sequence[LedgerRows] = ()
    ) -> list[str]:
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
                for entry in ledger:
                    current = f"{METADATA_SCHEMA}.{entry.table}"
                    self._append(entry)
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

    def _append(self, entry: LedgerRows) -> None:
        """Append the rows to their ``_medallion`` table with COPY, creating what is missing;
        the caller's transaction makes it part of the publish."""
        target = sql.Identifier(METADATA_SCHEMA, entry.table)
        self._raw.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(METADATA_SCHEMA))
        )
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_column_type(kind)))
            for name, kind in missing_columns(entry.rows, [])
        )
        self._raw.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(target, columns))
        existing = [
            str(row[0])
            for row in self._raw.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s",
                [METADATA_SCHEMA, entry.table],
            )
        ]
        for name, kind in missing_columns(entry.rows, existing):
            self._raw.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    target, sql.Identifier(name), sql.SQL(_column_type(kind))
                )
            )
        names = sql.SQL(", ").join(map(sql.Identifier, entry.rows.column_names))
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)
        with self._raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in entry.rows.to_pylist():
                copy.write_row(list(row.values()))

    def _publish_one(self, publication: Publication) -> list[str]:
        staged = sql.Identifier(STAGING_SCHEMA, publication.staged)
        target = sql.Identifier(publication.schema, publication.table)
        if publication.append:
            return append_in_place(
                self._raw,
                Staged(STAGING_SCHEMA, publication.staged),
                publication.schema,
                publication.table,
            )
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


def _column_type(kind: pyarrow.DataType) -> str:
    """The PostgreSQL type of an Arrow column, as Ibis maps it."""
    return str(PostgresType.from_ibis(ibis.dtype(kind)).sql("postgres"))


def _application_name() -> str:
    """The lock holder's session name: the build's pid, host and start, within PostgreSQL's
    63 bytes."""
    return f"medallion-ibis build {holder_description()}"[:APPLICATION_NAME_LIMIT]
