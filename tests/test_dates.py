"""Dates in both pipelines: a sale dated after the build's day is never valid and never moves
the as-of date; gold sees only what exists as of the as-of date; ``compile`` without a date
finds the as-of date the way a build does."""

import csv
import shutil
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pytest
from click.testing import CliRunner
from crm_erp_fixtures import REFERENCE_CRM_ERP
from helpers import build_into, connect
from retail_fixtures import write_seeds
from stand_ins import RUN_STARTED_AT, Row, bronze, records, run_context

from medallion_ibis.cli import main
from medallion_ibis.compile import compile_model
from medallion_ibis.examples.crm_erp import PIPELINE as CRM_ERP
from medallion_ibis.examples.crm_erp.sources import SALES as CRM_SALES
from medallion_ibis.examples.retail import silver
from medallion_ibis.examples.retail.sources import SALES
from medallion_ibis.project import installed_pipelines
from medallion_ibis.runner import BuildResult

FUTURE_DESK = "900004,5,519,Writing Desk,Furniture,1,267.99,9999-12-31,103,New York\n"
LATEST_REAL_SALE = date(2024, 1, 19)
BUILD_DAY = RUN_STARTED_AT.date()


def retail_sale(transaction_id: str, day: str) -> Row:
    return [transaction_id, "1", "501", "Laptop", "Electronics", "1", "10.00", day, "101", "NY"]


def test_a_retail_sale_after_the_build_day_is_flagged_and_not_valid(
    duck: ibis.BaseBackend,
) -> None:
    grace_day = BUILD_DAY + timedelta(days=1)
    rows = [
        retail_sale("1", BUILD_DAY.isoformat()),
        retail_sale("2", grace_day.isoformat()),  # already tomorrow east of UTC
        retail_sale("3", (grace_day + timedelta(days=1)).isoformat()),
        retail_sale("4", "9999-12-31"),
    ]
    expr = silver.silver_sales_cleaned(bronze(SALES, rows), run=run_context(BUILD_DAY))
    flags = {
        row["transaction_id"]: (row["is_future_dated"], row["is_valid_transaction"])
        for row in records(duck, expr)
    }
    assert flags == {1: (False, True), 2: (False, True), 3: (True, False), 4: (True, False)}
    assert scalar(silver.latest_valid_sale_date(expr)) == grace_day


def crm_sale(order: str, ordered: str) -> Row:
    return [order, "BK-R93R-62", "21768", ordered, "", "", "3578", "1", "3578"]


def test_a_crm_order_dated_after_the_build_day_loses_its_date_and_says_why(
    duck: ibis.BaseBackend,
) -> None:
    grace_day = BUILD_DAY + timedelta(days=1)
    rows = [
        crm_sale("SO1", f"{grace_day:%Y%m%d}"),
        crm_sale("SO2", f"{grace_day + timedelta(days=1):%Y%m%d}"),
        crm_sale("SO3", "99991231"),
    ]
    rule = CRM_ERP.default_as_of
    assert rule is not None
    sales = CRM_ERP.models["sales_clean"].build(
        {CRM_SALES.table: bronze(CRM_SALES, rows)}, lambda: run_context(BUILD_DAY)
    )
    found = {
        row["order_number"]: (row["order_date"], row["is_future_dated"])
        for row in records(duck, sales)
    }
    assert found == {"SO1": (grace_day, False), "SO2": (None, True), "SO3": (None, True)}
    assert scalar(rule.latest(sales)) == grace_day


def with_line(seeds: Path, relative: str, line: str) -> Path:
    path = seeds / relative
    path.write_text(path.read_text().rstrip("\n") + "\n" + line)
    return seeds


def test_a_future_dated_retail_sale_cannot_hijack_the_as_of_date(tmp_path: Path) -> None:
    seeds = with_line(write_seeds(tmp_path / "seeds"), SALES.path, FUTURE_DESK)
    warehouse = tmp_path / "warehouse.duckdb"

    result = build_into(seeds, pipelines=["retail"], duckdb_path=warehouse)

    assert result.as_of == {"retail": LATEST_REAL_SALE}
    con = connect(duckdb_path=warehouse)
    try:
        desk = con.table("silver_sales_cleaned", database="silver").filter(
            ibis._.transaction_id == 900004
        )
        assert records(con, desk.select("is_future_dated", "is_valid_transaction")) == [
            {"is_future_dated": True, "is_valid_transaction": False}
        ]
        clv = records(con, con.table("gold_customer_lifetime_value", database="gold"))
        daily = con.table("gold_daily_sales_summary", database="gold")
        assert scalar(daily.sale_date.max()) == LATEST_REAL_SALE
    finally:
        con.disconnect()
    days = {row["customer_id"]: row["days_since_last_purchase"] for row in clv}
    assert days == {1: 3, 2: 2, 3: 1, 4: 0, 5: 1, 6: 0}


def test_a_future_dated_crm_order_cannot_hijack_the_as_of_date(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(REFERENCE_CRM_ERP, seeds / "crm_erp")
    with_line(seeds, CRM_SALES.path, "SO99999,BK-R93R-62,21768,99991231,,,3578,1,3578\n")
    warehouse = tmp_path / "warehouse.duckdb"

    result = build_into(seeds, pipelines=["crm_erp"], duckdb_path=warehouse)

    assert result.as_of == {"crm_erp": date(2014, 1, 28)}  # as without the line
    con = connect(duckdb_path=warehouse)
    try:
        fact = con.table("fact_sales", database="gold")
        line = fact.filter(fact.order_number == "SO99999")
        assert records(con, line.select("order_date", "is_future_dated")) == [
            {"order_date": None, "is_future_dated": True}
        ]
        assert fact.recency_days.min().execute() == 0
    finally:
        con.disconnect()


def reference_sales(seeds: Path) -> list[dict[str, str]]:
    with (seeds / SALES.path).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_retail_gold_as_of_an_earlier_day_counts_only_what_existed_then(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    warehouse = tmp_path / "warehouse.duckdb"
    as_of = date(2024, 1, 16)

    build_into(seeds, pipelines=["retail"], duckdb_path=warehouse, as_of=as_of)

    spent: dict[int, Decimal] = defaultdict(Decimal)
    last: dict[int, date] = {}
    sold: dict[int, int] = defaultdict(int)
    for sale in reference_sales(seeds):
        day = date.fromisoformat(sale["transaction_date"])
        if day <= as_of:
            customer = int(sale["customer_id"])
            spent[customer] += int(sale["quantity"]) * Decimal(sale["unit_price"])
            last[customer] = max(last.get(customer, day), day)
            sold[int(sale["product_id"])] += int(sale["quantity"])
    con = connect(duckdb_path=warehouse)
    try:
        clv = records(con, con.table("gold_customer_lifetime_value", database="gold"))
        daily = con.table("gold_daily_sales_summary", database="gold")
        products = records(con, con.table("gold_product_performance", database="gold"))
        latest_day = scalar(daily.sale_date.max())
    finally:
        con.disconnect()
    assert {row["customer_id"]: row["total_spent"] for row in clv} == spent
    assert {row["customer_id"]: row["days_since_last_purchase"] for row in clv} == {
        customer: (as_of - day).days for customer, day in last.items()
    }
    assert latest_day == as_of
    assert {
        row["product_id"]: row["total_quantity_sold"]
        for row in products
        if row["total_quantity_sold"]
    } == sold


def test_crm_gold_as_of_an_earlier_day_keeps_no_later_order(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(REFERENCE_CRM_ERP, seeds / "crm_erp")
    warehouse = tmp_path / "warehouse.duckdb"
    as_of = date(2012, 12, 31)

    build_into(seeds, pipelines=["crm_erp"], duckdb_path=warehouse, as_of=as_of)

    with (seeds / CRM_SALES.path).open(newline="") as handle:
        order_days = [row["sls_order_dt"] for row in csv.DictReader(handle)]
    later = sum(
        1 for day in order_days if len(day) == 8 and day.isdigit() and day > f"{as_of:%Y%m%d}"
    )
    con = connect(duckdb_path=warehouse)
    try:
        fact = con.table("fact_sales", database="gold")
        kept = fact.count().execute()
        latest = scalar(fact.order_date.max())
        recency = fact.recency_days.min().execute()
        lines = con.table("sales_clean", database="silver").count().execute()
    finally:
        con.disconnect()
    assert later > 0
    assert latest <= as_of
    assert recency >= 0
    assert kept == lines - later


def scalar(expr: Any) -> Any:
    """A scalar expression's value as Python's type (a date stays a date)."""
    return expr.to_pyarrow().as_py()


def published_rows(con: Any, sql: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(sql).fetchall(), key=str)


def test_compile_without_as_of_finds_the_date_the_way_a_build_does(tmp_path: Path) -> None:
    seeds = with_line(write_seeds(tmp_path / "seeds"), SALES.path, FUTURE_DESK)
    warehouse = tmp_path / "warehouse.duckdb"
    result: BuildResult = build_into(seeds, pipelines=["retail"], duckdb_path=warehouse)
    sql = compile_model(
        "gold_customer_lifetime_value", "duckdb", None, installed_pipelines().values()
    )

    with duckdb.connect(str(warehouse)) as con:
        compiled = published_rows(con, f"SELECT * EXCLUDE (_gold_created_at) FROM ({sql})")
        published = published_rows(
            con,
            "SELECT * EXCLUDE (_gold_created_at) FROM gold.gold_customer_lifetime_value",
        )
    assert result.as_of == {"retail": LATEST_REAL_SALE}
    assert compiled == published
    assert LATEST_REAL_SALE.isoformat() not in sql  # found by the query, not baked in


def test_cli_compile_without_as_of_prints_the_same_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEDALLION_AS_OF", raising=False)
    result = CliRunner().invoke(main, ["compile", "retail.gold_daily_sales_summary"])
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == compile_model(
            "retail.gold_daily_sales_summary", "duckdb", None, installed_pipelines().values()
        )
        + "\n"
    )
