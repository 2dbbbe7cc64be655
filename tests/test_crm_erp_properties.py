"""Invariants of the crm_erp pipeline on generated dirty exports (hypothesis, DuckDB only).

Values are drawn from small pools, so ids collide, keys repeat, dates go missing or turn
impossible and amounts disagree, as in the real exports. The models run through
``CompiledPipeline``: compiled once per module, re-run for every example.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from crm_erp_fixtures import CompiledPipeline
from hypothesis import given
from hypothesis import strategies as st
from stand_ins import Row

from medallion_ibis.examples.crm_erp import PIPELINE
from medallion_ibis.examples.crm_erp.sources import (
    CUSTOMERS,
    ERP_CATEGORIES,
    ERP_CUSTOMERS,
    ERP_LOCATIONS,
    PRODUCTS,
    SALES,
)
from medallion_ibis.testing import Published, assert_conserved

AS_OF = date(2024, 12, 31)
FIRST_DAY = date(2024, 1, 1)
BASE_DAYS = 90
"""Base orders fall in the first quarter; appended "later" orders after it."""
SILVER_OF = {
    CUSTOMERS.table: "customers",
    PRODUCTS.table: "products",
    SALES.table: "sales_clean",
    ERP_CUSTOMERS.table: "erp_customers",
    ERP_LOCATIONS.table: "erp_locations",
    ERP_CATEGORIES.table: "erp_categories",
}
POINT_IN_TIME = ("days_since_prev_order", "prior_order_count", "prior_spend")


@pytest.fixture(scope="module")
def pipeline() -> Iterator[CompiledPipeline]:
    compiled = CompiledPipeline(AS_OF)
    yield compiled
    compiled.close()


# ---------------------------------------------------------------------------------------------
# raw values, dirty ones included

padded = st.sampled_from(["", " ", "  "])


def text(values: list[str]) -> st.SearchStrategy[str]:
    """One of ``values``, sometimes with stray spaces around it."""
    return st.builds(
        lambda v, before, after: before + v + after, st.sampled_from(values), padded, padded
    )


def mostly(good: st.SearchStrategy[str], bad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Three good values to one bad: enough clean rows for the rules to meet each other."""
    return st.one_of(good, good, good, bad)


customer_ids = mostly(text(["1", "2", "3", "4"]), text(["", "x7", "2.0"]))
customer_numbers = st.sampled_from(["1", "2", "3", "4", "5", "9"])
iso_days = st.sampled_from(
    ["2024-01-05", "2024-02-29", "2023-02-29", "", "2024-13-01", "01/02/2024"]
)


def compact(day: date) -> str:
    return day.strftime("%Y%m%d")


base_days = st.integers(0, BASE_DAYS - 1).map(lambda n: compact(FIRST_DAY + timedelta(days=n)))
bad_days = st.sampled_from(["0", "", "2024011", "202401011", "20240230", "32154"])
amounts = st.sampled_from(["", "0", "10", "-10", "25", "100", "12.5", "x"])
quantities = st.sampled_from(["1", "1", "2", "3", "0", "-1", ""])


@st.composite
def customer_rows(draw: st.DrawFn) -> Row:
    return [
        draw(customer_ids),
        draw(customer_numbers.map(lambda n: f"AW{n}")),
        draw(text(["Ann", "Jon", ""])),
        draw(text(["Lee", "Yang", ""])),
        draw(text(["S", "M", "s", "X", ""])),
        draw(text(["F", "M", "f", ""])),
        draw(iso_days),
    ]


@st.composite
def product_rows(draw: st.DrawFn) -> Row:
    return [
        draw(text(["10", "11", "12", "13", "14", "", "1.5"])),
        draw(text(["BI-RB-FR-1", "BI-RB-FR-2", "AC-HE-HL-3", "AB-CD", ""])),
        draw(text(["Frame", "Helmet", ""])),
        draw(amounts),
        draw(text(["M", "R", "S", "T", "X", ""])),
        draw(iso_days),
        draw(iso_days),
    ]


@st.composite
def sales_rows(draw: st.DrawFn, days: st.SearchStrategy[str], orders: list[str]) -> Row:
    return [
        draw(mostly(text(orders), text([""]))),
        draw(mostly(text(["FR-1", "FR-2", "HL-3"]), text(["ZZ-9", ""]))),
        draw(mostly(text(["1", "2", "3"]), text(["5", "99", "", "c1"]))),
        draw(mostly(days, bad_days)),
        draw(mostly(days, bad_days)),
        draw(mostly(days, bad_days)),
        draw(amounts),
        draw(quantities),
        draw(amounts),
    ]


def as_row(values: tuple[str, ...]) -> Row:
    return list(values)


erp_ids = customer_numbers.flatmap(
    lambda n: st.sampled_from([f"AW{n}", f"NASAW{n}", f"AW-{n}", "", "NAS"])
)
erp_people = st.lists(
    st.tuples(erp_ids, iso_days, text(["Female", "Male", "F", "M", "x", ""])).map(as_row),
    max_size=6,
)
erp_places = st.lists(
    st.tuples(erp_ids, text(["DE", "US", "USA", "France", ""])).map(as_row), max_size=6
)
erp_categories = st.lists(
    st.tuples(
        text(["BI_RB", "AC_HE", "AB_CD", ""]), text(["Bikes", ""]), st.just("Sub"), st.just("Yes")
    ).map(as_row),
    max_size=4,
)
BASE_ORDERS = [f"SO{n}" for n in range(1, 7)]


@st.composite
def exports(draw: st.DrawFn) -> dict[str, list[Row]]:
    """One dirty export of all six files."""
    return {
        CUSTOMERS.table: draw(st.lists(customer_rows(), max_size=8)),
        PRODUCTS.table: draw(st.lists(product_rows(), max_size=8)),
        SALES.table: draw(st.lists(sales_rows(base_days, BASE_ORDERS), min_size=2, max_size=14)),
        ERP_CUSTOMERS.table: draw(erp_people),
        ERP_LOCATIONS.table: draw(erp_places),
        ERP_CATEGORIES.table: draw(erp_categories),
    }


# ---------------------------------------------------------------------------------------------
# properties


@given(export=exports())
def test_every_bronze_row_ends_in_exactly_one_of_silver_or_quarantine(
    pipeline: CompiledPipeline, export: dict[str, list[Row]]
) -> None:
    pipeline.build(export)
    quarantine = pipeline.rows("quarantine")
    assert {row["pipeline"] for row in quarantine} <= {"crm_erp"}
    published: Published = {
        f"bronze.{source.table}": pipeline.rows(source.table) for source in PIPELINE.sources
    }
    published |= {f"{m.layer}.{m.name}": pipeline.rows(m.name) for m in PIPELINE.models.values()}
    for source in SILVER_OF:
        lines = list(range(2, len(export[source]) + 2))
        assert sorted(row["_row_number"] for row in published[f"bronze.{source}"]) == lines
    assert_conserved(published, PIPELINE)


@given(export=exports())
def test_fact_has_exactly_one_row_per_silver_sales_line(
    pipeline: CompiledPipeline, export: dict[str, list[Row]]
) -> None:
    pipeline.build(export)
    columns = ("order_number", "line_number", "product_number", "customer_id", "sales_amount")
    lines = Counter(tuple(row[c] for c in columns) for row in pipeline.rows("sales_clean"))
    fact = pipeline.rows("fact_sales")
    assert Counter(tuple(row[c] for c in columns) for row in fact) == lines
    known_customers = {row["customer_id"] for row in pipeline.rows("customers")}
    known_products = {row["product_number"] for row in pipeline.rows("dim_products")}
    for row in fact:
        assert row["is_customer_known"] == (row["customer_id"] in known_customers)
        assert row["is_product_known"] == (row["product_number"] in known_products)
        assert (row["customer_key"] is None) == (not row["is_customer_known"])


@given(
    export=exports(),
    later=st.lists(
        sales_rows(
            st.integers(BASE_DAYS, 2 * BASE_DAYS).map(
                lambda n: compact(FIRST_DAY + timedelta(days=n))
            ),
            ["SL1", "SL2", "SL3"],
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_point_in_time_features_never_look_at_a_later_order(
    pipeline: CompiledPipeline, export: dict[str, list[Row]], later: list[Row]
) -> None:
    """Appending orders dated after every existing one (or not dated at all) leaves the
    existing rows' point-in-time features as they were."""

    def features(rows: dict[str, list[Row]]) -> dict[tuple[Any, Any], tuple[Any, ...]]:
        pipeline.build(rows)
        fact = pipeline.rows("fact_sales")
        return {
            (row["order_number"], row["line_number"]): tuple(row[name] for name in POINT_IN_TIME)
            for row in fact
            if not str(row["order_number"]).startswith("SL")
        }

    before = features(export)
    after = features({**export, SALES.table: [*export[SALES.table], *later]})
    assert after == before
