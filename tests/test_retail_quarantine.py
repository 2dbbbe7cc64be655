"""Rows without a usable key never reach silver, and never vanish: they land in quarantine.

Screening rules run on in-memory bronze stand-ins; the "exactly one place" and lineage rules
are checked on a real build of a dirty file.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

import ibis
import pytest
from helpers import build_into, connect
from retail_fixtures import table_records, write_seeds
from stand_ins import Row, bronze, records, run_context

from medallion_ibis.examples.retail import silver
from medallion_ibis.examples.retail.sources import CUSTOMERS, PRODUCTS, SALES
from medallion_ibis.quarantine import QUARANTINE_COLUMNS, REJECT_REASON, REJECT_RULE, KeyScreen
from medallion_ibis.runner import BuildResult

SALES_PATH = "retail/raw_sales.csv"


def sale(
    transaction_id: str, customer_id: str = "1", product_id: str = "501", note: str = ""
) -> Row:
    """A sale whose product name carries ``note``, to tell same-key records apart."""
    return [
        transaction_id,
        customer_id,
        product_id,
        f"Widget {note}".strip(),
        "Gadgets",
        "1",
        "10.00",
        "2024-01-15",
        "101",
        "New York",
    ]


def quarantined_sales(duck: ibis.BaseBackend, rows: Sequence[Row]) -> list[dict[str, Any]]:
    empty_customers = bronze(CUSTOMERS, [])
    empty_products = bronze(PRODUCTS, [])
    expr = silver.quarantine(bronze(SALES, rows), empty_customers, empty_products)
    return sorted(records(duck, expr), key=lambda row: row["_row_number"])


def silver_sales(duck: ibis.BaseBackend, rows: Sequence[Row]) -> list[dict[str, Any]]:
    expr = silver.silver_sales_cleaned(bronze(SALES, rows), run=run_context(date(2024, 1, 31)))
    return sorted(records(duck, expr), key=lambda row: row["_row_number"])


def rule_and_reason(rows: Sequence[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return [(row["_row_number"], row["rule"], row["reason"]) for row in rows]


def test_rows_missing_a_required_key_are_quarantined_as_missing_key(
    duck: ibis.BaseBackend,
) -> None:
    rows = [
        sale("1"),
        sale("", "1", "501"),
        sale("3", "  ", "501"),
        sale("4", "1", ""),
    ]
    assert rule_and_reason(quarantined_sales(duck, rows)) == [
        (3, "missing_key", "transaction_id is missing"),
        (4, "missing_key", "customer_id is missing"),
        (5, "missing_key", "product_id is missing"),
    ]
    assert [row["transaction_id"] for row in silver_sales(duck, rows)] == [1]


def test_rows_whose_key_is_not_an_integer_are_quarantined_as_unparseable_key(
    duck: ibis.BaseBackend,
) -> None:
    rows = [sale("TX-17"), sale("2", "12a"), sale("3", "1", "5.01"), sale("4")]
    assert rule_and_reason(quarantined_sales(duck, rows)) == [
        (2, "unparseable_key", "transaction_id 'TX-17' is not an integer"),
        (3, "unparseable_key", "customer_id '12a' is not an integer"),
        (4, "unparseable_key", "product_id '5.01' is not an integer"),
    ]
    assert [row["transaction_id"] for row in silver_sales(duck, rows)] == [4]


def test_the_last_record_of_a_repeated_key_is_kept_and_the_earlier_ones_quarantined(
    duck: ibis.BaseBackend,
) -> None:
    rows = [
        sale("7", note="first"),  # line 2
        sale("8"),  # line 3
        sale("7", note="second"),  # line 4
        sale("9"),  # line 5
        sale("7", note="last"),  # line 6
    ]
    assert rule_and_reason(quarantined_sales(duck, rows)) == [
        (2, "duplicate_key", "transaction_id 7 is repeated; the record on line 6 is kept"),
        (4, "duplicate_key", "transaction_id 7 is repeated; the record on line 6 is kept"),
    ]
    kept = {row["transaction_id"]: row for row in silver_sales(duck, rows)}
    assert sorted(kept) == [7, 8, 9]
    assert (kept[7]["_row_number"], kept[7]["product_name_clean"]) == (6, "WIDGET LAST")


def test_a_newer_record_with_a_broken_key_does_not_push_out_the_good_one_before_it(
    duck: ibis.BaseBackend,
) -> None:
    rows = [
        sale("7", note="first"),  # line 2
        sale("7", note="good"),  # line 3: the latest usable record of 7
        sale("7", "", note="no customer"),  # line 4: newer, but its customer id is blank
        sale("7", "C-1", note="bad customer"),  # line 5: newer still, customer id unparseable
    ]
    assert rule_and_reason(quarantined_sales(duck, rows)) == [
        (2, "duplicate_key", "transaction_id 7 is repeated; the record on line 3 is kept"),
        (4, "missing_key", "customer_id is missing"),
        (5, "unparseable_key", "customer_id 'C-1' is not an integer"),
    ]
    [kept] = silver_sales(duck, rows)
    assert (kept["transaction_id"], kept["_row_number"], kept["product_name_clean"]) == (
        7,
        3,
        "WIDGET GOOD",
    )


def test_keys_are_compared_as_parsed_integers(duck: ibis.BaseBackend) -> None:
    """' 7', '007' and '+7' are the same transaction as '7' once parsed."""
    rows = [sale(" 7", note="a"), sale("007", note="b"), sale("+7", note="c"), sale("7", note="d")]
    quarantined = quarantined_sales(duck, rows)
    assert [(row["_row_number"], row["rule"]) for row in quarantined] == [
        (2, "duplicate_key"),
        (3, "duplicate_key"),
        (4, "duplicate_key"),
    ]
    assert all(row["reason"].endswith("the record on line 5 is kept") for row in quarantined)
    [kept] = silver_sales(duck, rows)
    assert (kept["transaction_id"], kept["product_name_clean"]) == (7, "WIDGET D")


def test_a_row_breaking_several_rules_is_quarantined_once(duck: ibis.BaseBackend) -> None:
    rows = [sale("TX-1", "", "x"), sale("2")]
    quarantined = quarantined_sales(duck, rows)
    assert [row["_row_number"] for row in quarantined] == [2]
    assert quarantined[0]["rule"] in {"missing_key", "unparseable_key"}


def test_customers_and_products_are_screened_on_their_own_keys(duck: ibis.BaseBackend) -> None:
    customer_rows: list[Row] = [
        ["1", "Ann", "Lee", "a@x.io", "1", "2020-01-01", "S", "1"],
        ["C-2", "Bo", "Chen", "b@x.io", "2", "2020-01-01", "S", "1"],
        ["1", "Ann", "Leigh", "a@x.io", "1", "2020-01-01", "S", "1"],
        ["", "Cy", "Diaz", "c@x.io", "3", "2020-01-01", "S", "1"],
    ]
    product_rows: list[Row] = [
        ["501", "Laptop", "E", "C", "T", "S", "1", "2", "3", "1"],
        ["501", "Laptop v2", "E", "C", "T", "S", "1", "2", "3", "1"],
        ["SKU9", "Mouse", "E", "C", "T", "S", "1", "2", "3", "1"],
    ]
    expr = silver.quarantine(
        bronze(SALES, []), bronze(CUSTOMERS, customer_rows), bronze(PRODUCTS, product_rows)
    )
    screened = sorted(
        (row["source_table"], row["_row_number"], row["rule"], row["reason"])
        for row in records(duck, expr)
    )
    assert screened == [
        (
            "bronze_customers",
            2,
            "duplicate_key",
            "customer_id 1 is repeated; the record on line 4 is kept",
        ),
        ("bronze_customers", 3, "unparseable_key", "customer_id 'C-2' is not an integer"),
        ("bronze_customers", 5, "missing_key", "customer_id is missing"),
        (
            "bronze_products",
            2,
            "duplicate_key",
            "product_id 501 is repeated; the record on line 3 is kept",
        ),
        ("bronze_products", 4, "unparseable_key", "product_id 'SKU9' is not an integer"),
    ]
    customers = records(
        duck,
        silver.silver_customers_cleaned(
            bronze(CUSTOMERS, customer_rows), run=run_context(date(2024, 6, 30))
        ),
    )
    assert [(row["customer_id"], row["last_name_clean"]) for row in customers] == [(1, "Leigh")]
    products = records(duck, silver.silver_products_cleaned(bronze(PRODUCTS, product_rows)))
    assert [(row["product_id"], row["product_name_clean"]) for row in products] == [
        (501, "Laptop V2")
    ]


def later_batch(rows: Sequence[Row], batch_id: int) -> ibis.Table:
    return bronze(SALES, rows, batch_id=batch_id).mutate(
        _source_file=ibis.literal(f"retail/raw_sales_{batch_id}.csv")
    )


def test_a_record_superseded_by_a_later_batch_names_that_batch_and_its_file(
    duck: ibis.BaseBackend,
) -> None:
    """Transactions 7 and 9 are sent again in batches 2 and 3, and 8 twice within batch 1:
    each reason points to its own key's kept record, and to its file and batch only when
    that is another batch."""
    first = bronze(SALES, [sale("7"), sale("8"), sale("8"), sale("9")])
    sales = first.union(later_batch([sale("7")], 2)).union(later_batch([sale("9")], 3))
    expr = silver.quarantine(sales, bronze(CUSTOMERS, []), bronze(PRODUCTS, []))
    quarantined = sorted(records(duck, expr), key=lambda row: row["_row_number"])
    assert [(row["_batch_id"], row["_row_number"], row["reason"]) for row in quarantined] == [
        (
            1,
            2,
            "transaction_id 7 is repeated; the record on line 2 of retail/raw_sales_2.csv "
            "(batch 2) is kept",
        ),
        (1, 3, "transaction_id 8 is repeated; the record on line 4 is kept"),
        (
            1,
            5,
            "transaction_id 9 is repeated; the record on line 2 of retail/raw_sales_3.csv "
            "(batch 3) is kept",
        ),
    ]


def test_accepted_rows_carry_exactly_the_bronze_columns(duck: ibis.BaseBackend) -> None:
    sales = bronze(SALES, [sale("7"), sale("7"), sale("")])
    accepted = silver.SALES_KEYS.accepted(sales)
    assert accepted.columns == sales.columns
    assert [row["_row_number"] for row in records(duck, accepted)] == [3]


def test_a_key_of_several_columns_is_named_with_all_its_values(duck: ibis.BaseBackend) -> None:
    screen = KeyScreen(source_table="lines", required=("order",), integer=(), key=("order", "line"))
    rows = ibis.memtable(
        {
            "order": ["A", "A", "A"],
            "line": ["1", "2", "1"],
            "_batch_id": [1, 1, 1],
            "_row_number": [2, 3, 4],
            "_source_file": ["lines.csv"] * 3,
        }
    )
    classified = records(duck, screen.classify(rows))
    assert [(row["_row_number"], row[REJECT_REASON]) for row in classified if row[REJECT_RULE]] == [
        (2, "order, line A, 1 is repeated; the record on line 4 is kept")
    ]


# ---------------------------------------------------------------------------------------------
# a real build of dirty files

DIRTY_SALES: list[Row] = [
    sale("1001"),  # line 2
    sale("", note="no id"),  # line 3: missing key
    sale("TX-17"),  # line 4: unparseable key
    sale("1004", note="old"),  # line 5: repeated, superseded by line 7
    sale("1005", "abc"),  # line 6: unparseable customer
    sale("1004", note="new"),  # line 7
    [*sale("1008")[:5], "-2", *sale("1008")[6:]],  # line 8: bad quantity: silver, flagged
]
DIRTY_CUSTOMERS: list[Row] = [
    ["1", "John", "Doe", "john@x.io", "555", "2023-12-01", "Premium", "5000.00"],
    ["", "No", "Id", "no@x.io", "555", "2023-12-01", "Premium", "5000.00"],
    ["1", "John", "Doe", "john.doe@x.io", "555", "2023-12-01", "Premium", "5000.00"],
]
DIRTY_PRODUCTS: list[Row] = [
    ["501", "Laptop", "Electronics", "C", "T", "S", "999.99", "1299.99", "25", "5"],
    ["P-2", "Mouse", "Electronics", "C", "T", "S", "19.99", "29.99", "150", "20"],
]
FOREIGN_ROW = {
    "pipeline": "crm_erp",
    "source_table": "crm_cust_info",
    "_source_file": "source_crm/cust_info.csv",
    "_row_number": 2,
    "_row_hash": "0" * 32,
    "rule": "missing_key",
    "reason": "cst_id is missing",
    "_run_id": "another-run",
    "_batch_id": 1,
}


@pytest.fixture(scope="module")
def dirty_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[BuildResult, ibis.BaseBackend]:
    """Two builds of the same dirty files; between them another pipeline's quarantine row is
    added, which the second build must leave alone."""
    root = tmp_path_factory.mktemp("quarantine")
    seeds = write_seeds(
        root / "seeds", sales=DIRTY_SALES, customers=DIRTY_CUSTOMERS, products=DIRTY_PRODUCTS
    )
    path = root / "warehouse.duckdb"
    build_into(seeds, pipelines=["retail"], duckdb_path=path)
    con = connect(duckdb_path=path)
    con.insert("quarantine", ibis.memtable([FOREIGN_ROW]), database="silver")
    con.disconnect()
    result = build_into(seeds, pipelines=["retail"], duckdb_path=path)
    return result, connect(duckdb_path=path)


SCREENED = {
    "bronze_sales": "silver_sales_cleaned",
    "bronze_customers": "silver_customers_cleaned",
    "bronze_products": "silver_products_cleaned",
}


@pytest.mark.parametrize("source_table", list(SCREENED))
def test_every_bronze_row_is_in_exactly_one_of_silver_and_quarantine(
    dirty_build: tuple[BuildResult, ibis.BaseBackend], source_table: str
) -> None:
    _, con = dirty_build
    bronze_lines = sorted(row["_row_number"] for row in table_records(con, "bronze", source_table))
    silver_lines = [
        row["_row_number"] for row in table_records(con, "silver", SCREENED[source_table])
    ]
    quarantined_lines = [
        row["_row_number"]
        for row in table_records(con, "silver", "quarantine")
        if row["pipeline"] == "retail" and row["source_table"] == source_table
    ]
    assert sorted(silver_lines + quarantined_lines) == bronze_lines
    assert bronze_lines == list(range(2, 2 + len(bronze_lines)))


def test_the_dirty_files_quarantine_exactly_the_rows_with_key_problems(
    dirty_build: tuple[BuildResult, ibis.BaseBackend],
) -> None:
    _, con = dirty_build
    quarantined = sorted(
        (row["source_table"], row["_row_number"], row["rule"])
        for row in table_records(con, "silver", "quarantine")
        if row["pipeline"] == "retail"
    )
    assert quarantined == [
        ("bronze_customers", 2, "duplicate_key"),
        ("bronze_customers", 3, "missing_key"),
        ("bronze_products", 3, "unparseable_key"),
        ("bronze_sales", 3, "missing_key"),
        ("bronze_sales", 4, "unparseable_key"),
        ("bronze_sales", 5, "duplicate_key"),
        ("bronze_sales", 6, "unparseable_key"),
    ]


def test_quarantine_rows_carry_their_bronze_lineage(
    dirty_build: tuple[BuildResult, ibis.BaseBackend],
) -> None:
    result, con = dirty_build
    table = con.table("quarantine", database="silver")
    assert tuple(table.columns) == QUARANTINE_COLUMNS
    bronze_rows = {
        (source, row["_row_number"]): row
        for source in SCREENED
        for row in table_records(con, "bronze", source)
    }
    for row in table_records(con, "silver", "quarantine"):
        if row["pipeline"] != "retail":
            continue
        origin = bronze_rows[(row["source_table"], row["_row_number"])]
        # The run that loaded the bronze line: the second build loaded nothing new.
        assert origin["_run_id"] != result.run_id
        assert (row["_source_file"], row["_row_hash"], row["_run_id"], row["_batch_id"]) == (
            origin["_source_file"],
            origin["_row_hash"],
            origin["_run_id"],
            origin["_batch_id"],
        )
        assert row["reason"]


def test_a_superseded_sale_names_the_line_that_was_kept(
    dirty_build: tuple[BuildResult, ibis.BaseBackend],
) -> None:
    _, con = dirty_build
    reasons = {
        row["_row_number"]: row["reason"]
        for row in table_records(con, "silver", "quarantine")
        if row["source_table"] == "bronze_sales"
    }
    assert reasons[5] == "transaction_id 1004 is repeated; the record on line 7 is kept"
    kept = {
        row["transaction_id"]: row for row in table_records(con, "silver", "silver_sales_cleaned")
    }
    assert (kept[1004]["_row_number"], kept[1004]["product_name_clean"]) == (7, "WIDGET NEW")
    assert (kept[1008]["quantity_valid"], kept[1008]["is_valid_transaction"]) == (None, False)


def test_a_rebuild_replaces_only_its_own_pipelines_quarantine_rows(
    dirty_build: tuple[BuildResult, ibis.BaseBackend],
) -> None:
    _, con = dirty_build
    rows = table_records(con, "silver", "quarantine")
    assert [row for row in rows if row["pipeline"] != "retail"] == [FOREIGN_ROW]
    # Both builds quarantined the same 7 lines: the second replaced the first's rows.
    retail_lines = {
        (row["source_table"], row["_batch_id"], row["_row_number"])
        for row in rows
        if row["pipeline"] == "retail"
    }
    assert len(retail_lines) == sum(row["pipeline"] == "retail" for row in rows) == 7
