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


class Warehouse(ABC):
    """A connected engine, seen through the few operations a build needs."""

    name: str
    con: ibis.BaseBackend

    @abstractmethod
    def lock(self) -> AbstractContextManager[None]:
        """Hold an exclusive build lock: two concurrent builds would publish a mix."""

    @abstractmethod
    def prepare(self) -> None:
        """Create the layer schemas if needed and start from an empty staging schema."""

    @abstractmethod
    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        """Land a CSV file as a staged bronze table; returns the number of rows the parser
        produced, which the runner checks against the staged table."""

    def materialize(self, staged: str, expr: ir.Table) -> int:
        """Create a staged table from an expression; returns its row count."""
        self.con.create_table(staged, expr, database=STAGING_SCHEMA)
        return int(self.staged(staged).count().execute())

    def staged(self, staged: str) -> ir.Table:
        """A staged table of this run, as an Ibis table."""
        return self.con.table(staged, database=STAGING_SCHEMA)

    @abstractmethod
    def publish(self, publications: Sequence[Publication]) -> None:
        """Swap every staged table into place in one transaction: all or nothing."""

    @abstractmethod
    def discard_staging(self) -> None:
        """Drop what this run staged."""

    def explain_failure(self, error: Exception) -> MedallionError | None:
        """A sentence for an engine failure whose cause this engine recognises, else None."""
        return None

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
