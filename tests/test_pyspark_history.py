"""Bronze history on Spark: tests/test_bronze_history.py's four builds (new files, the same
again, a corrected file, a full refresh) and its checks.

A module of its own, run by ``nox -s spark`` in a pytest process of its own: a JVM keeps the
first Hive metastore it opens, so in the process of tests/test_pyspark.py these builds would
see that module's tables instead of an empty warehouse.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import ibis
import pytest
import test_bronze_history as history

from medallion_ibis.backends.pyspark import SparkWarehouse

SMALL_SPARK = {"spark.driver.memory": "1g"}
"""The machine is shared: a small driver is plenty for these few rows."""


@contextmanager
def spark_reader(folder: Path) -> Iterator[ibis.BaseBackend]:
    warehouse = SparkWarehouse(folder, conf=SMALL_SPARK)
    try:
        yield warehouse.con
    finally:
        warehouse.close()


@pytest.fixture(scope="module")
def spark_history(tmp_path_factory: pytest.TempPathFactory) -> list[history.Snapshot]:
    """The four builds on Spark, where bronze appends by a copy, not in a transaction."""
    root = tmp_path_factory.mktemp("spark-history")
    folder = root / "spark"
    settings = history.history_settings(
        root, backend="pyspark", spark_warehouse=str(folder), spark_conf=SMALL_SPARK
    )
    return history.run_history(settings, lambda: spark_reader(folder))


@pytest.mark.parametrize(
    "check",
    [
        history.test_a_glob_source_loads_every_matching_file_as_one_batch_each,
        history.test_the_batch_log_records_each_file_it_loaded,
        history.test_a_rerun_on_the_same_files_loads_nothing_and_publishes_the_same_tables,
        history.test_within_the_first_load_the_later_file_wins,
        history.test_a_full_refresh_says_what_it_drops_and_rebuilds_from_the_files_present,
        history.test_a_cp1252_file_lands_as_utf8_text,
    ],
)
def test_bronze_keeps_history_on_spark(
    spark_history: list[history.Snapshot], check: Callable[[list[history.Snapshot]], None]
) -> None:
    check(spark_history)


def test_a_corrected_file_wins_on_spark(spark_history: list[history.Snapshot]) -> None:
    history.test_a_corrected_file_is_a_new_batch_and_its_records_win(spark_history[2])
