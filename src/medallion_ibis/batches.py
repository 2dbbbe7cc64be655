"""Bronze batches: which files a build loads, and the log that remembers every load.

Bronze is append-only. Each file a source matches is a batch, identified by the SHA-256 of
its bytes; ``_medallion.batches`` records every batch loaded (one row each, written in the
transaction that publishes its rows, so a batch is logged exactly when its rows are in
bronze). A build loads only the files whose content is not already in bronze: re-running on
the same files loads nothing, a new daily drop or a corrected file (same name, new bytes) is
one new batch. Only a full refresh rebuilds a source's bronze from the files present; its
batches are logged with ``full_refresh`` set, which tells later builds that the batches logged
before them are no longer in bronze.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow

from medallion_ibis.ingest import SourceFile
from medallion_ibis.model import Source

BATCHES_TABLE = "batches"
BATCH_LOG_SCHEMA = pyarrow.schema(
    [
        ("batch_id", pyarrow.int64()),
        ("pipeline", pyarrow.string()),
        ("source_table", pyarrow.string()),
        ("file_path", pyarrow.string()),
        ("file_size", pyarrow.int64()),
        ("sha256", pyarrow.string()),
        ("rows", pyarrow.int64()),
        ("encoding", pyarrow.string()),
        ("full_refresh", pyarrow.bool_()),
        ("run_id", pyarrow.string()),
        ("loaded_at", pyarrow.timestamp("us")),
    ]
)
"""``_medallion.batches``: one row per file loaded into bronze. ``file_path`` is relative to
the seeds folder (as ``_source_file``); ``loaded_at`` is the run's start (as ``_loaded_at``)."""


@dataclass(frozen=True)
class LoggedBatch:
    """A batch an earlier build loaded, as the log records it."""

    batch_id: int
    file_path: str
    sha256: str
    rows: int
    full_refresh: bool
    run_id: str


@dataclass(frozen=True)
class NewBatch:
    """A file this build loads: its content is not in bronze yet."""

    batch_id: int
    file: SourceFile
    sha256: str


@dataclass
class SourceBatches:
    """What a build does with one source's files.

    ``rebuild`` is true when the source's bronze is rebuilt from the files present (a full
    refresh, or no published bronze table): then every file is new and ``dropped_rows`` rows
    of earlier batches leave bronze. Otherwise the new batches are appended to ``live``.
    """

    pipeline: str
    source: Source
    new: list[NewBatch]
    live: list[LoggedBatch]
    rebuild: bool
    dropped_rows: int = 0
    rows: dict[int, int] = field(default_factory=dict)
    """Rows landed per new batch id, filled in as the files are loaded."""

    def previous_version(self, batch: NewBatch) -> LoggedBatch | None:
        """The latest batch in bronze read from the same file name: what ``batch`` corrects."""
        earlier = [logged for logged in self.live if logged.file_path == batch.file.name]
        return max(earlier, key=lambda logged: logged.batch_id, default=None)

    def summary(self) -> str:
        """A few words for the progress line: which files were new."""
        if not self.new:
            return f"no new file; {_count(len(self.live), 'batch')} in bronze"
        names = ", ".join(batch.file.name for batch in self.new[:3])
        more = f" and {len(self.new) - 3} more" if len(self.new) > 3 else ""
        text = f"{_count(len(self.new), 'new batch')}: {names}{more}"
        if self.rebuild and self.dropped_rows:
            text += f"; full refresh dropped {self.dropped_rows:,} earlier rows"
        return text


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 'es'}"


def live_batches(logged: Iterable[LoggedBatch]) -> list[LoggedBatch]:
    """The logged batches of one source still in bronze: every one since its last rebuild.

    A rebuild's batches carry ``full_refresh`` and share one run id; batch ids only grow, so
    the rebuild begins at the smallest id of the latest such run.
    """
    batches = sorted(logged, key=lambda batch: batch.batch_id)
    refreshes = [batch for batch in batches if batch.full_refresh]
    if not refreshes:
        return batches
    latest_run = refreshes[-1].run_id
    start = min(batch.batch_id for batch in refreshes if batch.run_id == latest_run)
    return [batch for batch in batches if batch.batch_id >= start]


def new_batches(
    files: Sequence[tuple[SourceFile, str]], known: set[str], next_id: int
) -> list[NewBatch]:
    """The files (with their SHA-256) whose content is not ``known``, numbered from
    ``next_id`` in name order; a second file with the same bytes is the same batch."""
    batches: list[NewBatch] = []
    seen = set(known)
    for file, digest in files:
        if digest in seen:
            continue
        seen.add(digest)
        batches.append(NewBatch(next_id + len(batches), file, digest))
    return batches


def log_rows(plans: Sequence[SourceBatches], run_id: str, loaded_at: datetime) -> pyarrow.Table:
    """The ``_medallion.batches`` rows of the batches a build loaded."""
    rows = [
        {
            "batch_id": batch.batch_id,
            "pipeline": plan.pipeline,
            "source_table": plan.source.table,
            "file_path": batch.file.name,
            "file_size": batch.file.size,
            "sha256": batch.sha256,
            "rows": plan.rows[batch.batch_id],
            "encoding": plan.source.encoding,
            "full_refresh": plan.rebuild,
            "run_id": run_id,
            "loaded_at": loaded_at,
        }
        for plan in plans
        for batch in plan.new
    ]
    return pyarrow.Table.from_pylist(rows, schema=BATCH_LOG_SCHEMA)


def logged_batches(rows: Iterable[dict[str, object]]) -> list[LoggedBatch]:
    """Log rows (as read back from the warehouse) as ``LoggedBatch`` values."""
    return [
        LoggedBatch(
            batch_id=int(str(row["batch_id"])),
            file_path=str(row["file_path"]),
            sha256=str(row["sha256"]),
            rows=int(str(row["rows"])),
            full_refresh=bool(row["full_refresh"]),
            run_id=str(row["run_id"]),
        )
        for row in rows
    ]
