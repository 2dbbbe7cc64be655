"""The testing kit users get: real builds on rows in memory, generated hostile sources, and
the two assertions (conservation, same rows on two engines), each shown able to fail."""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from medallion_ibis.examples import crm_erp, minimal, retail
from medallion_ibis.examples.retail.sources import SALES
from medallion_ibis.model import Pipeline
from medallion_ibis.testing import (
    HOSTILE_TEXT,
    Published,
    assert_conserved,
    assert_same_rows,
    run_pipeline,
    source_rows,
)
from medallion_ibis.testing._strategies import column_kind

SEEDS = Path(__file__).parent.parent / "seeds"
AS_OF = date(2024, 3, 31)


def order(
    order_id: str | None, customer: str | None, amount: str | None, ordered_on: str | None
) -> dict[str, str | None]:
    return {"order_id": order_id, "customer": customer, "amount": amount, "ordered_on": ordered_on}


HOSTILE_ORDERS = [
    *(order("1", text, "1.00", "2024-03-01") for text in HOSTILE_TEXT),
    order("2", "x", "99999999999999999999", "2024-02-30"),
    order("4", "y", "-0.01", "2024-03-01"),
    order(None, None, None, None),
    order(" 3 ", "a\nb", "2.50", "2024-03-02"),
]


def seed_rows(pipeline: Pipeline) -> dict[str, list[dict[str, str]]]:
    """The repository's sample files as the rows a test would hold in memory."""
    rows = {}
    for source in pipeline.sources:
        with (SEEDS / source.path).open(newline="", encoding="utf-8") as handle:
            rows[source.table] = list(csv.DictReader(handle))
    return rows


@pytest.fixture(scope="module")
def hostile_build() -> Published:
    return run_pipeline(minimal.PIPELINE, {minimal.ORDERS.table: HOSTILE_ORDERS}, as_of=AS_OF)


def test_run_pipeline_returns_every_published_table(hostile_build: Published) -> None:
    assert sorted(hostile_build) == [
        "bronze.bronze_orders",
        "gold.gold_daily_revenue",
        "silver.quarantine",
        "silver.silver_orders",
    ]
    assert len(hostile_build["bronze.bronze_orders"]) == len(HOSTILE_ORDERS)
    bronze_text = {row["customer"] for row in hostile_build["bronze.bronze_orders"]}
    assert {"a,b", 'say "cheese"', "two\nlines", "日本語"} <= bronze_text
    [order] = [row for row in hostile_build["silver.silver_orders"] if row["order_id"] == 3]
    assert order["amount"] == Decimal("2.50")


def test_hostile_rows_are_conserved(hostile_build: Published) -> None:
    assert_conserved(hostile_build, minimal.PIPELINE)


@settings(max_examples=5)  # each example is a whole build; the hostile rows above add the rest
@given(orders=source_rows(minimal.ORDERS, max_size=12))
def test_generated_sources_are_conserved(orders: list[dict[str, str | None]]) -> None:
    assert_conserved(
        run_pipeline(minimal.PIPELINE, {minimal.ORDERS.table: orders}, as_of=AS_OF),
        minimal.PIPELINE,
    )


@pytest.mark.parametrize("pipeline", [retail.PIPELINE, crm_erp.PIPELINE], ids=lambda p: p.name)
def test_the_shipped_pipelines_conserve_their_sample_sources(pipeline: Pipeline) -> None:
    assert_conserved(run_pipeline(pipeline, seed_rows(pipeline)), pipeline)


def test_assert_conserved_fails_on_a_lost_or_doubled_row(hostile_build: Published) -> None:
    lost = {**hostile_build, "silver.silver_orders": hostile_build["silver.silver_orders"][1:]}
    with pytest.raises(AssertionError, match="in neither silver nor quarantine"):
        assert_conserved(lost, minimal.PIPELINE)
    kept = hostile_build["silver.silver_orders"][0]
    doubled = {
        **hostile_build,
        "silver.quarantine": [
            *hostile_build["silver.quarantine"],
            {
                "source_table": "bronze_orders",
                **{name: kept[name] for name in ("_source_file", "_batch_id", "_row_number")},
            },
        ],
    }
    with pytest.raises(AssertionError, match="in both"):
        assert_conserved(doubled, minimal.PIPELINE)


def test_assert_same_rows_is_order_free_and_exact_except_for_floats() -> None:
    def table(*rows: tuple[object, object, str]) -> Published:
        return {"t": [{"a": a, "f": f, "_run_id": run} for a, f, run in rows]}

    left = table((Decimal("1.10"), 0.1 + 0.2, "x"), (None, None, "x"))
    assert_same_rows(left, table((None, None, "y"), (Decimal("1.10"), 0.3, "y")))
    with pytest.raises(AssertionError, match="rows differ in a"):
        assert_same_rows(left, table((None, None, "x"), (Decimal("1.11"), 0.3, "x")))
    with pytest.raises(AssertionError, match="rows differ in f"):
        assert_same_rows(left, table((None, None, "x"), (Decimal("1.10"), 0.31, "x")))
    with pytest.raises(AssertionError, match="rows differ in a"):
        assert_same_rows(left, table((None, None, "x"), (1.1, 0.3, "x")))
    with pytest.raises(AssertionError, match="2 rows != 1 rows"):
        assert_same_rows(left, table((None, None, "x")))
    with pytest.raises(AssertionError, match="different tables"):
        assert_same_rows(left, {})


@given(rows=source_rows(SALES, min_size=1, max_size=5))
def test_source_rows_fill_the_declared_columns_with_text_a_csv_can_carry(
    rows: list[dict[str, str | None]],
) -> None:
    for row in rows:
        assert sorted(row) == sorted(SALES.columns)
        for value in row.values():
            assert value is None or ("\x00" not in value and "\r" not in value)


REACHES = settings(max_examples=2000, phases=[phase for phase in Phase if phase != Phase.shrink])
"""``find``'s own search (2,000 examples), without shrinking what it found to the smallest such
example: the test asks only whether one is reached, and shrinking rows of ten columns took
half a minute."""


def test_source_rows_use_overrides_and_reach_hostile_text() -> None:
    overridden = source_rows(SALES, min_size=1, values={"quantity": st.just("seven")})
    find(overridden, lambda rows: any(row["quantity"] == "seven" for row in rows), settings=REACHES)
    find(
        source_rows(SALES),
        lambda rows: any(row["product_name"] == "two\nlines" for row in rows),
        settings=REACHES,
    )


def test_column_kinds_are_guessed_from_names() -> None:
    assert [column_kind(c) for c in ("customer_id", "transaction_date", "unit_price", "name")] == [
        "integer",
        "date",
        "decimal",
        "text",
    ]


@pytest.mark.postgres
def test_duckdb_and_postgres_publish_the_same_rows(hostile_build: Published, pg_url: str) -> None:
    on_postgres = run_pipeline(
        minimal.PIPELINE,
        {minimal.ORDERS.table: HOSTILE_ORDERS},
        backend="postgres",
        pg_url=pg_url,
        as_of=AS_OF,
    )
    assert_same_rows(hostile_build, on_postgres)
