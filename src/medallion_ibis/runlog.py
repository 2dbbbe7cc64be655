"""The run log and quarantine metrics kept in ``_medallion``, beside the tables they describe.

``run_results.json`` says what the latest build did; these tables keep every build, queryable
with SQL on the warehouse itself. A published run's rows are written in its publish
transaction, so they exist exactly when its tables were published; a failed run's rows are
written after the failure, in a transaction of their own that publishes nothing.

- ``runs``: one row per run (``status`` success or error, ``message`` the error sentence);
- ``run_tables``: one row per table the run built (rows, seconds);
- ``quality``: one row per published run, pipeline, screened source and quarantine rule
  (rows quarantined, 0 included).
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime

import ibis
import ibis.expr.types as ir
import pyarrow

from medallion_ibis.backends.base import LedgerRows
from medallion_ibis.contracts import QUARANTINE_RULES
from medallion_ibis.quarantine import QUARANTINE_COLUMNS
from medallion_ibis.redact import redact_text

RUNS = "runs"
RUN_TABLES = "run_tables"
QUALITY = "quality"
STAMP = pyarrow.timestamp("us")
RUNS_SCHEMA = pyarrow.schema(
    [
        ("run_id", pyarrow.string()),
        ("pipelines", pyarrow.string()),
        ("backend", pyarrow.string()),
        ("as_of", pyarrow.string()),
        ("started_at", STAMP),
        ("finished_at", STAMP),
        ("status", pyarrow.string()),
        ("message", pyarrow.string()),
    ]
)
RUN_TABLES_SCHEMA = pyarrow.schema(
    [
        ("run_id", pyarrow.string()),
        ("pipeline", pyarrow.string()),
        ("table_schema", pyarrow.string()),
        ("table_name", pyarrow.string()),
        ("status", pyarrow.string()),
        ("rows", pyarrow.int64()),
        ("seconds", pyarrow.float64()),
    ]
)
QUALITY_SCHEMA = pyarrow.schema(
    [
        ("run_id", pyarrow.string()),
        ("pipeline", pyarrow.string()),
        ("source_table", pyarrow.string()),
        ("rule", pyarrow.string()),
        ("rows", pyarrow.int64()),
    ]
)

QuarantineCounts = dict[tuple[str, str, str], int]
"""(pipeline, source table, rule) → rows quarantined."""


def is_quarantine(table: ir.Table) -> bool:
    """A table in the shape of ``KeyScreen.rejected``: the rows a pipeline quarantined."""
    return set(QUARANTINE_COLUMNS) <= set(table.columns)


def quarantine_counts(pipeline: str, screened: Iterable[str], staged: ir.Table) -> QuarantineCounts:
    """Rows per source and rule in a staged quarantine table, counted by the engine; every
    rule of every ``screened`` source is listed, 0 when it quarantined nothing, so a metric
    that drops to zero is a row, not a gap."""
    counted = (
        staged.group_by(["source_table", "rule"])
        .aggregate(rows=ibis._.count())
        .to_pyarrow()
        .to_pylist()
    )
    counts: QuarantineCounts = {
        (pipeline, source, rule): 0 for source in screened for rule in QUARANTINE_RULES
    }
    for found in counted:
        counts[(pipeline, str(found["source_table"]), str(found["rule"]))] = int(found["rows"])
    return counts


def ledger_rows(
    *,
    run_id: str,
    pipelines: Sequence[str],
    backend: str,
    as_of: Mapping[str, date],
    started_at: datetime,
    tables: Sequence[tuple[str, str, str, str, int | None, float]],
    quarantined: QuarantineCounts,
    error: str | None = None,
) -> list[LedgerRows]:
    """The ``_medallion`` rows of one run: ``tables`` holds (pipeline, schema, table, status,
    rows, seconds) per table built; ``error`` is the sentence that stopped a failed run."""
    run = {
        "run_id": run_id,
        "pipelines": ",".join(pipelines),
        "backend": backend,
        "as_of": json.dumps({name: day.isoformat() for name, day in sorted(as_of.items())}),
        "started_at": started_at,
        "finished_at": datetime.now(UTC).replace(tzinfo=None),
        "status": "success" if error is None else "error",
        "message": None if error is None else redact_text(error),
    }
    built = [
        {
            "run_id": run_id,
            "pipeline": pipeline,
            "table_schema": schema,
            "table_name": table,
            "status": status,
            "rows": rows,
            "seconds": round(seconds, 3),
        }
        for pipeline, schema, table, status, rows, seconds in tables
    ]
    quality = [
        {"run_id": run_id, "pipeline": pipeline, "source_table": source, "rule": rule, "rows": n}
        for (pipeline, source, rule), n in sorted(quarantined.items())
    ]
    return [
        LedgerRows(RUNS, pyarrow.Table.from_pylist([run], schema=RUNS_SCHEMA)),
        LedgerRows(RUN_TABLES, pyarrow.Table.from_pylist(built, schema=RUN_TABLES_SCHEMA)),
        LedgerRows(QUALITY, pyarrow.Table.from_pylist(quality, schema=QUALITY_SCHEMA)),
    ]
