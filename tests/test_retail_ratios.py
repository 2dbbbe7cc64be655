"""Every rounded ratio in the retail gold tables is the exact quotient of the table's own
columns rounded once, half away from zero, on DuckDB and on PostgreSQL.

One generated data set of 100,000 sales is built once per engine; every row is then checked
in Python with Fraction, never with the engine's arithmetic.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ibis
import pytest
from exact import rounded_half_away
from helpers import build_into, connect, fresh_database

from medallion_ibis.generate import write_retail_seeds

SALES = 100_000
SEED = 6
Row = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    """A rounded column and the exact value it rounds, from the same row's columns."""

    column: str
    exact: Callable[[Row], Fraction | None]
    places: int = 2
    when_undefined: Fraction | None = None


def per(numerator: str, denominator: str, times: int = 1) -> Callable[[Row], Fraction | None]:
    def exact(row: Row) -> Fraction | None:
        if not row[denominator]:
            return None
        return Fraction(row[numerator]) * times / Fraction(row[denominator])

    return exact


def purchase_frequency(row: Row) -> Fraction:
    """Transactions per day of the customer's lifespan; a single-day lifespan counts as one."""
    return Fraction(row["total_transactions"], max(row["customer_lifespan_days"], 1))


def projected_clv(row: Row) -> Fraction:
    """Average order value x transactions x 1.2; every valid sale is priced, so the average
    order value times the transactions is the total spent."""
    return Fraction(row["total_spent"]) * Fraction(6, 5)


def inventory_turnover(row: Row) -> Fraction | None:
    """Units sold over average inventory, opening stock being closing stock + units sold."""
    sold, stock = row["total_quantity_sold"], row["current_stock"]
    if stock < 0 or sold <= 0:
        return None
    return Fraction(sold) / Fraction(stock + (stock + sold), 2)


def profit_margin_percent(row: Row) -> Fraction | None:
    if row["profit_margin_amount"] is None:
        return None
    cost, retail = Fraction(row["cost_price"]), Fraction(row["retail_price"])
    return (retail - cost) * 100 / cost


RULES: dict[str, list[Rule]] = {
    "gold_daily_sales_summary": [
        Rule("revenue_per_transaction", per("total_revenue", "transaction_count")),
        # every valid sale is one priced transaction: the average order is revenue per one
        Rule("avg_order_value", per("total_revenue", "transaction_count")),
        Rule("avg_items_per_transaction", per("total_quantity_sold", "transaction_count")),
        Rule("customer_concentration_pct", per("unique_customers", "transaction_count", 100)),
    ],
    "gold_customer_lifetime_value": [
        Rule("purchase_frequency_score", purchase_frequency, places=4),
        Rule("avg_items_per_order", per("total_items_purchased", "total_transactions")),
        Rule("avg_order_value", per("total_spent", "total_transactions")),
        Rule("projected_clv", projected_clv),
    ],
    "gold_product_performance": [
        Rule("revenue_per_transaction", per("total_revenue", "total_sales_transactions")),
        Rule(
            "avg_sale_amount",
            per("total_revenue", "total_sales_transactions"),
            when_undefined=Fraction(0),
        ),
        Rule("avg_quantity_per_sale", per("total_quantity_sold", "total_sales_transactions")),
        Rule("customer_repeat_rate", per("unique_customers", "total_sales_transactions", 100)),
        Rule("category_revenue_share_pct", per("total_revenue", "category_total_revenue", 100)),
        Rule("inventory_turnover_ratio", inventory_turnover, when_undefined=Fraction(0)),
        Rule("profit_margin_percent", profit_margin_percent),
    ],
}


def rounded_twice(value: Fraction, places: int) -> Fraction:
    """What the old helpers gave: rounded to 6 places first, then to ``places``."""
    return rounded_half_away(rounded_half_away(value, 6), places)


def expected(rule: Rule, row: Row, rounding: Callable[[Fraction, int], Fraction]) -> Any:
    exact = rule.exact(row)
    return rule.when_undefined if exact is None else rounding(exact, rule.places)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ratio-seeds")
    write_retail_seeds(out / "retail", sales=SALES, seed=SEED)
    return out


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def gold(
    request: pytest.FixtureRequest, seeds: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, list[Row]]]:
    """The retail gold tables' rows, built from the generated seeds on one engine."""
    if request.param == "duckdb":
        path = tmp_path_factory.mktemp("ratio-duckdb") / "warehouse.duckdb"
        assert build_into(seeds, pipelines=["retail"], duckdb_path=path).published
        con = connect(duckdb_path=path)
        yield read_gold(con)
        con.disconnect()
        return
    with fresh_database(request.getfixturevalue("pg_server_url")) as url:
        assert build_into(seeds, pipelines=["retail"], backend="postgres", pg_url=url).published
        con = connect(pg_url=url)
        yield read_gold(con)
        con.disconnect()


def read_gold(con: ibis.BaseBackend) -> dict[str, list[Row]]:
    return {table: con.table(table, database="gold").to_pyarrow().to_pylist() for table in RULES}


@pytest.mark.parametrize("table", list(RULES))
def test_every_rounded_ratio_is_the_exact_quotient_rounded_half_away(
    gold: dict[str, list[Row]], table: str
) -> None:
    rows = gold[table]
    assert rows, f"{table} is empty: the check would pass vacuously"
    wrong = [
        (rule.column, row[rule.column], expected(rule, row, rounded_half_away))
        for row in rows
        for rule in RULES[table]
        if row[rule.column] != expected(rule, row, rounded_half_away)
    ]
    assert not wrong, f"{len(wrong)} wrong values (column, built, exact), e.g. {wrong[:5]}"


def test_the_data_set_has_quotients_that_rounding_twice_gets_wrong(
    gold: dict[str, list[Row]],
) -> None:
    """Without such rows the check above could not tell single from double rounding (issue 6:
    the old helpers rounded to 6 places before rounding to 4)."""
    rule = Rule("purchase_frequency_score", purchase_frequency, places=4)
    traps = [
        row
        for row in gold["gold_customer_lifetime_value"]
        if expected(rule, row, rounded_half_away) != expected(rule, row, rounded_twice)
    ]
    assert traps
