"""What the Spark tests compare with DuckDB: every published table of both pipelines, as rows.

Shared by test_pyspark.py (local mode) and test_spark_cluster.py (a standalone cluster), which
check the same promise on two deployments. It imports no PySpark, so a module that uses it
needs PySpark only for its own reasons.
"""

from pathlib import Path
from typing import Any

import ibis
from conftest import SEEDS
from helpers import rows

from medallion_ibis.config import Settings
from medallion_ibis.runner import build

PIPELINES = ("retail", "crm_erp")
RUN_COLUMNS = ("_gold_created_at", "_loaded_at", "_run_id")
"""Stamped by each run, so they differ between any two builds."""

Key = tuple[str, str]
Tables = dict[Key, list[tuple[Any, ...]]]


def published_tables(con: ibis.BaseBackend) -> list[Key]:
    return [
        (schema, table)
        for schema in ("bronze", "silver", "gold")
        for table in con.list_tables(database=schema)
    ]


def published_rows(con: ibis.BaseBackend) -> Tables:
    """Every published table's rows, without the columns that differ from run to run."""
    return {key: rows(con, *key, drop=RUN_COLUMNS) for key in published_tables(con)}


def duckdb_reference(folder: Path) -> Tables:
    """The reference: both pipelines built on DuckDB in ``folder`` from the bundled seeds."""
    path = folder / "warehouse.duckdb"
    assert build(Settings(pipelines=PIPELINES, seeds=SEEDS, duckdb_path=path)).published
    con = ibis.duckdb.connect(str(path))
    try:
        return published_rows(con)
    finally:
        con.disconnect()
