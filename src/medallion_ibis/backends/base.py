"""The contract every engine fulfils so the runner never branches on the engine.

A build writes every table into a private staging schema first, checks it, and only then
publishes all of them in one transaction; a failure anywhere before that leaves the tables of
the last successful build untouched.
"""

import fcntl
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from medallion_ibis.errors import BackendUnavailable, MedallionError
from medallion_ibis.model import Lineage, Source

STAGING_SCHEMA = "medallion_staging"
LAYER_SCHEMAS = ("bronze", "silver", "gold")


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
    def lock(self) -> AbstractContextManager[None]:
        """Hold an exclusive build lock: two concurrent builds would publish a mix."""

    @abstractmethod
    def prepare(self, publications: Sequence[Publication] = ()) -> None:
        """Create the layer schemas if needed and start from an empty staging schema.

        ``publications`` are where this run's staged tables will go: an engine that can only
        rename a table within its schema stages them there, so publishing copies nothing."""

    @abstractmethod
    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        """Land a CSV file as a staged bronze table; returns the number of rows the parser
        produced, which the runner checks against the staged table."""

    def materialize(self, staged: str, expr: ir.Table) -> int:
        """Create a staged table from an expression; returns its row count."""
        self.con.create_table(staged, expr, database=STAGING_SCHEMA)
        return int(self.staged(staged).count().execute())

    def published_rows(self, schema: str, table: str) -> int | None:
        """The row count of a published table, None when there is none yet."""
        if table not in self.con.list_tables(database=schema):
            return None
        return int(self.con.table(table, database=schema).count().execute())

    def staged(self, staged: str) -> ir.Table:
        """A staged table of this run, as an Ibis table."""
        return self.con.table(staged, database=STAGING_SCHEMA)

    def published(self, schema: str, table: str) -> ir.Table | None:
        """A table an earlier build published, or ``None`` when there is none: a build of a
        selection reads its unselected inputs from there."""
        if table not in self.con.list_tables(database=schema):
            return None
        return self.con.table(table, database=schema)

    @abstractmethod
    def publish(self, publications: Sequence[Publication]) -> list[str]:
        """Put every staged table in place in one transaction: all or nothing.

        What users attached to a published table (views, grants, indexes, comments,
        constraints) survives. Returns notices worth telling the user, such as a table
        replaced because its columns changed.
        """

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


def staged_name(pipeline: str, table: str) -> str:
    """Pipelines may reuse table names (each has a quarantine), so staging prefixes them."""
    return f"{pipeline}__{table}"


@contextmanager
def file_lock(lock_path: Path) -> Iterator[None]:
    """An exclusive, non-blocking lock on a file beside a file-based warehouse."""
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackendUnavailable(
                f"another build holds {lock_path}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
