"""The same input built on DuckDB and on PostgreSQL gives the same tables, row by row.

Values are compared exactly (Decimal with Decimal, date with date); only the columns that
record the run itself are left out. A few gold values of the reference data are also pinned
to numbers worked out by hand from its 10 sales rows, on both engines.
"""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pytest
from helpers import build_into, connect, fresh_database
from retail_fixtures import table_records
from stand_ins import by_key

from medallion_ibis.runner import BuildResult
from medallion_ibis.testing import assert_same_rows

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
RUN_COLUMNS = ("_gold_created_at", "_loaded_at", "_run_id")
TABLES = [
    ("bronze", "bronze_sales"),
    ("bronze", "bronze_customers"),
    ("bronze", "bronze_products"),
    ("silver", "silver_sales_cleaned"),
    ("silver", "silver_customers_cleaned"),
    ("silver", "silver_products_cleaned"),
    ("silver", "quarantine"),
    ("gold", "gold_daily_sales_summary"),
    ("gold", "gold_customer_lifetime_value"),
    ("gold", "gold_product_performance"),
]
D = Decimal

Warehouses = dict[str, tuple[BuildResult, ibis.BaseBackend]]


def build_both(seeds: Path, duckdb_path: Path, pg_url: str) -> Warehouses:
    duck = build_into(seeds, pipelines=["retail"], duckdb_path=duckdb_path)
    pg = build_into(seeds, pipelines=["retail"], backend="postgres", pg_url=pg_url)
    return {
        "duckdb": (duck, connect(duckdb_path=duckdb_path)),
        "postgres": (pg, connect(pg_url=pg_url)),
    }


@pytest.fixture(scope="module")
def reference_build(
    reference_dir: Path, pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouses]:
    with fresh_database(pg_server_url) as url:
        path = tmp_path_factory.mktemp("parity-reference") / "warehouse.duckdb"
        built = build_both(reference_dir, path, url)
        yield built
        for _, con in built.values():
            con.disconnect()


@pytest.fixture(scope="module")
def seeds_build(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouses]:
    assert (SEEDS / "retail" / "raw_sales.csv").is_file(), f"bundled seeds missing in {SEEDS}"
    with fresh_database(pg_server_url) as url:
        path = tmp_path_factory.mktemp("parity-seeds") / "warehouse.duckdb"
        built = build_both(SEEDS, path, url)
        yield built
        for _, con in built.values():
            con.disconnect()


def assert_same_tables(built: Warehouses, schema: str, table: str) -> None:
    duck = built["duckdb"][1].table(table, database=schema)
    pg = built["postgres"][1].table(table, database=schema)
    assert duck.schema() == pg.schema()
    name = f"{schema}.{table}"
    assert_same_rows(
        {name: table_records(built["duckdb"][1], schema, table)},
        {name: table_records(built["postgres"][1], schema, table)},
        float_tolerance=0.0,  # exact: same values of the same types, floats included
        ignore=RUN_COLUMNS,
    )


@pytest.mark.parametrize(("schema", "table"), TABLES, ids=[t for _, t in TABLES])
def test_reference_data_builds_identical_tables_on_both_engines(
    reference_build: Warehouses, schema: str, table: str
) -> None:
    assert_same_tables(reference_build, schema, table)


@pytest.mark.parametrize(("schema", "table"), TABLES, ids=[t for _, t in TABLES])
def test_bundled_seeds_build_identical_tables_on_both_engines(
    seeds_build: Warehouses, schema: str, table: str
) -> None:
    assert_same_tables(seeds_build, schema, table)


def test_both_engines_settle_on_the_same_as_of_date(
    reference_build: Warehouses, seeds_build: Warehouses
) -> None:
    assert reference_build["duckdb"][0].as_of == {"retail": date(2024, 1, 19)}
    assert reference_build["postgres"][0].as_of == reference_build["duckdb"][0].as_of
    assert seeds_build["postgres"][0].as_of == seeds_build["duckdb"][0].as_of


def test_bundled_seeds_exercise_the_dirty_paths(seeds_build: Warehouses) -> None:
    """Parity on seeds only means something if they contain what the rules handle."""
    _, con = seeds_build["duckdb"]
    rules = {row["rule"] for row in table_records(con, "silver", "quarantine")}
    assert rules == {"missing_key", "unparseable_key", "duplicate_key"}
    sales = table_records(con, "silver", "silver_sales_cleaned")
    assert any(not row["is_valid_transaction"] for row in sales)
    assert any(row["is_valid_transaction"] for row in sales)


# ---------------------------------------------------------------------------------------------
# hand-computed gold values of the reference data (as of 2024-01-19, its latest sale)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def reference_gold(
    request: pytest.FixtureRequest, reference_build: Warehouses
) -> dict[str, list[dict[str, Any]]]:
    _, con = reference_build[request.param]
    return {
        table: table_records(con, "gold", table)
        for table in (
            "gold_daily_sales_summary",
            "gold_customer_lifetime_value",
            "gold_product_performance",
        )
    }


def test_reference_customer_values_match_hand_computation(
    reference_gold: dict[str, list[dict[str, Any]]],
) -> None:
    customers = by_key(reference_gold["gold_customer_lifetime_value"], "customer_id")

    def pick(customer_id: int, *names: str) -> tuple[Any, ...]:
        return tuple(customers[customer_id][name] for name in names)

    # customer 1: 1001 Laptop Pro 1299.99 (01-15) + 1004 Desk Lamp 89.99 (01-16)
    assert pick(
        1,
        "total_transactions",
        "total_spent",
        "avg_order_value",
        "projected_clv",
        "customer_lifespan_days",
        "days_since_last_purchase",
        "customer_segment",
        "customer_tenure_segment",
        "value_segment",
    ) == (
        2,
        D("1389.98"),
        D("694.99"),
        D("1667.98"),
        1,
        3,
        "Loyal Customer",
        "Recent",
        "High Value",
    )
    # customer 2: 2 x 29.99 + 1299.99 = 1359.97; average 679.985 rounds half away to 679.99
    assert pick(2, "total_spent", "avg_order_value", "projected_clv", "total_items_purchased") == (
        D("1359.97"),
        D("679.99"),
        D("1631.96"),  # 1359.97 x 1.2 = 1631.964
        3,
    )
    # customer 4: 3 x 15.99 + 2 x 299.99 = 647.95; average 323.975 rounds half away to 323.98
    assert pick(
        4,
        "total_spent",
        "avg_order_value",
        "projected_clv",
        "customer_segment",
        "business_value_tier",
    ) == (D("647.95"), D("323.98"), D("777.54"), "Potential Loyalist", "Medium Value")
    assert sum(row["total_spent"] for row in customers.values()) == D("4357.86")


def test_reference_product_values_match_hand_computation(
    reference_gold: dict[str, list[dict[str, Any]]],
) -> None:
    products = by_key(reference_gold["gold_product_performance"], "product_id")
    laptop = products[501]  # sold twice at 1299.99; cost 999.99; 25 in stock
    assert (
        laptop["total_revenue"],
        laptop["total_sales_transactions"],
        laptop["profit_margin_amount"],
        laptop["profit_margin_percent"],  # 300 / 999.99 = 30.0003 %
        laptop["total_profit"],
        laptop["category_total_revenue"],  # electronics: 2599.98 + 89.97 + 79.99 + 599.98
        laptop["category_revenue_share_pct"],  # 2599.98 / 3369.92 = 77.15 %
        laptop["inventory_turnover_ratio"],  # 2 / ((25 + 27) / 2) = 0.0769
        laptop["performance_category"],  # 2599.98 >= 2000 but only 2 units
        laptop["profitability_tier"],
    ) == (
        D("2599.98"),
        2,
        D("300.00"),
        D("30.00"),
        D("600.00"),
        D("3369.92"),
        D("77.15"),
        D("0.08"),
        "Strong Performer",
        "High Margin",
    )
    assert products[502]["profit_margin_percent"] == D("50.03")  # 10 / 19.99 = 50.025 %
    assert products[508]["product_name"] == 'Monitor 24"'
    assert sum(row["total_revenue"] for row in products.values()) == D("4357.86")


def test_reference_daily_values_match_hand_computation(
    reference_gold: dict[str, list[dict[str, Any]]],
) -> None:
    daily = {
        (row["sale_date"], row["store_location"], row["product_category"]): row
        for row in reference_gold["gold_daily_sales_summary"]
    }
    assert len(daily) == 10  # no two reference sales share date, store and category
    assert sum(row["total_revenue"] for row in daily.values()) == D("4357.86")
    # 1003: customer 3 (registered 2024-01-10, credit 7500) buys an office chair
    chair = daily[(date(2024, 1, 16), "NEW YORK", "FURNITURE")]
    assert (
        chair["total_revenue"],
        chair["new_customers_count"],
        chair["high_value_customers_count"],
    ) == (D("249.99"), 1, 1)
    # 1002: customer 2 (registered 2023-12-15: 35 days, credit 2000) buys 2 mice
    mice = daily[(date(2024, 1, 15), "LOS ANGELES", "ELECTRONICS")]
    assert (
        mice["total_revenue"],
        mice["total_quantity_sold"],
        mice["avg_items_per_transaction"],
        mice["new_customers_count"],
        mice["high_value_customers_count"],
    ) == (D("59.98"), 2, D("2.00"), 0, 0)
