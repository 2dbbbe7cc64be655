"""What a build does with each source's files: the decisions that protect bronze's history.

``batches`` says what a batch is and how the log records it; this module applies that to a
warehouse. Before anything is loaded, every source's files are hashed and compared with the
batches the log says are in bronze: the others become new batches, numbered after every batch
ever logged. Bronze is rebuilt from the files present only on a full refresh or when it was
never published; appending needs a bronze table the log accounts for. Once the new batches are
loaded, the shrink guard refuses what looks like a broken export. The runner only carries the
plans out, so these rules read in one place.
"""

from collections.abc import Callable, Sequence

import ibis.expr.types as ir

from medallion_ibis.backends import Warehouse
from medallion_ibis.backends.base import METADATA_SCHEMA
from medallion_ibis.batches import (
    BATCHES_TABLE,
    LoggedBatch,
    SourceBatches,
    live_batches,
    logged_batches,
    new_batches,
)
from medallion_ibis.errors import ConfigurationError, SourceShrank
from medallion_ibis.ingest import SourceFile, bronze_schema, file_sha256
from medallion_ibis.model import Source

SHRINK_LIMIT = 2
"""A new version of a file must keep at least 1/SHRINK_LIMIT of its previous version's rows,
and a full refresh at least 1/SHRINK_LIMIT of the bronze rows it drops (see
``refuse_shrunken``)."""


class BatchPlanner:
    """Plans a build's sources one after another against one warehouse.

    Every plan is made before anything is loaded, so that a bronze table that cannot take new
    batches stops the build before any work, and what a full refresh drops is announced before
    it is dropped. Batch ids continue from one source to the next: they number every batch
    ever loaded, in load order.
    """

    def __init__(
        self, warehouse: Warehouse, full_refresh: bool, announce: Callable[[str], None]
    ) -> None:
        self.warehouse = warehouse
        self.full_refresh = full_refresh
        self.announce = announce
        log = warehouse.published(METADATA_SCHEMA, BATCHES_TABLE)
        self.logged: list[dict[str, object]] = [] if log is None else log.to_pyarrow().to_pylist()
        self.next_id = max((int(str(row["batch_id"])) for row in self.logged), default=0) + 1

    def plan(self, pipeline: str, source: Source, files: Sequence[SourceFile]) -> SourceBatches:
        """Rebuild the source's bronze from ``files`` (on a full refresh, or when it was never
        published), or append the files whose SHA-256 is not in bronze yet."""
        live = live_batches(
            logged_batches(
                row
                for row in self.logged
                if (row["pipeline"], row["source_table"]) == (pipeline, source.table)
            )
        )
        published = self.warehouse.published("bronze", source.table)
        rebuild = self.full_refresh or published is None
        if published is not None and not rebuild:
            check_appendable(source, published, live)
        hashed = [(file, file_sha256(file.path)) for file in files]
        known = set() if rebuild else {batch.sha256 for batch in live}
        new = new_batches(hashed, known, self.next_id)
        plan = SourceBatches(pipeline, source, new, [] if rebuild else live, rebuild)
        self.next_id += len(plan.new)
        if rebuild and published is not None:
            plan.dropped_rows = int(published.count().execute())
            self.announce(
                f"full refresh: {_node(source)} is rebuilt from the {len(files)} file(s) "
                f"present; its {plan.dropped_rows:,} rows of {len(live)} earlier batch(es) are "
                "dropped"
            )
        return plan


def check_appendable(source: Source, published: ir.Table, live: list[LoggedBatch]) -> None:
    """New batches can be appended only to a bronze table with the source's columns, whose
    rows the batch log accounts for; anything else needs an explicit full refresh."""
    expected = list(bronze_schema(source).names)
    if list(published.columns) != expected:
        missing = [name for name in expected if name not in published.columns]
        extra = [name for name in published.columns if name not in expected]
        raise ConfigurationError(
            f"{_node(source)} has other columns than source {source.table} now lands (missing: "
            f"{', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'}), so "
            "new batches cannot be appended to it; rebuild it from the files present with "
            "--full-refresh (its current rows are dropped)"
        )
    if not live:
        raise ConfigurationError(
            f"{_node(source)} holds rows that {METADATA_SCHEMA}.{BATCHES_TABLE} does not account "
            "for (it was built before batches were logged?); rebuild it from the files "
            "present with --full-refresh (its current rows are dropped)"
        )


def refuse_shrunken(plan: SourceBatches) -> None:
    """Bronze only grows, so the guard against a broken export watches the two ways rows can
    still be lost: a new version of a file with less than half the rows of its previous
    version (a truncated or empty re-export: its keys would win in silver), and a full refresh
    that keeps less than half the rows it drops. Called once the new batches are loaded, since
    it needs their row counts; ``--allow-shrink`` skips it."""
    advice = "so nothing was published; if the data really shrank, build again with --allow-shrink"
    for batch in plan.new:
        previous = plan.previous_version(batch)
        rows = plan.rows[batch.batch_id]
        if previous is not None and rows * SHRINK_LIMIT < previous.rows:
            raise SourceShrank(
                f"{batch.file.path} has {rows:,} rows but its previous version (batch "
                f"{previous.batch_id}) had {previous.rows:,}: a file that lost more than "
                f"half its rows is probably a broken export, {advice}"
            )
    kept = sum(plan.rows.values())
    if plan.rebuild and kept * SHRINK_LIMIT < plan.dropped_rows:
        raise SourceShrank(
            f"the full refresh of {_node(plan.source)} would keep {kept:,} rows of the "
            f"{plan.dropped_rows:,} it drops: files missing or truncated are probably a broken "
            f"export, {advice}"
        )


def _node(source: Source) -> str:
    """How messages name a source's bronze table (as the runner's progress lines do)."""
    return f"bronze.{source.table}"
