"""Retail silver and gold rules, one at a time, on tiny hand-written inputs.

Most tests feed in-memory bronze tables straight into the model functions and run them on an
in-memory DuckDB (parity with PostgreSQL is test_retail_parity's job). Every expected value is
worked out by hand in the test, boundaries included. A few tests build real files end to end,
where the build itself (contracts, run stamp, as-of date) is the thing under test.
"""

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pytest
from helpers import build_into, connect
from retail_fixtures import table_records, write_seeds
from stand_ins import Row, bronze, by_key, records, run_context

from medallion_ibis.examples.retail import PIPELINE, gold, silver
from medallion_ibis.examples.retail.sources import CUSTOMERS, PRODUCTS, SALES
from medallion_ibis.runner import BuildResult

D = Decimal


# ---------------------------------------------------------------------------------------------
# raw rows, in the column order of the source files


def sale(
    transaction_id: str,
    customer_id: str = "1",
    product_id: str = "501",
    *,
    quantity: str = "1",
    unit_price: str = "10.00",
    day: str = "2024-01-15",
    store: str = "New York",
    name: str = "Widget",
    category: str = "Gadgets",
    rep: str = "101",
) -> Row:
    return [
        transaction_id,
        customer_id,
        product_id,
        name,
        category,
        quantity,
        unit_price,
        day,
        rep,
        store,
    ]


def customer(
    customer_id: str,
    *,
    first: str = "Ann",
    last: str = "Lee",
    email: str | None = None,
    phone: str = "555-0100",
    registered: str = "2020-01-01",
    kind: str = "Standard",
    credit: str = "1000.00",
) -> Row:
    address = f"c{customer_id.strip()}@shop.example" if email is None else email
    return [customer_id, first, last, address, phone, registered, kind, credit]


def product(
    product_id: str,
    *,
    name: str = "Widget",
    category: str = "Gadgets",
    subcategory: str = "Small",
    brand: str = "Acme",
    supplier: str = "Supplier A",
    cost: str = "10.00",
    retail: str = "20.00",
    stock: str = "100",
    reorder: str = "10",
) -> Row:
    return [product_id, name, category, subcategory, brand, supplier, cost, retail, stock, reorder]


def silver_sales(duck: ibis.BaseBackend, rows: Sequence[Row]) -> dict[int, dict[str, Any]]:
    expr = silver.silver_sales_cleaned(bronze(SALES, rows), run=run_context(date(2024, 1, 31)))
    return by_key(records(duck, expr), "transaction_id")


def silver_customers(
    duck: ibis.BaseBackend, rows: Sequence[Row], as_of: date
) -> dict[int, dict[str, Any]]:
    expr = silver.silver_customers_cleaned(bronze(CUSTOMERS, rows), run=run_context(as_of))
    return by_key(records(duck, expr), "customer_id")


def silver_products(duck: ibis.BaseBackend, rows: Sequence[Row]) -> dict[int, dict[str, Any]]:
    return by_key(
        records(duck, silver.silver_products_cleaned(bronze(PRODUCTS, rows))), "product_id"
    )


def gold_table(
    model: Callable[..., ir.Table],
    *,
    sales: Sequence[Row],
    customers: Sequence[Row] = (),
    products: Sequence[Row] = (),
    as_of: date,
) -> ir.Table:
    """A gold model over the silver models over the given raw rows."""
    run = run_context(as_of)
    silver_tables = {
        gold.SILVER_SALES: silver.silver_sales_cleaned(bronze(SALES, sales), run=run),
        gold.SILVER_CUSTOMERS: silver.silver_customers_cleaned(
            bronze(CUSTOMERS, customers), run=run
        ),
        gold.SILVER_PRODUCTS: silver.silver_products_cleaned(bronze(PRODUCTS, products)),
    }
    inputs = PIPELINE.models[model.__name__].inputs
    return model(*(silver_tables[name] for name in inputs), run=run)


def apply_rule(
    duck: ibis.BaseBackend,
    columns: dict[str, list[Any]],
    schema: dict[str, str],
    rule: Callable[[ir.Table], ir.Value],
) -> list[Any]:
    """``rule`` evaluated on each row of a table holding ``columns``, in row order."""
    count = len(next(iter(columns.values())))
    table = ibis.memtable({"i": list(range(count)), **columns}, schema={"i": "int64", **schema})
    expr = table.select("i", out=rule(table)).order_by("i")
    return [row["out"] for row in records(duck, expr)]


# ---------------------------------------------------------------------------------------------
# silver_sales_cleaned


def test_quantity_must_be_a_positive_integer_else_null_and_invalid(duck: ibis.BaseBackend) -> None:
    quantities = {"1": 1, " 3 ": 3, "0": None, "-1": None, "2.5": None, "two": None, "": None}
    rows = [sale(str(i), quantity=q) for i, q in enumerate(quantities, start=1)]
    result = silver_sales(duck, rows)
    assert [result[i]["quantity_valid"] for i in range(1, 8)] == list(quantities.values())
    assert [result[i]["is_valid_transaction"] for i in range(1, 8)] == [
        value is not None for value in quantities.values()
    ]


def test_unit_price_must_be_a_non_negative_amount_else_null_and_invalid(
    duck: ibis.BaseBackend,
) -> None:
    prices = {
        "0": D("0.00"),
        "0.00": D("0.00"),
        "29.99": D("29.99"),
        "10.005": D("10.01"),
        "-0.01": None,
        "$5": None,
        "1e3": None,
        "": None,
    }
    rows = [sale(str(i), unit_price=p) for i, p in enumerate(prices, start=1)]
    result = silver_sales(duck, rows)
    assert [result[i]["unit_price_valid"] for i in range(1, 9)] == list(prices.values())
    assert [result[i]["is_valid_transaction"] for i in range(1, 9)] == [
        value is not None for value in prices.values()
    ]


def test_total_amount_is_quantity_times_unit_price_or_null(duck: ibis.BaseBackend) -> None:
    result = silver_sales(
        duck,
        [
            sale("1", quantity="3", unit_price="15.99"),
            sale("2", quantity="2", unit_price="299.99"),
            sale("3", quantity="0", unit_price="15.99"),
            sale("4", quantity="2", unit_price="-1"),
            sale("5", quantity="7", unit_price="0"),
        ],
    )
    assert [result[i]["total_amount"] for i in range(1, 6)] == [
        D("47.97"),
        D("599.98"),
        None,
        None,
        D("0.00"),
    ]


def test_unparseable_transaction_date_becomes_null_and_invalid(duck: ibis.BaseBackend) -> None:
    days = {
        "2024-02-29": date(2024, 2, 29),
        "2023-02-29": None,
        "2024-13-01": None,
        "01/15/2024": None,
        "yesterday": None,
        "": None,
    }
    result = silver_sales(duck, [sale(str(i), day=d) for i, d in enumerate(days, start=1)])
    assert [result[i]["transaction_date_clean"] for i in range(1, 7)] == list(days.values())
    assert [result[i]["is_valid_transaction"] for i in range(1, 7)] == [
        True,
        False,
        False,
        False,
        False,
        False,
    ]


def test_a_sale_is_future_dated_only_after_the_latest_possible_date(
    duck: ibis.BaseBackend,
) -> None:
    latest = run_context(date(2024, 1, 31)).latest_possible_date
    days = [latest - timedelta(days=1), latest, latest + timedelta(days=1)]
    result = silver_sales(
        duck,
        [sale(str(i), day=d.isoformat()) for i, d in enumerate(days, start=1)]
        + [sale("4", day="")],
    )
    assert [result[i]["is_future_dated"] for i in range(1, 5)] == [False, False, True, False]
    assert [result[i]["is_valid_transaction"] for i in range(1, 5)] == [True, True, False, False]


def test_sales_text_is_trimmed_and_upper_cased_and_blank_is_null(duck: ibis.BaseBackend) -> None:
    result = silver_sales(
        duck,
        [
            sale("1", name=" laptop Pro ", category="electronics", store="  new york "),
            sale("2", name='Monitor 24"', category="Office, Supplies", store=""),
            sale("3", name="   ", category=" ", store="Chicago", rep="R-7"),
        ],
    )
    cleaned = [
        (row["product_name_clean"], row["category_clean"], row["store_location_clean"])
        for row in (result[1], result[2], result[3])
    ]
    assert cleaned == [
        ("LAPTOP PRO", "ELECTRONICS", "NEW YORK"),
        ('MONITOR 24"', "OFFICE, SUPPLIES", None),
        (None, None, "CHICAGO"),
    ]
    # a bad sales rep id is not a key: it becomes NULL and the sale stays valid
    assert (result[3]["sales_rep_id"], result[3]["is_valid_transaction"]) == (None, True)
    assert result[1]["sales_rep_id"] == 101


# ---------------------------------------------------------------------------------------------
# silver_customers_cleaned


def test_tenure_segment_counts_days_to_the_as_of_date(duck: ibis.BaseBackend) -> None:
    as_of = date(2024, 6, 30)
    ages = {
        0: "New",
        30: "New",
        31: "Recent",
        365: "Recent",
        366: "Established",
        4000: "Established",
    }
    rows = [
        customer(str(i), registered=(as_of - timedelta(days=age)).isoformat())
        for i, age in enumerate(ages, start=1)
    ]
    rows.append(customer("99", registered="2024-02-30"))
    result = silver_customers(duck, rows, as_of)
    assert [result[i]["customer_tenure_segment"] for i in range(1, 7)] == list(ages.values())
    assert (result[99]["customer_tenure_segment"], result[99]["is_valid_customer"]) == (None, False)


def test_tenure_segment_moves_with_the_as_of_date(duck: ibis.BaseBackend) -> None:
    rows = [customer("1", registered="2024-01-01")]
    assert silver_customers(duck, rows, date(2024, 1, 31))[1]["customer_tenure_segment"] == "New"
    assert silver_customers(duck, rows, date(2024, 2, 1))[1]["customer_tenure_segment"] == "Recent"


def test_value_segment_follows_credit_limit_thresholds(duck: ibis.BaseBackend) -> None:
    credits = {
        "7500.00": "High Value",
        "5000": "High Value",
        "4999.99": "Medium Value",
        "2000.00": "Medium Value",
        "1999.99": "Standard Value",
        "0": "Standard Value",
        "-100": "Standard Value",
        "": "Standard Value",
    }
    rows = [customer(str(i), credit=c) for i, c in enumerate(credits, start=1)]
    result = silver_customers(duck, rows, date(2024, 6, 30))
    assert [result[i]["value_segment"] for i in range(1, 9)] == list(credits.values())
    assert result[7]["credit_limit_valid"] is None  # a negative limit is not a limit


def test_email_is_kept_lower_cased_only_when_it_looks_like_an_address(
    duck: ibis.BaseBackend,
) -> None:
    emails = {
        " John.Doe@Email.COM ": "john.doe@email.com",
        "a@b.co": "a@b.co",
        "not-an-email": None,
        "a@b": None,
        "a b@c.com": None,
        "a@@c.com": None,
        "": None,
        "ann@example": None,  # no dot after the @
        "a@b cd": None,  # a space where the dot should be
        "a@b@c": None,  # a second @ where the dot should be
    }
    rows = [customer(str(i), email=e) for i, e in enumerate(emails, start=1)]
    result = silver_customers(duck, rows, date(2024, 6, 30))
    ids = range(1, len(emails) + 1)
    assert [result[i]["email_clean"] for i in ids] == list(emails.values())
    assert [result[i]["is_valid_customer"] for i in ids] == [
        value is not None for value in emails.values()
    ]


def test_names_are_title_cased_and_full_name_joins_them(duck: ibis.BaseBackend) -> None:
    result = silver_customers(
        duck,
        [
            customer("1", first=" jOHN ", last="doe"),
            customer("2", first="mary ann", last="VAN DYKE"),
            customer("3", first="", last="Smith"),
            customer("4", first=" ", last=""),
        ],
        date(2024, 6, 30),
    )
    names = [
        (row["first_name_clean"], row["last_name_clean"], row["full_name"])
        for row in (result[1], result[2], result[3], result[4])
    ]
    assert names == [
        ("John", "Doe", "John Doe"),
        ("Mary Ann", "Van Dyke", "Mary Ann Van Dyke"),
        (None, "Smith", "Smith"),
        (None, None, None),
    ]
    assert [result[i]["is_valid_customer"] for i in range(1, 5)] == [True, True, False, False]


def test_customer_type_is_upper_cased_and_phone_trimmed(duck: ibis.BaseBackend) -> None:
    result = silver_customers(
        duck, [customer("1", kind=" premium ", phone=" 555-0101 ")], date(2024, 6, 30)
    )
    assert (result[1]["customer_type_clean"], result[1]["phone_clean"]) == ("PREMIUM", "555-0101")


# ---------------------------------------------------------------------------------------------
# silver_products_cleaned


def test_inventory_status_compares_stock_with_the_reorder_level(duck: ibis.BaseBackend) -> None:
    levels = [
        ("4", "5", "Low Stock"),
        ("5", "5", "Low Stock"),  # stock == reorder level
        ("6", "5", "Medium Stock"),
        ("10", "5", "Medium Stock"),  # stock == 2 x reorder level
        ("11", "5", "High Stock"),
        ("0", "0", "Low Stock"),
        ("1", "0", "High Stock"),
    ]
    rows = [product(str(i), stock=s, reorder=r) for i, (s, r, _) in enumerate(levels, start=1)]
    result = silver_products(duck, rows)
    assert [result[i]["inventory_status"] for i in range(1, 8)] == [s for _, _, s in levels]


def test_price_tier_follows_retail_price_thresholds(duck: ibis.BaseBackend) -> None:
    tiers = {
        "1299.99": "Premium",
        "1000.00": "Premium",
        "999.99": "Standard",
        "100": "Standard",
        "99.99": "Budget",
        "0": "Budget",
        "n/a": None,
    }
    rows = [product(str(i), cost="0", retail=r) for i, r in enumerate(tiers, start=1)]
    result = silver_products(duck, rows)
    assert [result[i]["price_tier"] for i in range(1, 8)] == list(tiers.values())


def test_profit_margin_is_retail_minus_cost_and_its_share_of_cost(duck: ibis.BaseBackend) -> None:
    prices = [
        ("999.99", "1299.99", D("300.00"), D("30.00")),  # 300 / 999.99 = 30.0003 %
        ("19.99", "29.99", D("10.00"), D("50.03")),  # 10 / 19.99 = 50.025 %: half away from 0
        ("9.99", "15.99", D("6.00"), D("60.06")),
        ("80.00", "100.00", D("20.00"), D("25.00")),
        ("50.00", "50.00", None, None),  # no margin
        ("0", "10.00", None, None),  # no cost: no percentage of it
        ("0.50", "2.00", D("1.50"), D("300.00")),  # any cost above zero has a margin
    ]
    rows = [product(str(i), cost=c, retail=r) for i, (c, r, _, _) in enumerate(prices, start=1)]
    result = silver_products(duck, rows)
    margins = [
        (result[i]["profit_margin_amount"], result[i]["profit_margin_percent"])
        for i in range(1, len(prices) + 1)
    ]
    assert margins == [(amount, pct) for _, _, amount, pct in prices]


def test_product_validity_needs_name_category_sane_prices_and_stock(duck: ibis.BaseBackend) -> None:
    result = silver_products(
        duck,
        [
            product("1"),
            product("2", name=" "),
            product("3", category=""),
            product("4", cost="30.00", retail="20.00"),
            product("5", stock="-3"),
            product("6", stock="lots"),
            product("7", cost="-1", retail="5"),
            product("8", cost="20.00", retail="20.00"),
            product("9", cost="0", retail="5.00"),  # a free sample: zero cost is sane
            product("10", cost="0.50", retail="2.00"),  # so is a cost below one unit
            product("11", stock="0"),  # sold out, not broken
        ],
    )
    assert [result[i]["is_valid_product"] for i in range(1, 12)] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
        True,
        True,
    ]
    # unusable stock counts as none on hand, and a bad reorder level as zero
    assert [result[i]["stock_quantity_valid"] for i in (5, 6)] == [0, 0]


def test_product_text_is_standardised(duck: ibis.BaseBackend) -> None:
    result = silver_products(
        duck,
        [
            product(
                "1",
                name=" laptop PRO ",
                category=" electronics",
                subcategory="computers ",
                brand="techCorp",
                supplier="supplier a",
            )
        ],
    )
    row = result[1]
    assert (
        row["product_name_clean"],
        row["category_clean"],
        row["subcategory_clean"],
        row["brand_clean"],
        row["supplier_clean"],
    ) == ("Laptop Pro", "ELECTRONICS", "COMPUTERS", "Techcorp", "Supplier A")


# ---------------------------------------------------------------------------------------------
# gold rules as functions


def test_customer_segment_thresholds(duck: ibis.BaseBackend) -> None:
    cases = [
        ("2000.00", 3, "Champion"),
        ("1999.99", 3, "Loyal Customer"),
        ("2000.00", 2, "Loyal Customer"),  # Champion needs 3 transactions too
        ("1000.00", 2, "Loyal Customer"),
        ("999.99", 2, "Potential Loyalist"),
        ("1000.00", 1, "Potential Loyalist"),
        ("500.00", 1, "Potential Loyalist"),
        ("499.99", 1, "New Customer"),
        ("499.99", 2, "At Risk"),
    ]
    result = apply_rule(
        duck,
        {"spent": [D(s) for s, _, _ in cases], "n": [n for _, n, _ in cases]},
        {"spent": "decimal(18,2)", "n": "int64"},
        lambda t: gold.customer_segment(t.spent, t.n),
    )
    assert result == [segment for _, _, segment in cases]


def test_activity_status_thresholds(duck: ibis.BaseBackend) -> None:
    days = {0: "Active", 30: "Active", 31: "Dormant", 90: "Dormant", 91: "Inactive"}
    result = apply_rule(
        duck, {"d": list(days)}, {"d": "int64"}, lambda t: gold.activity_status(t.d)
    )
    assert result == list(days.values())


def test_business_value_tier_thresholds(duck: ibis.BaseBackend) -> None:
    cases = [
        ("1500.00", 3, 60, "High Value"),
        ("1500.00", 3, 61, "Medium Value"),
        ("1499.99", 3, 0, "Medium Value"),
        ("1500.00", 2, 0, "Medium Value"),
        ("500.00", 2, 400, "Medium Value"),
        ("499.99", 2, 0, "Low Value"),
        ("500.00", 1, 0, "Low Value"),
    ]
    result = apply_rule(
        duck,
        {
            "spent": [D(s) for s, _, _, _ in cases],
            "n": [n for _, n, _, _ in cases],
            "d": [d for _, _, d, _ in cases],
        },
        {"spent": "decimal(18,2)", "n": "int64", "d": "int64"},
        lambda t: gold.business_value_tier(t.spent, t.n, t.d),
    )
    assert result == [tier for _, _, _, tier in cases]


def test_performance_category_thresholds(duck: ibis.BaseBackend) -> None:
    cases = [
        ("2000.00", 5, "Star Product"),
        ("2000.00", 4, "Strong Performer"),  # a star also sells at least 5 units
        ("1999.99", 5, "Strong Performer"),
        ("1000.00", 1, "Strong Performer"),
        ("999.99", 1, "Average Performer"),
        ("500.00", 1, "Average Performer"),
        ("499.99", 1, "Underperformer"),
        ("0.01", 1, "Underperformer"),
        ("0.00", 0, "No Sales"),
    ]
    result = apply_rule(
        duck,
        {"revenue": [D(r) for r, _, _ in cases], "qty": [q for _, q, _ in cases]},
        {"revenue": "decimal(18,2)", "qty": "int64"},
        lambda t: gold.performance_category(t.revenue, t.qty),
    )
    assert result == [category for _, _, category in cases]


def test_profitability_tier_thresholds(duck: ibis.BaseBackend) -> None:
    margins = {
        "30.00": "High Margin",
        "29.99": "Medium Margin",
        "15.00": "Medium Margin",
        "14.99": "Low Margin",
        "0.01": "Low Margin",
        "0.00": "Loss Making",
        "-5.00": "Loss Making",
    }
    result = apply_rule(
        duck,
        {"m": [D(m) for m in margins]},
        {"m": "decimal(18,2)"},
        lambda t: gold.profitability_tier(t.m),
    )
    assert result == list(margins.values())


def test_inventory_turnover_is_units_sold_over_average_inventory(duck: ibis.BaseBackend) -> None:
    # average inventory = (closing stock + opening stock) / 2, opening = closing + units sold
    cases = [
        (2, 25, D("0.08")),  # 2 / 26 = 0.0769
        (10, 0, D("2.00")),  # 10 / 5
        (1, 1, D("0.67")),  # 1 / 1.5: integer division would give 1.00
        (3, 4, D("0.55")),  # 3 / 5.5 = 0.5454
        (0, 5, D("0.00")),
        (0, 0, D("0.00")),
    ]
    result = apply_rule(
        duck,
        {"sold": [s for s, _, _ in cases], "stock": [k for _, k, _ in cases]},
        {"sold": "int64", "stock": "int64"},
        lambda t: gold.inventory_turnover(t.sold, t.stock),
    )
    assert result == [ratio for _, _, ratio in cases]


def test_business_recommendation_rules_in_order(duck: ibis.BaseBackend) -> None:
    cases = [
        ("1000.00", "20.00", "Low Stock", 5, "Restock Immediately"),
        ("999.99", "20.00", "Low Stock", 5, "Monitor Performance"),
        ("1000.00", "19.99", "Low Stock", 5, "Monitor Performance"),
        ("1000.00", "20.00", "Medium Stock", 5, "Monitor Performance"),
        ("1000.00", "5.00", "Low Stock", 5, "Review Pricing"),
        ("0.00", "50.00", "High Stock", 11, "Consider Discontinuing"),
        ("0.00", "5.00", "High Stock", 11, "Consider Discontinuing"),
        ("0.00", "50.00", "Medium Stock", 10, "Monitor Performance"),
        ("100.00", "9.99", "High Stock", 50, "Review Pricing"),
        ("100.00", "10.00", "High Stock", 50, "Monitor Performance"),
        ("0.00", "5.00", "Medium Stock", 10, "Monitor Performance"),  # thin margin, unsold
        ("0.50", "5.00", "Medium Stock", 10, "Review Pricing"),  # thin margin, any revenue
    ]
    result = apply_rule(
        duck,
        {
            "revenue": [D(c[0]) for c in cases],
            "margin": [D(c[1]) for c in cases],
            "status": [c[2] for c in cases],
            "stock": [c[3] for c in cases],
        },
        {
            "revenue": "decimal(18,2)",
            "margin": "decimal(18,2)",
            "status": "string",
            "stock": "int64",
        },
        lambda t: gold.business_recommendation(t.revenue, t.margin, t.status, t.stock),
    )
    assert result == [c[4] for c in cases]


# ---------------------------------------------------------------------------------------------
# gold_daily_sales_summary

DAILY_AS_OF = date(2024, 3, 31)
DAILY_CUSTOMERS = [
    customer("1", registered="2024-03-20", credit="6000.00"),  # New, High Value
    customer("2", registered="2022-01-01", credit="1000.00"),  # Established, Standard
    customer("3", registered="2024-03-01", credit="2000.00"),  # 30 days: New, Medium
]
DAILY_SALES = [
    sale("1", "1", day="2024-03-30", store="Store A", quantity="2", unit_price="10.00"),
    sale("2", "1", day="2024-03-30", store="store a ", quantity="1", unit_price="5.00"),
    sale("3", "2", day="2024-03-30", store="Store A", quantity="0", unit_price="99.00"),  # invalid
    sale("4", "2", day="2024-03-30", store="Store B", quantity="1", unit_price="7.50"),
    sale(
        "5",
        "3",
        day="2024-03-30",
        store="Store B",
        category="Tools",
        quantity="4",
        unit_price="2.50",
    ),
    sale("6", "99", day="2024-03-30", store="Store B", category="Tools", unit_price="1.00"),
    sale("7", "2", day="2024-03-29", store="Store A", quantity="1", unit_price="0.00"),
    sale("8", "1", day="2024-03-29", store="Store A", quantity="1", unit_price="9.00", rep="x"),
]


@pytest.fixture(scope="module")
def daily(duck: ibis.BaseBackend) -> dict[tuple[date, str, str], dict[str, Any]]:
    expr = gold_table(
        gold.gold_daily_sales_summary,
        sales=DAILY_SALES,
        customers=DAILY_CUSTOMERS,
        as_of=DAILY_AS_OF,
    )
    return {
        (row["sale_date"], row["store_location"], row["product_category"]): row
        for row in records(duck, expr)
    }


def test_daily_summary_has_one_row_per_date_store_and_category(
    daily: dict[tuple[date, str, str], dict[str, Any]],
) -> None:
    assert sorted(daily) == [
        (date(2024, 3, 29), "STORE A", "GADGETS"),
        (date(2024, 3, 30), "STORE A", "GADGETS"),
        (date(2024, 3, 30), "STORE B", "GADGETS"),
        (date(2024, 3, 30), "STORE B", "TOOLS"),
    ]


def test_daily_summary_sales_measures_cover_valid_sales_only(
    daily: dict[tuple[date, str, str], dict[str, Any]],
) -> None:
    row = daily[(date(2024, 3, 30), "STORE A", "GADGETS")]  # sales 1 and 2; 3 is invalid
    assert {
        name: row[name]
        for name in (
            "transaction_count",
            "unique_customers",
            "total_revenue",
            "total_quantity_sold",
            "avg_order_value",
            "max_order_value",
            "min_order_value",
            "revenue_per_transaction",
            "avg_items_per_transaction",
            "customer_concentration_pct",
            "data_quality_status",
        )
    } == {
        "transaction_count": 2,
        "unique_customers": 1,
        "total_revenue": D("25.00"),
        "total_quantity_sold": 3,
        "avg_order_value": D("12.50"),
        "max_order_value": D("20.00"),
        "min_order_value": D("5.00"),
        "revenue_per_transaction": D("12.50"),
        "avg_items_per_transaction": D("1.50"),  # 3 / 2, a true division
        "customer_concentration_pct": D("50.00"),  # 1 customer / 2 transactions
        "data_quality_status": "Valid",
    }


def test_daily_summary_keeps_sales_of_customers_missing_from_the_customer_file(
    daily: dict[tuple[date, str, str], dict[str, Any]],
) -> None:
    row = daily[(date(2024, 3, 30), "STORE B", "TOOLS")]  # customer 3 and unknown customer 99
    assert (
        row["transaction_count"],
        row["unique_customers"],
        row["total_revenue"],
        row["total_quantity_sold"],
        row["avg_order_value"],
        row["max_order_value"],
        row["min_order_value"],
        row["avg_items_per_transaction"],
        row["customer_concentration_pct"],
    ) == (2, 2, D("11.00"), 5, D("5.50"), D("10.00"), D("1.00"), D("2.50"), D("100.00"))


def test_daily_new_and_high_value_customers_are_counted_within_their_own_row(
    daily: dict[tuple[date, str, str], dict[str, Any]],
) -> None:
    """Counted per date x store x category: the reference counted per day, so store B's
    gadgets row would have shown the two new customers who bought elsewhere that day."""
    counts = {
        key: (row["new_customers_count"], row["high_value_customers_count"])
        for key, row in daily.items()
    }
    assert counts == {
        (date(2024, 3, 29), "STORE A", "GADGETS"): (1, 1),  # customers 1 (new, high) and 2
        (date(2024, 3, 30), "STORE A", "GADGETS"): (1, 1),  # customer 1 only
        (date(2024, 3, 30), "STORE B", "GADGETS"): (0, 0),  # customer 2: established, standard
        (date(2024, 3, 30), "STORE B", "TOOLS"): (1, 0),  # customer 3: new, medium; 99 unknown
    }


def day_of_one_sale(duck: ibis.BaseBackend, *, unit_price: str) -> dict[str, Any]:
    """The daily summary row of a day with a single sale at this price."""
    summary = gold_table(
        gold.gold_daily_sales_summary,
        sales=[sale("1", unit_price=unit_price)],
        customers=DAILY_CUSTOMERS,
        as_of=DAILY_AS_OF,
    )
    [row] = records(duck, summary)
    return row


def test_daily_quality_status_flags_rows_without_revenue(
    duck: ibis.BaseBackend, daily: dict[tuple[date, str, str], dict[str, Any]]
) -> None:
    row = daily[(date(2024, 3, 29), "STORE A", "GADGETS")]  # 0.00 and 9.00
    assert (row["transaction_count"], row["total_revenue"], row["data_quality_status"]) == (
        2,
        D("9.00"),
        "Valid",
    )
    free = day_of_one_sale(duck, unit_price="0.00")
    assert (free["total_revenue"], free["data_quality_status"]) == (D("0.00"), "Check Required")
    small = day_of_one_sale(duck, unit_price="0.50")
    assert (small["transaction_count"], small["total_revenue"]) == (1, D("0.50"))
    assert small["data_quality_status"] == "Valid"  # any revenue at all, from a single sale


def test_gold_leaves_out_the_sales_after_the_as_of_date(duck: ibis.BaseBackend) -> None:
    """A build as of an earlier day publishes what was known on that day: silver keeps the
    later sale, every gold table leaves it out."""
    sales = [sale("1", day="2024-03-30"), sale("2", day="2024-03-31", unit_price="500.00")]
    as_of = date(2024, 3, 30)
    daily = gold_table(
        gold.gold_daily_sales_summary, sales=sales, customers=DAILY_CUSTOMERS, as_of=as_of
    )
    assert [row["sale_date"] for row in records(duck, daily)] == [as_of]
    lifetime = gold_table(
        gold.gold_customer_lifetime_value, sales=sales, customers=DAILY_CUSTOMERS, as_of=as_of
    )
    [buyer] = [row for row in records(duck, lifetime) if row["customer_id"] == 1]
    assert (buyer["total_transactions"], buyer["total_spent"]) == (1, D("10.00"))


# ---------------------------------------------------------------------------------------------
# gold_customer_lifetime_value

CLV_AS_OF = date(2024, 6, 30)
CLV_CUSTOMERS = [
    customer(
        "1", first=" aNN ", last="lee", kind="premium ", registered="2024-01-01", credit="5000"
    ),
    customer("2", first="Bo", last="Chen", registered="2020-01-01", credit="4999.99"),
    customer("3", first="Cy", last="Diaz", email="not-an-email"),  # invalid customer
    customer("4", first="Di", last="Ek"),  # only invalid sales
    customer("5", first="Ed", last="Fox", registered="2024-06-15", credit=""),
]
CLV_SALES = [
    sale("1", "1", day="2024-05-01", unit_price="100.00"),
    sale("2", "1", day="2024-05-31", unit_price="200.01"),
    sale("3", "1", day="2024-06-29", quantity="-1", unit_price="999.00"),  # invalid
    sale("4", "2", day="2024-03-01", unit_price="1000.00"),
    sale("5", "2", day="2024-03-01", quantity="2", unit_price="250.00"),
    sale("6", "2", day="2024-04-30", unit_price="500.00"),
    sale("7", "3", day="2024-06-01", unit_price="50.00"),
    sale("8", "4", day="2024-02-30", unit_price="50.00"),
    sale("9", "5", day="2024-03-31", unit_price="499.99"),
]


@pytest.fixture(scope="module")
def clv(duck: ibis.BaseBackend) -> dict[int, dict[str, Any]]:
    expr = gold_table(
        gold.gold_customer_lifetime_value,
        sales=CLV_SALES,
        customers=CLV_CUSTOMERS,
        as_of=CLV_AS_OF,
    )
    return by_key(records(duck, expr), "customer_id")


def test_clv_lists_valid_customers_with_valid_sales_only(clv: dict[int, dict[str, Any]]) -> None:
    assert sorted(clv) == [1, 2, 5]


def test_clv_purchase_measures_and_projection(clv: dict[int, dict[str, Any]]) -> None:
    first = clv[1]
    assert {
        name: first[name]
        for name in (
            "full_name",
            "customer_type",
            "value_segment",
            "customer_tenure_segment",
            "total_transactions",
            "total_spent",
            "avg_order_value",
            "highest_order_value",
            "total_items_purchased",
            "first_purchase_date",
            "last_purchase_date",
            "purchase_days",
            "customer_lifespan_days",
            "days_since_last_purchase",
            "current_clv",
            "projected_clv",
            "purchase_frequency_score",
            "avg_items_per_order",
        )
    } == {
        "full_name": "Ann Lee",
        "customer_type": "PREMIUM",
        "value_segment": "High Value",
        "customer_tenure_segment": "Recent",  # 181 days
        "total_transactions": 2,  # the invalid sale 3 does not count
        "total_spent": D("300.01"),
        "avg_order_value": D("150.01"),  # 150.005 rounded half away from zero
        "highest_order_value": D("200.01"),
        "total_items_purchased": 2,
        "first_purchase_date": date(2024, 5, 1),
        "last_purchase_date": date(2024, 5, 31),
        "purchase_days": 2,
        "customer_lifespan_days": 30,
        "days_since_last_purchase": 30,
        "current_clv": D("300.01"),
        # avg x n x 1.2 with the unrounded average: 150.005 x 2 x 1.2 = 360.012
        "projected_clv": D("360.01"),
        "purchase_frequency_score": D("0.0667"),  # 2 / 30
        "avg_items_per_order": D("1.00"),
    }


def test_clv_segments_activity_and_tiers(clv: dict[int, dict[str, Any]]) -> None:
    labels = {
        customer_id: (
            row["customer_segment"],
            row["activity_status"],
            row["business_value_tier"],
            row["days_since_last_purchase"],
        )
        for customer_id, row in clv.items()
    }
    assert labels == {
        1: ("At Risk", "Active", "Low Value", 30),  # 300.01 over 2 orders
        2: ("Champion", "Dormant", "Medium Value", 61),  # 2000.00 over 3; too long ago for High
        5: ("New Customer", "Inactive", "Low Value", 91),
    }


def test_clv_of_a_champion_and_of_a_single_purchase(clv: dict[int, dict[str, Any]]) -> None:
    champion, single = clv[2], clv[5]
    assert (
        champion["total_transactions"],
        champion["total_spent"],
        champion["avg_order_value"],  # 2000 / 3 = 666.666…
        champion["projected_clv"],  # 2000 x 1.2
        champion["total_items_purchased"],
        champion["purchase_days"],  # two purchases on 2024-03-01 are one purchase day
        champion["customer_lifespan_days"],
        champion["purchase_frequency_score"],  # 3 / 60
        champion["avg_items_per_order"],  # 4 / 3
        champion["customer_tenure_segment"],
        champion["value_segment"],
    ) == (
        3,
        D("2000.00"),
        D("666.67"),
        D("2400.00"),
        4,
        2,
        60,
        D("0.0500"),
        D("1.33"),
        "Established",
        "Medium Value",
    )
    assert (
        single["projected_clv"],  # 499.99 x 1.2 = 599.988
        single["customer_lifespan_days"],
        single["purchase_frequency_score"],  # one purchase day: the count itself
        single["customer_tenure_segment"],
        single["value_segment"],
    ) == (D("599.99"), 0, D("1.0000"), "New", "Standard Value")


# ---------------------------------------------------------------------------------------------
# gold_product_performance

PRODUCT_AS_OF = date(2024, 6, 30)
PRODUCTS_FOR_GOLD = [
    product(
        "1",
        name="laptop pro",
        category="Electronics",
        cost="999.99",
        retail="1299.99",
        stock="4",
        reorder="5",
    ),
    product(
        "2",
        name="mouse",
        category="Electronics",
        cost="20.00",
        retail="21.00",
        stock="100",
        reorder="10",
    ),
    product(
        "3",
        name="desk",
        category="Furniture",
        cost="100.00",
        retail="150.00",
        stock="11",
        reorder="5",
    ),
    product(
        "4",
        name="lamp",
        category="Furniture",
        cost="10.00",
        retail="15.00",
        stock="10",
        reorder="5",
    ),
    product("5", name="chair", category="Seating", cost="50.00", retail="40.00"),  # invalid
]
SALES_FOR_PRODUCTS = [
    sale("1", "1", "1", unit_price="1299.99", day="2024-06-01"),
    sale("2", "2", "1", unit_price="1299.99", day="2024-06-10"),
    sale("3", "1", "2", quantity="3", unit_price="21.00", day="2024-05-01"),
    sale("4", "1", "2", quantity="1", unit_price="21.00", day="2024-05-02"),
    sale("5", "2", "2", quantity="5", unit_price="21.00", day="2024-13-01"),  # invalid
    sale("6", "1", "5", quantity="1", unit_price="40.00", day="2024-05-02"),
]


@pytest.fixture(scope="module")
def products_gold(duck: ibis.BaseBackend) -> dict[int, dict[str, Any]]:
    expr = gold_table(
        gold.gold_product_performance,
        sales=SALES_FOR_PRODUCTS,
        products=PRODUCTS_FOR_GOLD,
        as_of=PRODUCT_AS_OF,
    )
    return by_key(records(duck, expr), "product_id")


def test_product_performance_lists_valid_products_including_unsold_ones(
    products_gold: dict[int, dict[str, Any]],
) -> None:
    assert sorted(products_gold) == [1, 2, 3, 4]


def test_product_performance_of_a_low_stock_best_seller(
    products_gold: dict[int, dict[str, Any]],
) -> None:
    row = products_gold[1]
    assert {name: row[name] for name in row if name != "_gold_created_at"} == {
        "product_id": 1,
        "product_name": "Laptop Pro",
        "category": "ELECTRONICS",
        "subcategory": "SMALL",
        "brand": "Acme",
        "price_tier": "Premium",
        "inventory_status": "Low Stock",
        "total_sales_transactions": 2,
        "unique_customers": 2,
        "total_quantity_sold": 2,
        "total_revenue": D("2599.98"),
        "avg_sale_amount": D("1299.99"),
        "first_sale_date": date(2024, 6, 1),
        "last_sale_date": date(2024, 6, 10),
        "cost_price": D("999.99"),
        "retail_price": D("1299.99"),
        "profit_margin_amount": D("300.00"),
        "profit_margin_percent": D("30.00"),
        "total_profit": D("600.00"),
        "current_stock": 4,
        "reorder_level": 5,
        "revenue_per_transaction": D("1299.99"),
        "avg_quantity_per_sale": D("1.00"),
        "customer_repeat_rate": D("100.00"),
        "category_total_revenue": D("2683.98"),  # 2599.98 + 84.00
        "category_revenue_share_pct": D("96.87"),  # 2599.98 / 2683.98 = 96.870 %
        "performance_category": "Strong Performer",  # >= 2000 but only 2 units: not a star
        "profitability_tier": "High Margin",
        "inventory_turnover_ratio": D("0.40"),  # 2 / ((4 + 6) / 2)
        "business_recommendation": "Restock Immediately",
    }


def test_product_performance_of_a_thin_margin_repeat_purchase(
    products_gold: dict[int, dict[str, Any]],
) -> None:
    row = products_gold[2]  # sale 5 has an impossible date and does not count
    assert (
        row["total_sales_transactions"],
        row["unique_customers"],
        row["total_quantity_sold"],
        row["total_revenue"],
        row["avg_sale_amount"],
        row["profit_margin_percent"],
        row["total_profit"],
        row["avg_quantity_per_sale"],
        row["customer_repeat_rate"],
        row["category_revenue_share_pct"],
        row["inventory_turnover_ratio"],
        row["profitability_tier"],
        row["performance_category"],
        row["business_recommendation"],
    ) == (
        2,
        1,
        4,
        D("84.00"),
        D("42.00"),
        D("5.00"),
        D("4.00"),
        D("2.00"),
        D("50.00"),  # one customer over two transactions
        D("3.13"),  # 84 / 2683.98 = 3.1297 %
        D("0.04"),  # 4 / ((100 + 104) / 2) = 0.0392
        "Low Margin",
        "Underperformer",
        "Review Pricing",  # margin below 10 % with revenue
    )


def test_unsold_product_has_zero_revenue_and_is_flagged_when_overstocked(
    products_gold: dict[int, dict[str, Any]],
) -> None:
    """The reference left revenue NULL for unsold products, so 'Consider Discontinuing'
    (revenue = 0 and stock > 10) could never fire."""
    overstocked, at_limit = products_gold[3], products_gold[4]
    assert (
        overstocked["total_sales_transactions"],
        overstocked["unique_customers"],
        overstocked["total_quantity_sold"],
        overstocked["total_revenue"],
        overstocked["avg_sale_amount"],
        overstocked["first_sale_date"],
        overstocked["last_sale_date"],
        overstocked["total_profit"],
        overstocked["revenue_per_transaction"],
        overstocked["avg_quantity_per_sale"],
        overstocked["customer_repeat_rate"],
        overstocked["category_total_revenue"],
        overstocked["category_revenue_share_pct"],
        overstocked["performance_category"],
        overstocked["inventory_turnover_ratio"],
        overstocked["inventory_status"],
        overstocked["business_recommendation"],
    ) == (
        0,
        0,
        0,
        D("0.00"),
        D("0.00"),
        None,
        None,
        D("0.00"),
        None,
        None,
        None,
        D("0.00"),
        None,
        "No Sales",
        D("0.00"),
        "High Stock",
        "Consider Discontinuing",
    )
    assert (at_limit["current_stock"], at_limit["inventory_status"]) == (10, "Medium Stock")
    assert at_limit["business_recommendation"] == "Monitor Performance"  # stock 10 is not > 10


# ---------------------------------------------------------------------------------------------
# end to end: what only a real build shows

E2E_SALES = [
    sale("1001", "1", "501", unit_price="1299.99", day="2024-01-15"),
    sale("1002", "1", "501", unit_price="1299.99", day="not-a-date"),
    sale("1003", "2", "502", unit_price="29.99", day="1900-01-01"),  # a sentinel date
    sale("1004", "2", "502", unit_price="29.99", day="2024-01-19"),
]
E2E_CUSTOMERS = [
    customer("1", registered="2023-12-20", credit="5000"),
    customer("2", registered="2020-01-01"),
]
E2E_PRODUCTS = [
    product("501", cost="999.99", retail="1299.99", stock="25", reorder="5"),
    product("502", cost="29.98", retail="29.99"),  # a margin of 0.03 %, rounded to 0.03
    product("503", cost="999.99", retail="1000.00"),  # a margin of 0.001 %, rounded to 0.00
]


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildResult, ibis.BaseBackend]:
    root = tmp_path_factory.mktemp("rules-e2e")
    seeds = write_seeds(
        root / "seeds", sales=E2E_SALES, customers=E2E_CUSTOMERS, products=E2E_PRODUCTS
    )
    path = root / "warehouse.duckdb"
    result = build_into(seeds, pipelines=["retail"], duckdb_path=path)
    return result, connect(duckdb_path=path)


def test_a_build_with_an_unparseable_date_publishes_the_row_as_invalid(
    e2e: tuple[BuildResult, ibis.BaseBackend],
) -> None:
    result, con = e2e
    assert result.published
    row = by_key(table_records(con, "silver", "silver_sales_cleaned"), "transaction_id")[1002]
    assert (row["transaction_date_clean"], row["is_valid_transaction"]) == (None, False)


def test_default_as_of_is_the_latest_valid_sale_date(
    e2e: tuple[BuildResult, ibis.BaseBackend],
) -> None:
    result, con = e2e
    assert result.as_of == {"retail": date(2024, 1, 19)}
    customers = by_key(table_records(con, "silver", "silver_customers_cleaned"), "customer_id")
    assert customers[1]["customer_tenure_segment"] == "New"  # 30 days before 2024-01-19


def test_tiny_margins_and_sentinel_dates_do_not_break_the_contracts(
    e2e: tuple[BuildResult, ibis.BaseBackend],
) -> None:
    """Legitimate data whose ratios round to zero must build (the contracts once said > 0)."""
    _, con = e2e
    products = by_key(table_records(con, "silver", "silver_products_cleaned"), "product_id")
    assert (products[503]["profit_margin_amount"], products[503]["profit_margin_percent"]) == (
        D("0.01"),
        D("0.00"),
    )
    clv = by_key(table_records(con, "gold", "gold_customer_lifetime_value"), "customer_id")
    # 2 purchases over 45,310 days (1900-01-01 .. 2024-01-19): 0.0000441 rounds to 0.0000
    assert (clv[2]["customer_lifespan_days"], clv[2]["purchase_frequency_score"]) == (
        (date(2024, 1, 19) - date(1900, 1, 1)).days,
        D("0.0000"),
    )


def test_every_gold_table_of_a_run_carries_the_same_creation_stamp(
    e2e: tuple[BuildResult, ibis.BaseBackend],
) -> None:
    result, con = e2e
    stamps = {
        table: {row["_gold_created_at"] for row in table_records(con, "gold", table)}
        for table in (
            "gold_daily_sales_summary",
            "gold_customer_lifetime_value",
            "gold_product_performance",
        )
    }
    assert stamps == {table: {result.started_at} for table in stamps}
