"""The same pipeline on Spark (local mode): published gold equals DuckDB's, row by row.

Runs in its own nox session (``nox -s spark``, part of the default run) because it needs
PySpark and a JVM, which the other sessions do not install.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS
from helpers import build_into, connect, rows

from medallion_ibis.backends.pyspark import SparkWarehouse
from medallion_ibis.config import Settings
from medallion_ibis.runner import build

RUN_COLUMNS = ("_gold_created_at", "_loaded_at", "_run_id")
TABLES = [
    ("gold", "gold_daily_sales_summary"),
    ("gold", "gold_customer_lifetime_value"),
    ("gold", "gold_product_performance"),
    ("silver", "silver_sales_cleaned"),
    ("silver", "quarantine"),
]

Tables = dict[tuple[str, str], list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def duckdb_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    path = tmp_path_factory.mktemp("duckdb") / "warehouse.duckdb"
    assert build_into(SEEDS, pipelines=["retail"], duckdb_path=path).published
    con = connect(duckdb_path=path)
    try:
        return {key: rows(con, *key, drop=RUN_COLUMNS) for key in TABLES}
    finally:
        con.disconnect()


@pytest.fixture(scope="module")
def spark_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled seeds: every quarantine rule fires, so the shared table is not empty."""
    folder = tmp_path_factory.mktemp("spark")
    settings = Settings(
        backend="pyspark", pipelines=("retail",), seeds=SEEDS, spark_warehouse=folder
    )
    assert build(settings).published
    return folder


@pytest.fixture(scope="module")
def spark_tables(spark_folder: Path) -> Iterator[Tables]:
    """Read back through a new session: the tables outlive the build's own session."""
    warehouse = SparkWarehouse(spark_folder)
    try:
        yield {key: rows(warehouse.con, *key, drop=RUN_COLUMNS) for key in TABLES}
    finally:
        warehouse.close()


@pytest.mark.parametrize("key", TABLES, ids=lambda key: ".".join(key))
def test_spark_builds_the_same_tables_as_duckdb(
    key: tuple[str, str], spark_tables: Tables, duckdb_tables: Tables
) -> None:
    assert spark_tables[key] == duckdb_tables[key]
    assert spark_tables[key], "an empty table would make the comparison meaningless"
