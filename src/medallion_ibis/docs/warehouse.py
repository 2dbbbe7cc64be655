"""What the warehouse holds now: rows per published table, quarantine by source and rule.

The docs only read: DuckDB is opened read-only (and only when its file exists, so generating
docs never creates a database), PostgreSQL with the build's connect-timeout setting. When the
warehouse cannot be reached the site says so and shows what the run results know.
"""

from dataclasses import dataclass, field

import duckdb
import ibis
import psycopg
from ibis import _

from medallion_ibis.config import Settings, describe_target
from medallion_ibis.model import Pipeline
from medallion_ibis.redact import redact_text

QUARANTINE_BREAKDOWN = ("pipeline", "source_table", "rule")
"""The quarantine columns the chart groups by (the shared quarantine contract has them)."""


@dataclass(frozen=True)
class QuarantineCount:
    pipeline: str
    source_table: str
    rule: str
    rows: int


@dataclass(frozen=True)
class WarehouseFacts:
    """Row counts of the published tables and the quarantine by source and rule.

    ``note`` is set, and the counts empty, when the warehouse could not be read.
    """

    where: str
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    quarantine: tuple[QuarantineCount, ...] = ()
    note: str = ""


def read_warehouse(con: ibis.BaseBackend, where: str, pipelines: list[Pipeline]) -> WarehouseFacts:
    """Count the rows of every published table of ``pipelines`` that exists in ``con``."""
    wanted: set[tuple[str, str]] = set()
    shared: set[tuple[str, str]] = set()
    for pipeline in pipelines:
        wanted.update(("bronze", source.table) for source in pipeline.sources)
        for model in pipeline.models.values():
            wanted.add((model.layer, model.name))
            if model.partition_column is not None:
                shared.add((model.layer, model.name))
    schemas = set(con.list_databases())
    present = {
        (schema, table)
        for schema in {schema for schema, _ in wanted} & schemas
        for table in con.list_tables(database=schema)
    }
    rows = {
        key: int(con.table(key[1], database=key[0]).count().execute())
        for key in sorted(wanted & present)
    }
    names = sorted(pipeline.name for pipeline in pipelines)
    counts: list[QuarantineCount] = []
    for schema, table in sorted(shared & present):
        quarantine = con.table(table, database=schema)
        if not set(QUARANTINE_BREAKDOWN) <= set(quarantine.columns):
            continue
        grouped = (
            quarantine.filter(quarantine.pipeline.isin(names))
            .group_by(list(QUARANTINE_BREAKDOWN))
            .agg(rows=_.count())
            .order_by(list(QUARANTINE_BREAKDOWN))
            .to_pyarrow()
            .to_pylist()
        )
        counts.extend(
            QuarantineCount(row["pipeline"], row["source_table"], row["rule"], int(row["rows"]))
            for row in grouped
        )
    return WarehouseFacts(where, rows, tuple(counts))


def warehouse_facts(settings: Settings, pipelines: list[Pipeline]) -> WarehouseFacts:
    """Read the warehouse the settings name, or say why it could not be read."""
    where = describe_target(settings)
    if settings.backend == "duckdb":
        if not settings.duckdb_path.is_file():
            return WarehouseFacts(where, note=f"no DuckDB file at {settings.duckdb_path}")
        try:
            con = ibis.duckdb.connect(str(settings.duckdb_path), read_only=True)
        except duckdb.Error as error:
            return WarehouseFacts(where, note=f"cannot open it: {str(error).splitlines()[0]}")
    elif settings.backend == "postgres":
        try:
            raw = psycopg.connect(settings.pg_url, connect_timeout=settings.connect_timeout)
        except psycopg.Error as error:
            reason = redact_text(str(error)).strip().splitlines()[0]
            return WarehouseFacts(where, note=f"cannot connect: {reason}")
        con = ibis.postgres.from_connection(raw)
    else:
        return WarehouseFacts(where, note="the docs read DuckDB and PostgreSQL warehouses only")
    try:
        return read_warehouse(con, where, pipelines)
    finally:
        con.disconnect()
