"""Spark (local or a cluster): for data that outgrows one machine.

Tables live in a Hive metastore under the warehouse folder, so a later session (or
``spark-sql``) finds them. Spark has no multi-table transaction: publishing first copies every
staged table next to its target (``<table>__next``), which is where a build can still fail
cleanly, and only then swaps each into place with a drop and a rename, a metadata operation.
A crash inside that last step can leave some tables new and others old; the next successful
build repairs it.
"""

import tempfile
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from functools import reduce
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends.pyspark.datatypes import PySparkType
from pyspark.sql import DataFrame, SparkSession, functions

from medallion_ibis.backends.base import (
    LAYER_SCHEMAS,
    STAGING_SCHEMA,
    Publication,
    Warehouse,
    file_lock,
)
from medallion_ibis.ingest import CSV_ERRORS, explain_csv_error, read_source
from medallion_ibis.model import Lineage, Source

NEXT_SUFFIX = "__next"
SPARK_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.legacy.createHiveTableByDefault": "false",
}
"""Local-mode defaults: no web UI, few shuffle partitions, timestamps read as written."""


def _name(schema: str, table: str) -> str:
    return f"`{schema}`.`{table}`"


class SparkWarehouse(Warehouse):
    """A Spark session with a Hive metastore and tables under ``folder``."""

    name = "pyspark"

    def __init__(self, folder: Path, master: str = "local[*]") -> None:
        folder = folder.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        metastore = f"jdbc:derby:;databaseName={folder / 'metastore_db'};create=true"
        builder = SparkSession.builder.master(master).appName("medallion-ibis")
        for key, value in {
            **SPARK_SETTINGS,
            "spark.sql.warehouse.dir": str(folder / "tables"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": metastore,
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder}",
        }.items():
            builder = builder.config(key, value)
        self.session = builder.enableHiveSupport().getOrCreate()
        self.con = ibis.pyspark.connect(self.session)
        self._reader = ibis.duckdb.connect()

    def lock(self) -> AbstractContextManager[None]:
        return file_lock(self.folder / "build.lock")

    def prepare(self) -> None:
        for schema in LAYER_SCHEMAS:
            self.session.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
        self.discard_staging()
        self.session.sql(f"CREATE DATABASE `{STAGING_SCHEMA}`")

    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        """DuckDB parses the CSV (the one reader, see ``ingest``) into Parquet; Spark reads
        the Parquet file in parallel and keeps it as a table."""
        bronze = read_source(self._reader, path, source, lineage)
        with tempfile.TemporaryDirectory(prefix="medallion-") as scratch:
            parsed = Path(scratch) / "bronze.parquet"
            try:
                self._reader.to_parquet(bronze, parsed)
            except CSV_ERRORS as error:
                raise explain_csv_error(path, error) from None
            rows = self.session.read.parquet(str(parsed))
            rows.write.saveAsTable(_name(STAGING_SCHEMA, staged), format="parquet")
        return int(self.staged(staged).count().execute())

    def materialize(self, staged: str, expr: ir.Table) -> int:
        """Like every engine, but each column is stored in the type the expression declares:
        Spark computes some results narrower (``row_number`` is a 32-bit integer there), and
        Ibis drops casts it considers redundant, so the declared types are applied here."""
        frame = self.session.sql(str(self.con.compile(expr)))
        declared = [
            functions.col(f"`{name}`").cast(PySparkType.from_ibis(dtype)).alias(name)
            for name, dtype in expr.schema().items()
        ]
        frame.select(*declared).write.saveAsTable(_name(STAGING_SCHEMA, staged), format="parquet")
        return int(self.staged(staged).count().execute())

    def publish(self, publications: Sequence[Publication]) -> list[str]:
        targets: dict[tuple[str, str], list[Publication]] = defaultdict(list)
        for publication in publications:
            targets[(publication.schema, publication.table)].append(publication)
        try:
            for (schema, table), parts in targets.items():
                self._write_next(schema, table, parts)
        except BaseException:
            for schema, table in targets:
                self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table + NEXT_SUFFIX)}")
            raise
        for schema, table in targets:
            self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table)}")
            self.session.sql(
                f"ALTER TABLE {_name(schema, table + NEXT_SUFFIX)} RENAME TO {_name(schema, table)}"
            )
        return []

    def _write_next(self, schema: str, table: str, parts: list[Publication]) -> None:
        """The target's next content beside it: the staged rows, plus, for a table shared by
        pipelines, the published rows of the pipelines this build does not replace."""
        staged = [self.session.table(_name(STAGING_SCHEMA, part.staged)) for part in parts]
        rows = reduce(DataFrame.unionByName, staged)
        partitions = [part.partition for part in parts if part.partition is not None]
        if partitions and self.session.catalog.tableExists(table, schema):
            column = partitions[0][0]
            replaced = [value for _, value in partitions]
            published = self.session.table(_name(schema, table))
            kept = published.filter(~published[column].isin(replaced))
            rows = kept.unionByName(rows)
        self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table + NEXT_SUFFIX)}")
        rows.write.saveAsTable(_name(schema, table + NEXT_SUFFIX), format="parquet")

    def discard_staging(self) -> None:
        self.session.sql(f"DROP DATABASE IF EXISTS `{STAGING_SCHEMA}` CASCADE")

    def close(self) -> None:
        self._reader.disconnect()
        self.session.stop()
