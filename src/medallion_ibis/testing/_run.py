"""Run a pipeline's real build on rows held in memory."""

import csv
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from medallion_ibis.backends import open_warehouse
from medallion_ibis.config import DEFAULT_PG_URL, BackendName, Settings
from medallion_ibis.errors import MedallionError
from medallion_ibis.model import Pipeline, Source
from medallion_ibis.project import validate_pipelines
from medallion_ibis.runner import build

Row = Mapping[str, object]
Published = dict[str, list[dict[str, Any]]]
"""Every table a build published, by ``schema.table``, as a list of rows (column → value)."""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def write_sources(pipeline: Pipeline, rows: Mapping[str, Sequence[Row]], seeds: Path) -> None:
    """One CSV file per source, with its declared header, in the source's encoding; ``None``
    and ``""`` are both an empty field (a CSV file cannot tell them apart). Sources without
    rows get a header only. A glob or folder source gets one file it matches."""
    unknown = set(rows) - {source.table for source in pipeline.sources}
    if unknown:
        raise ValueError(f"{pipeline.name} has no source table(s) {', '.join(sorted(unknown))}")
    for source in pipeline.sources:
        path = seeds / one_file_of(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding=source.encoding) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(source.columns)
            for row in rows.get(source.table, ()):
                writer.writerow([_text(row.get(column)) for column in source.columns])


def one_file_of(source: Source) -> str:
    """A file name the source reads: its path, or for a folder (a path without a suffix) a
    file in it, or for a glob the pattern with ``*`` and ``?`` filled in."""
    if "[" in source.path:
        raise ValueError(f"{source.table}: write_sources cannot fill in [...] in {source.path}")
    name = source.path.replace("**/", "").replace("*", "0").replace("?", "0")
    if name == source.path and not PurePosixPath(name).suffix:
        return f"{name}/rows.csv"
    return name


def published_tables(settings: Settings, pipeline: Pipeline) -> Published:
    """Every table of ``pipeline`` as published (its own rows of shared tables only)."""
    warehouse = open_warehouse(settings)
    try:
        tables: Published = {}
        names = [("bronze", source.table, None) for source in pipeline.sources] + [
            (model.layer, model.name, model.partition_column) for model in pipeline.models.values()
        ]
        for schema, name, partition in names:
            table = warehouse.published(schema, name)
            assert table is not None, f"{schema}.{name} was not published"
            if partition is not None:
                table = table.filter(table[partition] == pipeline.name)
            tables[f"{schema}.{name}"] = table.to_pyarrow().to_pylist()
        return tables
    finally:
        warehouse.close()


def run_pipeline(
    pipeline: Pipeline,
    rows: Mapping[str, Sequence[Row]],
    *,
    backend: BackendName = "duckdb",
    pg_url: str = DEFAULT_PG_URL,
    as_of: date | None = None,
) -> Published:
    """Write ``rows`` (source table → rows as dicts) to CSV files, build ``pipeline`` from
    them and return what it published.

    On DuckDB the warehouse is a temporary file. On PostgreSQL the build publishes into the
    ``bronze``, ``silver`` and ``gold`` schemas of the database ``pg_url`` names: give it a
    scratch database. A build that fails raises the same ``MedallionError`` the CLI reports.

    Example::

        published = run_pipeline(PIPELINE, {"bronze_orders": [{"order_id": "1", ...}]})
        published["silver.silver_orders"]  # [{"order_id": 1, ...}]
    """
    validate_pipelines([pipeline])
    with tempfile.TemporaryDirectory(prefix="medallion-testing-") as scratch:
        folder = Path(scratch)
        write_sources(pipeline, rows, folder / "seeds")
        settings = Settings(
            backend=backend,
            pipelines=(pipeline.name,),
            seeds=folder / "seeds",
            as_of=as_of,
            duckdb_path=folder / "warehouse.duckdb",
            pg_url=pg_url,
            spark_warehouse=str(folder / "spark-warehouse"),
            target_dir=folder / "target",
        )
        result = build(settings, pipelines={pipeline.name: pipeline})
        if not result.published:
            raise MedallionError(f"{pipeline.name}: the build published nothing")
        return published_tables(settings, pipeline)
