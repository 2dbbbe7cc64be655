"""The contract every engine fulfils so the runner never branches on the engine.

A build writes every table into a private staging schema first, checks it, and only then
publishes all of them in one transaction; a failure anywhere before that leaves the tables of
the last successful build untouched.
"""

import fcntl
import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow

from medallion_ibis.errors import BackendUnavailable, MedallionError, PublishBlocked
from medallion_ibis.ingest import bronze_schema
from medallion_ibis.model import Lineage, Source

STAGING_SCHEMA = "medallion_staging"
LAYER_SCHEMAS = ("bronze", "silver", "gold")
LOCK_POLL_SECONDS = 0.2
"""How often a build waiting for the build lock (``--wait``) tries again."""
METADATA_SCHEMA = "_medallion"
"""The package's own records (runs, batches, quality metrics), kept beside the layers."""


@dataclass(frozen=True)
class Publication:
    """One staged table and where it goes.

    With ``partition`` (column, value) only the rows of that partition are replaced: the
    quarantine table is shared by pipelines and a build of one must not erase another's.
    """

    staged: str
    schema: str
    table: str
    partition: tuple[str, str] | None = None
    append: bool = False
    """Add the staged rows to the published ones instead of replacing them: bronze is
    append-only, so a build publishes only its new batches (created when missing)."""


@dataclass(frozen=True)
class LedgerRows:
    """Rows appended to one _medallion table inside the publish transaction.

    The table is created from the rows' Arrow schema when missing, and gains (as NULL for
    earlier rows) any column the rows carry that it lacks, so a newer version of the package
    can record more than an older one did without a migration step.
    """

    table: str
    rows: pyarrow.Table


@dataclass(frozen=True)
class Timeouts:
    """How long a server-based warehouse waits before saying so instead of hanging."""

    connect_seconds: int = 10
    """For the server to answer a new connection."""
    lock_seconds: int = 30
    """For readers of a published table to let go of it while publishing: meanwhile, new
    readers queue behind the waiting publish."""


class Warehouse(ABC):
    """A connected engine, seen through the few operations a build needs."""

    name: str
    con: ibis.BaseBackend

    @abstractmethod
    def lock(self, wait_seconds: float = 0.0) -> AbstractContextManager[None]:
        """Hold an exclusive build lock: two concurrent builds would publish a mix. When
        another build holds it, wait up to ``wait_seconds`` (0: not at all), then fail with a
        sentence naming the holder."""

    @abstractmethod
    def prepare(self, publications: Sequence[Publication] = ()) -> None:
        """Create the layer schemas if needed and start from an empty staging schema.

        ``publications`` are where this run's staged tables will go: an engine that can only
        rename a table within its schema stages them there, so publishing copies nothing."""

    def stage_empty(self, staged: str, source: Source) -> None:
        """Create the staged bronze table of a source, with no rows yet: ``load_source``
        appends each new batch to it, and a build with no new file leaves it empty."""
        self.con.create_table(staged, schema=bronze_schema(source), database=STAGING_SCHEMA)

    @abstractmethod
    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        """Append one UTF-8 CSV file (one batch) to a staged bronze table; returns the number
        of rows the parser produced, which the runner checks against the staged table."""

    def materialize(self, staged: str, expr: ir.Table) -> int:
        """Create a staged table from an expression; returns its row count."""
        self.con.create_table(staged, expr, database=STAGING_SCHEMA)
        return int(self.staged(staged).count().execute())

    def staged(self, staged: str) -> ir.Table:
        """A staged table of this run, as an Ibis table."""
        return self.con.table(staged, database=STAGING_SCHEMA)

    def published(self, schema: str, table: str) -> ir.Table | None:
        """A table an earlier build published, or ``None`` when there is none: a build of a
        selection reads its unselected inputs from there."""
        if schema not in self.con.list_databases():
            return None
        if table not in self.con.list_tables(database=schema):
            return None
        return self.con.table(table, database=schema)

    @abstractmethod
    def publish(
        self, publications: Sequence[Publication], ledger: Sequence[LedgerRows] = ()
    ) -> list[str]:
        """Put every staged table in place and append the ``ledger`` rows to their
        ``_medallion`` tables in one transaction: all or nothing, so the records of a run
        (its batches, its metrics) exist exactly when its tables were published.

        What users attached to a published table (views, grants, indexes, comments,
        constraints) survives. Returns notices worth telling the user, such as a table
        replaced because its columns changed.
        """

    def append_ledger(self, ledger: Sequence[LedgerRows]) -> None:
        """Append ``ledger`` rows in a transaction of their own, publishing nothing: the
        record of a run that failed before it could publish."""
        self.publish([], ledger)

    def explain(self, error: Exception) -> MedallionError | None:
        """The sentence for an engine error that is not a model's fault (a lost connection, a
        missing privilege), or None to report it as the model's failure."""
        return None

    @abstractmethod
    def discard_staging(self) -> None:
        """Drop what this run staged."""

    def close(self) -> None:
        """Release the connection."""
        self.con.disconnect()


def missing_columns(
    rows: pyarrow.Table, existing: Sequence[str]
) -> list[tuple[str, pyarrow.DataType]]:
    """The columns of ``rows`` that a ledger table (with ``existing`` columns) lacks."""
    present = set(existing)
    return [(field.name, field.type) for field in rows.schema if field.name not in present]


def refuse_changed_append(table: str, same_columns: bool) -> None:
    """An append never changes a table's columns: bronze rows of earlier batches would be
    dropped or misread. The runner asks for ``--full-refresh`` before it gets here."""
    if not same_columns:
        raise PublishBlocked(
            f"{table} has other columns than the rows to "
            "append; nothing was published (rebuild it with --full-refresh)"
        )


def staged_name(pipeline: str, table: str) -> str:
    """Pipelines may reuse table names (each has a quarantine), so staging prefixes them."""
    return f"{pipeline}__{table}"


def holder_description() -> str:
    """Who holds a build lock, as the lock records it for the builds it keeps waiting."""
    since = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}"


def another_build(description: str) -> str:
    """A lock holder known to be a build, with what it recorded about itself, if anything."""
    return f"another build ({description})" if description else "another build"


def lock_busy(what: str, holder: str, wait_seconds: float) -> BackendUnavailable:
    """The sentence for a build lock another build holds."""
    if wait_seconds > 0:
        return BackendUnavailable(
            f"{what} is still held by {holder} after waiting {wait_seconds:g}s (--wait); "
            "nothing was built"
        )
    return BackendUnavailable(
        f"{what} is held by {holder}; wait for it to finish, or build with --wait SECONDS to "
        "queue behind it"
    )


@contextmanager
def file_lock(lock_path: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """An exclusive lock on a file beside a file-based warehouse. The holder writes who it
    is into the file, so a build kept waiting can say; the kernel releases the lock when the
    holder dies, however it dies."""
    deadline = time.monotonic() + wait_seconds
    with lock_path.open("a+", encoding="utf-8") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip()
                    raise lock_busy(
                        f"the build lock {lock_path}", another_build(holder), wait_seconds
                    ) from None
                time.sleep(LOCK_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(holder_description() + "\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_holder(lock_path: Path) -> str:
    """What a build lock file says about its holder; empty when no build holds it."""
    try:
        return lock_path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
