"""Ledger rows (the package's own records in ``_medallion``) are appended in the publish
transaction: they exist exactly when the tables they describe were published. On DuckDB and
PostgreSQL; Spark's weaker guarantee is tested in test_pyspark."""

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow
import pytest
from helpers import rows

from medallion_ibis.backends.base import (
    METADATA_SCHEMA,
    LedgerRows,
    Publication,
    Warehouse,
    staged_name,
)
from medallion_ibis.backends.duckdb import DuckDBWarehouse
from medallion_ibis.backends.postgres import PostgresWarehouse

STAMP = datetime(2024, 1, 2, 3, 4, 5)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """An empty warehouse of each engine, prepared for a build."""
    opened: Warehouse
    if request.param == "postgres":
        opened = PostgresWarehouse(request.getfixturevalue("pg_url"))
    else:
        opened = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    opened.prepare()
    try:
        yield opened
    finally:
        opened.close()


def runs(run_id: str, *, rows_count: int = 3) -> LedgerRows:
    return LedgerRows(
        "runs",
        pyarrow.table(
            {
                "run_id": [run_id],
                "rows": pyarrow.array([rows_count], pyarrow.int64()),
                "started_at": pyarrow.array([STAMP], pyarrow.timestamp("us")),
                "share": pyarrow.array([Decimal("0.25")], pyarrow.decimal128(9, 4)),
            }
        ),
    )


def stage(warehouse: Warehouse, name: str, values: list[int]) -> Publication:
    warehouse.materialize(staged_name("test", name), ibis.memtable({"value": values}))
    return Publication(staged_name("test", name), "gold", name)


def test_ledger_rows_are_appended_with_the_tables(warehouse: Warehouse) -> None:
    warehouse.publish([stage(warehouse, "numbers", [1, 2])], [runs("a")])
    warehouse.prepare()
    warehouse.publish([stage(warehouse, "numbers", [3])], [runs("b", rows_count=1)])
    assert rows(warehouse.con, "gold", "numbers") == [(3,)]
    assert rows(warehouse.con, METADATA_SCHEMA, "runs") == [
        ("a", 3, STAMP, Decimal("0.2500")),
        ("b", 1, STAMP, Decimal("0.2500")),
    ]


def test_an_empty_ledger_entry_still_creates_its_table(warehouse: Warehouse) -> None:
    empty = runs("a").rows.slice(0, 0)
    warehouse.publish([], [LedgerRows("runs", empty)])
    assert warehouse.con.table("runs", database=METADATA_SCHEMA).columns == (
        "run_id",
        "rows",
        "started_at",
        "share",
    )
    assert rows(warehouse.con, METADATA_SCHEMA, "runs") == []


def test_a_column_the_table_lacks_is_added(warehouse: Warehouse) -> None:
    """A newer package may record more; earlier rows read NULL there."""
    warehouse.publish([], [runs("a")])
    wider = runs("b").rows.append_column("backend", pyarrow.array(["duckdb"]))
    warehouse.publish([], [LedgerRows("runs", wider)])
    assert rows(warehouse.con, METADATA_SCHEMA, "runs") == [
        ("a", 3, STAMP, Decimal("0.2500"), None),
        ("b", 3, STAMP, Decimal("0.2500"), "duckdb"),
    ]


def test_a_failed_publish_appends_nothing(warehouse: Warehouse) -> None:
    warehouse.publish([stage(warehouse, "numbers", [1])], [runs("a")])
    warehouse.prepare()
    good = stage(warehouse, "numbers", [2])
    missing = Publication("never_staged", "gold", "other")
    with pytest.raises(Exception, match="never_staged"):
        warehouse.publish([good, missing], [runs("b")])
    assert rows(warehouse.con, "gold", "numbers") == [(1,)]
    assert rows(warehouse.con, METADATA_SCHEMA, "runs") == [("a", 3, STAMP, Decimal("0.2500"))]


def test_a_ledger_append_that_fails_publishes_nothing(warehouse: Warehouse) -> None:
    """The rows of a run and its tables go together: text where the ledger holds a number
    fails the append, and the swaps before it are rolled back."""
    warehouse.publish([stage(warehouse, "numbers", [1])], [runs("a")])
    warehouse.prepare()
    bad = runs("b").rows.set_column(1, "rows", pyarrow.array(["many"]))
    with pytest.raises(Exception, match="many"):
        warehouse.publish([stage(warehouse, "numbers", [2])], [LedgerRows("runs", bad)])
    assert rows(warehouse.con, "gold", "numbers") == [(1,)]
    assert rows(warehouse.con, METADATA_SCHEMA, "runs") == [("a", 3, STAMP, Decimal("0.2500"))]


def test_a_failed_ledger_only_append_leaves_no_table(warehouse: Warehouse) -> None:
    """``append_ledger`` is a transaction of its own too: a failure creates nothing."""
    first = runs("a")
    broken = LedgerRows("quality", first.rows.append_column("rows", pyarrow.array([1])))
    with pytest.raises(Exception, match="rows"):
        warehouse.append_ledger([first, broken])
    assert "runs" not in warehouse.con.list_tables(database=METADATA_SCHEMA)
