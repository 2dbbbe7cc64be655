"""Both pipelines on Spark (local mode): every published table equals DuckDB's, row by row.

Runs in its own nox session (``nox -s spark``, part of the default run) because it needs
PySpark and a JVM, which the other sessions do not install. One Spark build and one DuckDB
build serve the whole module.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow
import pyarrow.parquet as pq
import pytest
from conftest import SEEDS
from helpers import rows
from spark_parity import PIPELINES, Tables, duckdb_reference, published_rows

from medallion_ibis.backends.base import METADATA_SCHEMA, LedgerRows
from medallion_ibis.backends.pyspark import (
    LOCAL_MODE_DEFAULTS,
    SparkWarehouse,
    spark_settings,
)
from medallion_ibis.config import Settings, is_uri
from medallion_ibis.runner import build

SMALL_SPARK = {"spark.driver.memory": "1g"}
"""The machine is shared: a small driver is plenty for the bundled seeds."""


@pytest.fixture(scope="module")
def duckdb_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    return duckdb_reference(tmp_path_factory.mktemp("duckdb"))


@pytest.fixture(scope="module")
def spark_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled seeds: every quarantine rule fires, so the shared table is not empty."""
    folder = tmp_path_factory.mktemp("spark")
    settings = Settings(
        backend="pyspark",
        pipelines=PIPELINES,
        seeds=SEEDS,
        spark_warehouse=str(folder),
        spark_conf=SMALL_SPARK,
    )
    assert build(settings).published
    return folder


@pytest.fixture(scope="module")
def spark_warehouse(spark_folder: Path) -> Iterator[SparkWarehouse]:
    """A new session: the tables outlive the build's own session."""
    warehouse = SparkWarehouse(spark_folder, conf=SMALL_SPARK)
    try:
        yield warehouse
    finally:
        warehouse.close()


@pytest.fixture(scope="module")
def spark_tables(spark_warehouse: SparkWarehouse) -> Tables:
    return published_rows(spark_warehouse.con)


def test_spark_publishes_the_same_tables_as_duckdb(
    spark_tables: Tables, duckdb_tables: Tables
) -> None:
    assert sorted(spark_tables) == sorted(duckdb_tables)
    assert len(duckdb_tables) == 25, "both pipelines' bronze, silver and gold tables"


@pytest.mark.parametrize("pipeline_table", ["gold_daily_sales_summary", "fact_sales"])
def test_gold_of_each_pipeline_is_not_empty(pipeline_table: str, spark_tables: Tables) -> None:
    """An empty table would make the row-by-row comparison below meaningless."""
    assert spark_tables[("gold", pipeline_table)]


def test_every_table_holds_the_same_rows_on_spark_and_duckdb(
    spark_tables: Tables, duckdb_tables: Tables
) -> None:
    differing = [key for key in duckdb_tables if spark_tables.get(key) != duckdb_tables[key]]
    assert differing == []


def test_duckdb_reads_the_parquet_files_spark_wrote(
    spark_folder: Path, spark_warehouse: SparkWarehouse
) -> None:
    """Other readers of the warehouse: the run stamps are UTC instants in the files, and DuckDB
    reads back the same values."""
    files = spark_folder / "tables" / "gold.db" / "fact_sales" / "*.parquet"
    frame = duckdb.sql(f"SELECT * FROM read_parquet('{files}')")
    types = dict(zip(frame.columns, map(str, frame.types), strict=True))
    assert types["_gold_created_at"] == "TIMESTAMP WITH TIME ZONE"
    in_utc = frame.select("* REPLACE (timezone('UTC', _gold_created_at) AS _gold_created_at)")
    got = sorted(
        (tuple(row) for row in in_utc.fetchall()),
        key=lambda row: tuple((value is None, str(value)) for value in row),
    )
    assert got == rows(spark_warehouse.con, "gold", "fact_sales")


def test_the_parquet_files_carry_standard_utc_timestamps(spark_folder: Path) -> None:
    """Not Spark's legacy INT96, which readers that skip the metastore (pyarrow, Trino's or
    Athena's Parquet readers) must be told how to read: INT64 microseconds adjusted to UTC."""
    [first, *_] = sorted((spark_folder / "tables" / "gold.db" / "fact_sales").glob("*.parquet"))
    schema = pq.ParquetFile(first).schema
    stamp = schema.column(schema.names.index("_gold_created_at"))
    assert stamp.physical_type == "INT64"
    logical = json.loads(stamp.logical_type.to_json())
    assert (logical["Type"], logical["isAdjustedToUTC"], logical["timeUnit"]) == (
        "Timestamp",
        True,
        "microseconds",
    )
    assert pq.read_schema(first).field("_gold_created_at").type == pyarrow.timestamp("us", tz="UTC")


def test_local_mode_defaults_yield_to_the_users_settings(tmp_path: Path) -> None:
    user = {"spark.sql.shuffle.partitions": "64", "spark.driver.extraJavaOptions": "-Dx=1"}
    settings = spark_settings(str(tmp_path), "local[2]", user)
    assert settings["spark.sql.shuffle.partitions"] == "64"
    assert settings["spark.ui.enabled"] == "false"
    assert settings["spark.driver.extraJavaOptions"].endswith(" -Dx=1"), "the user's last"


def test_a_cluster_gets_no_local_mode_defaults(tmp_path: Path) -> None:
    settings = spark_settings(str(tmp_path), "spark://127.0.0.1:7077", {})
    assert not LOCAL_MODE_DEFAULTS.keys() & settings.keys()


def test_a_warehouse_uri_is_left_to_spark_and_gets_no_derby_metastore() -> None:
    settings = spark_settings("s3a://bucket/lake/", "local[*]", {})
    assert settings["spark.sql.warehouse.dir"] == "s3a://bucket/lake/tables"
    assert "spark.hadoop.javax.jdo.option.ConnectionURL" not in settings
    assert is_uri("hdfs://nn:8020/x")
    assert is_uri("abfss://c@a.dfs.core.windows.net/x")
    assert not is_uri("spark-warehouse")
    assert not is_uri("/data/lake")


def test_the_users_metastore_replaces_the_embedded_derby(tmp_path: Path) -> None:
    user = {"spark.hadoop.hive.metastore.uris": "thrift://metastore:9083"}
    settings = spark_settings(str(tmp_path), "local[*]", user)
    assert "spark.hadoop.javax.jdo.option.ConnectionURL" not in settings
    assert settings["spark.hadoop.hive.metastore.uris"] == "thrift://metastore:9083"


def test_ledger_rows_are_appended_and_kept(spark_warehouse: SparkWarehouse) -> None:
    """Each publish adds its rows to the ledger table, after those of earlier publishes, and a
    column the table lacks is added (NULL in earlier rows)."""
    first = pyarrow.table({"run_id": ["a"], "rows": pyarrow.array([3], pyarrow.int64())})
    spark_warehouse.publish([], [LedgerRows("test_ledger", first)])
    wider = pyarrow.table({"run_id": ["b"], "rows": [1], "note": ["x"]})
    spark_warehouse.publish([], [LedgerRows("test_ledger", wider)])
    assert rows(spark_warehouse.con, METADATA_SCHEMA, "test_ledger") == [
        ("a", 3, None),
        ("b", 1, "x"),
    ]


def test_the_build_is_logged_with_its_quarantine_counts(spark_warehouse: SparkWarehouse) -> None:
    """The run log is written with the publish on Spark too: one successful run, and as many
    quarantined rows per pipeline as the quarantine table holds."""
    session = spark_warehouse.session
    runs = session.table(f"{METADATA_SCHEMA}.runs").select("status", "pipelines").collect()
    assert [tuple(run) for run in runs] == [("success", "crm_erp,retail")]
    logged = {
        row["pipeline"]: row["rows"]
        for row in session.sql(
            f"SELECT pipeline, sum(rows) AS rows FROM {METADATA_SCHEMA}.quality GROUP BY pipeline"
        ).collect()
    }
    held = {
        row["pipeline"]: row["rows"]
        for row in session.sql(
            "SELECT pipeline, count(*) AS rows FROM silver.quarantine GROUP BY pipeline"
        ).collect()
    }
    assert logged == held
    assert all(held.values())
