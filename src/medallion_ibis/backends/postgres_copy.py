"""Bronze rows parsed by DuckDB, streamed into PostgreSQL's ``COPY FROM STDIN``.

Two things keep the bronze load close to a plain ``COPY`` of the file:

- DuckDB writes its CSV into a named pipe that this process feeds to COPY as it arrives, so
  DuckDB's parsing and hashing overlap with the server's ingestion instead of writing the
  whole file to disk first and copying it afterwards; psycopg's queued writer sends from a
  thread of its own, so reading the pipe never waits for the server.
- The lineage values every row of a batch shares (file, system, load time, run, batch) travel
  once, as column defaults set for the duration of the COPY, instead of on every line: on the
  retail sales rows they were 38 % of the bytes COPY had to parse.

Where the platform, or the file system of the temporary folder, has no named pipes, DuckDB
writes a temporary file that is then copied: slower, same rows.
"""

import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from io import BufferedReader
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

CHUNK_BYTES = 1 << 20
PIPE_BYTES = 1 << 20
"""The pipe's buffer (Linux's default limit for an unprivileged process): with the usual
64 KiB, DuckDB stalls whenever COPY is busy sending, and the two take turns."""


def copy_bronze(
    cursor: psycopg.Cursor[Any],
    target: sql.Identifier,
    reader: duckdb.DuckDBPyConnection,
    query: str,
    per_row: Sequence[str],
    per_batch: Mapping[str, object],
) -> int:
    """Append the rows of the DuckDB ``query`` (columns ``per_row``) to ``target``, whose
    other columns take the ``per_batch`` values; returns the rows copied. Runs inside the
    caller's transaction, so a failure on either side leaves ``target`` as it was."""
    with csv_stream(reader, query) as rows:
        return copy_csv(cursor, target, rows, per_row, per_batch)


def copy_csv(
    cursor: psycopg.Cursor[Any],
    target: sql.Identifier,
    rows: BufferedReader,
    per_row: Sequence[str],
    per_batch: Mapping[str, object],
) -> int:
    """Append headerless CSV ``rows`` (columns ``per_row``) to ``target``, the ``per_batch``
    values filling its other columns; returns the rows copied. The server's whole share of a
    bronze load, which the benchmark also times alone on rows DuckDB wrote beforehand."""
    _set_defaults(cursor, target, per_batch)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        target, sql.SQL(", ").join(map(sql.Identifier, per_row))
    )
    writer = QueuedLibpqWriter(cursor)  # this thread keeps reading the rows meanwhile
    with cursor.copy(statement, writer=writer) as copy:
        while chunk := rows.read1(CHUNK_BYTES):
            copy.write(chunk)
    copied = cursor.rowcount
    _set_defaults(cursor, target, dict.fromkeys(per_batch))
    return copied


def _set_defaults(
    cursor: psycopg.Cursor[Any], target: sql.Identifier, values: Mapping[str, object]
) -> None:
    """Give ``target``'s columns these defaults; a value of None drops the default, so no
    later insert silently takes a batch's lineage."""
    changes = [
        sql.SQL("ALTER COLUMN {} SET DEFAULT {}").format(sql.Identifier(name), sql.Literal(value))
        if value is not None
        else sql.SQL("ALTER COLUMN {} DROP DEFAULT").format(sql.Identifier(name))
        for name, value in values.items()
    ]
    cursor.execute(sql.SQL("ALTER TABLE {} {}").format(target, sql.SQL(", ").join(changes)))


@contextmanager
def csv_stream(reader: duckdb.DuckDBPyConnection, query: str) -> Iterator[BufferedReader]:
    """The query's rows as headerless CSV, readable while DuckDB still writes them.

    DuckDB's error, if it fails, is raised when the block ends, whatever the reader saw: a
    stream cut short must not pass for a whole file.
    """
    with tempfile.TemporaryDirectory(prefix="medallion-") as scratch:
        path = Path(scratch) / "bronze.csv"
        if _made_pipe(path):
            with _piped(reader, query, path) as rows:
                yield rows
            return
        _export(reader, query, path)
        with path.open("rb") as rows:
            yield rows


def _made_pipe(path: Path) -> bool:
    """Make a named pipe at ``path``; False where the platform or the temporary folder's
    file system has none (the caller then goes through a file)."""
    if not hasattr(os, "mkfifo"):
        return False
    try:
        os.mkfifo(path)
    except OSError:
        return False
    return True


@contextmanager
def _piped(reader: duckdb.DuckDBPyConnection, query: str, pipe: Path) -> Iterator[BufferedReader]:
    """Run the export in a thread writing into ``pipe`` while the caller reads it.

    The read end is opened first, with a write end of our own held until the export ends:
    the reader then sees end-of-file only when DuckDB is done, even if DuckDB fails before
    it opens the pipe (no writer would otherwise leave ``open`` or ``read`` waiting forever).
    """
    import fcntl  # POSIX only, like the named pipe itself

    read_end = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    held_write_end = os.open(pipe, os.O_WRONLY)
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    os.set_blocking(read_end, True)
    failures: list[BaseException] = []

    def export() -> None:
        try:
            _export(reader, query, pipe)
        except BaseException as error:  # handed to the reading thread, which raises it
            failures.append(error)
        finally:
            os.close(held_write_end)

    exporter = threading.Thread(target=export, name="medallion-csv-export", daemon=True)
    exporter.start()
    with os.fdopen(read_end, "rb") as rows:
        try:
            yield rows
        except BaseException:
            reader.interrupt()  # the rows are no longer wanted: stop DuckDB early
            raise
        finally:
            while rows.read(CHUNK_BYTES):  # let a blocked writer finish or notice
                pass
            exporter.join()
    if failures:
        raise failures[0]


def _export(reader: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    target = "'" + str(path).replace("'", "''") + "'"
    reader.execute(f"COPY ({query}) TO {target} (FORMAT csv, HEADER false, USE_TMP_FILE false)")
