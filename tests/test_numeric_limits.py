"""Extreme but parseable numbers never abort a build, on either engine.

A single absurd line (a quantity of a trillion, a price with sixteen integer digits) is a data
problem for silver to flag, not a reason for the whole build to fail on a numeric overflow.
"""

from decimal import Context, Decimal
from pathlib import Path
from typing import Any

import ibis
import pytest
from helpers import build_into, connect
from retail_fixtures import write_seeds

HUGE_QUANTITY = "1000000000000"
HUGE_PRICE = "999999999999999.99"
IMPLAUSIBLE_PRICE = "1234567890123456.00"
SALES = [
    ["1", "1", "501", "Laptop", "Electronics", HUGE_QUANTITY, HUGE_PRICE, "2024-01-15", "1", "NY"],
    ["2", "1", "501", "Laptop", "Electronics", "1", IMPLAUSIBLE_PRICE, "2024-01-15", "1", "NY"],
    ["3", "2", "502", "Mouse", "Electronics", "2", "29.99", "2024-01-16", "2", "LA"],
]
EXACT = Context(prec=60)
"""Python's default 28 significant digits would round the expected sums themselves."""
EXPECTED_TOTAL = EXACT.multiply(Decimal(HUGE_QUANTITY), Decimal(HUGE_PRICE))


def silver_and_revenue(con: ibis.BaseBackend) -> tuple[dict[int, dict[str, Any]], Decimal]:
    columns = ("transaction_id", "unit_price_valid", "total_amount", "is_valid_transaction")
    silver = con.table("silver_sales_cleaned", database="silver").select(*columns)
    by_id = {row["transaction_id"]: row for row in silver.to_pyarrow().to_pylist()}
    revenue = con.table("gold_daily_sales_summary", database="gold").total_revenue.sum()
    return by_id, revenue.to_pyarrow().as_py()


def check(con: ibis.BaseBackend) -> None:
    sales, revenue = silver_and_revenue(con)
    assert sales[1]["total_amount"] == EXPECTED_TOTAL
    assert sales[1]["is_valid_transaction"] is True
    assert (sales[2]["unit_price_valid"], sales[2]["is_valid_transaction"]) == (None, False)
    assert revenue == EXACT.add(EXPECTED_TOTAL, Decimal("59.98"))


def test_huge_quantities_and_prices_build_on_duckdb(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path / "seeds", sales=SALES)
    path = tmp_path / "warehouse.duckdb"
    assert build_into(seeds, pipelines=["retail"], duckdb_path=path).published
    con = connect(duckdb_path=path)
    try:
        check(con)
    finally:
        con.disconnect()


@pytest.mark.postgres
def test_huge_quantities_and_prices_build_on_postgres(tmp_path: Path, pg_url: str) -> None:
    seeds = write_seeds(tmp_path / "seeds", sales=SALES)
    assert build_into(seeds, pipelines=["retail"], backend="postgres", pg_url=pg_url).published
    con = connect(pg_url=pg_url)
    try:
        check(con)
    finally:
        con.disconnect()
