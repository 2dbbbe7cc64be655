"""Invariants of the retail build on generated raw files, dirty rows included (DuckDB).

- conservation: every bronze row is in silver or in quarantine, never both, never neither;
- revenue: gold's daily revenue adds up to silver's valid revenue, and each customer's lifetime
  value adds up to that customer's valid sales;
- order independence: shuffling the input rows changes no gold row;
- idempotency: building the same files again changes no gold row.

Each example runs full builds, so the data is small, and one example checks the first three
invariants: both of its builds (the files, then the files shuffled) are checked for
conservation and revenue, and compared with each other. The number of examples comes from the
hypothesis profile (HYPOTHESIS_PROFILE = dev / ci / thorough, see conftest.py).
"""

import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
from helpers import build_into, connect, rows
from hypothesis import given
from hypothesis import strategies as st
from retail_fixtures import table_records, write_seeds
from stand_ins import Row

from medallion_ibis.config import Settings
from medallion_ibis.examples.retail import PIPELINE
from medallion_ibis.examples.retail.sources import CUSTOMERS, PRODUCTS, SALES
from medallion_ibis.runner import build as run_build
from medallion_ibis.testing import Published, assert_conserved

AS_OF = date(2024, 3, 31)
INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
SCREENED = {
    SALES.table: "silver_sales_cleaned",
    CUSTOMERS.table: "silver_customers_cleaned",
    PRODUCTS.table: "silver_products_cleaned",
}
GOLD = ("gold_daily_sales_summary", "gold_customer_lifetime_value", "gold_product_performance")

# ---------------------------------------------------------------------------------------------
# raw values, clean and dirty


def either(clean: st.SearchStrategy[str], dirty: Sequence[str]) -> st.SearchStrategy[str]:
    """A field of a dirty row: usually still clean, sometimes broken."""
    return st.one_of(clean, clean, st.sampled_from(dirty))


def key_text(low: int, high: int) -> st.SearchStrategy[str]:
    """An id as exports write it: plain, padded or zero-filled (all the same key)."""
    number = st.integers(low, high)
    return st.one_of(
        number.map(str),
        number.map(str),
        number.map(lambda n: f" {n} "),
        number.map(lambda n: f"00{n}"),
    )


def amount(high: int) -> st.SearchStrategy[str]:
    return st.decimals(min_value=0, max_value=high, places=2).map(str)


BAD_KEYS = ["", "  ", "TX-17", "1.5", "n/a"]
BAD_AMOUNTS = ["-5.00", "abc", "", "1e3", "$3"]
BAD_DAYS = ["2024-02-30", "", "01/15/2024", "2023-02-29", "2024-1-5"]
DAY = st.one_of(st.dates(date(2023, 10, 1), AS_OF).map(date.isoformat), st.just(" 2024-01-05 "))
TEXT = st.one_of(
    st.sampled_from(["New York", " new york ", "CHICAGO", "Chicago, IL", 'Monitor 24"', "é", ""]),
    st.text(alphabet="ab ,\"'é\n", max_size=6),
)
CATEGORY = st.sampled_from(
    ["Electronics", " electronics ", "Furniture", "FURNITURE", "Office, Supplies", 'Say "hi"']
)
QUANTITY = st.sampled_from(["1", "2", "3", "10", " 4 ", "007"])
BAD_QUANTITIES = ["0", "-1", "1.5", "two", ""]
SALES_REP = st.sampled_from(["101", "102", "", "x"])


def sale(dirty: bool) -> st.SearchStrategy[Row]:
    def field(clean: st.SearchStrategy[str], bad: Sequence[str]) -> st.SearchStrategy[str]:
        return either(clean, bad) if dirty else clean

    return st.tuples(
        field(key_text(1, 30), BAD_KEYS),  # transaction_id: a small range, so keys repeat
        field(key_text(1, 8), BAD_KEYS),  # customer_id
        field(key_text(501, 506), BAD_KEYS),  # product_id
        TEXT,  # product_name
        field(CATEGORY, [""]),
        field(QUANTITY, BAD_QUANTITIES),
        field(amount(2000), BAD_AMOUNTS),  # unit_price
        field(DAY, BAD_DAYS),  # transaction_date
        SALES_REP,
        TEXT,  # store_location
    ).map(list)


def customer(dirty: bool) -> st.SearchStrategy[Row]:
    def field(clean: st.SearchStrategy[str], bad: Sequence[str]) -> st.SearchStrategy[str]:
        return either(clean, bad) if dirty else clean

    return st.tuples(
        field(key_text(1, 8), BAD_KEYS),
        field(st.sampled_from(["John", " jOHN ", "mary ann", "o'brien", "Zoë"]), [""]),
        field(st.sampled_from(["Doe", "SMITH", " van dyke "]), [""]),
        field(
            st.sampled_from(["a@b.co", " Jane.Doe@Shop.COM "]),
            ["not-an-email", "a@b", "", "ann@example", "a@b@c"],
        ),
        st.sampled_from(["555-0101", "", " 555 "]),
        field(DAY, BAD_DAYS),  # registration_date
        st.sampled_from(["Premium", " standard ", ""]),
        field(amount(9000), BAD_AMOUNTS),  # credit_limit
    ).map(list)


@st.composite
def product(draw: st.DrawFn, dirty: bool) -> Row:
    cost = draw(st.decimals(min_value=0, max_value=1000, places=2))
    retail = cost + draw(st.decimals(min_value=0, max_value=500, places=2))  # margins can be tiny
    prices = [str(cost), str(retail)]
    if dirty:
        prices = [draw(either(st.just(price), BAD_AMOUNTS)) for price in prices]
        if draw(st.booleans()):
            prices.reverse()  # retail below cost
    stock = st.sampled_from(["0", "5", "10", "11", "25", "200"])
    return [
        draw(either(key_text(501, 506), BAD_KEYS) if dirty else key_text(501, 506)),
        draw(either(TEXT.filter(str.strip), [""]) if dirty else TEXT.filter(str.strip)),
        draw(either(CATEGORY, [""]) if dirty else CATEGORY),
        draw(st.sampled_from(["Computers", " accessories ", ""])),
        draw(st.sampled_from(["TechCorp", "comfortCo", ""])),
        draw(st.sampled_from(["Supplier A", ""])),
        *prices,
        draw(either(stock, ["-3", "lots", ""]) if dirty else stock),
        draw(either(st.sampled_from(["0", "5", "10"]), ["-1", "x", ""]) if dirty else st.just("5")),
    ]


def rows_of(make: Any, *, few: int, many: int) -> st.SearchStrategy[list[Row]]:
    """Mostly clean rows, a third of them dirty; a file is nearly empty or fuller."""
    row = st.one_of(make(False), make(False), make(True))
    return st.one_of(st.lists(row, max_size=few), st.lists(row, min_size=few + 1, max_size=many))


Files = tuple[list[Row], list[Row], list[Row]]
FILES: st.SearchStrategy[Files] = st.tuples(
    rows_of(sale, few=2, many=25),
    rows_of(customer, few=1, many=8),
    rows_of(product, few=1, many=6),
)

# ---------------------------------------------------------------------------------------------
# helpers


def parsed_key(text: str | None) -> int | None:
    """The key as the screening rules read it (trimmed, plain integer), else None."""
    trimmed = (text or "").strip(" ")
    return int(trimmed) if INTEGER.fullmatch(trimmed) else None


def build(files: Files, root: Path) -> ibis.BaseBackend:
    """The retail pipeline built from ``files``. It is handed to the build as loaded, which
    skips checking every installed pipeline over stand-ins first: the same check on the same
    code every example, which the other build tests already make."""
    sales, customers, products = files
    seeds = write_seeds(root / "seeds", sales=sales, customers=customers, products=products)
    path = root / "warehouse.duckdb"
    settings = Settings(pipelines=("retail",), seeds=seeds, as_of=AS_OF, duckdb_path=path)
    assert run_build(settings, pipelines={PIPELINE.name: PIPELINE}).published
    return connect(duckdb_path=path)


def shuffle_keeping_repeats_in_order(rows: Sequence[Row], permutation: Sequence[int]) -> list[Row]:
    """``rows`` in the order ``permutation`` gives, except that records sharing a key keep
    their relative order: "the last record of a key wins" must pick the same record."""
    placed = [rows[index] for index in permutation]
    by_key: dict[int, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        key = parsed_key(row[0])
        if key is not None:
            by_key[key].append(index)
    for key, originals in by_key.items():
        slots = [
            slot for slot, index in enumerate(permutation) if parsed_key(rows[index][0]) == key
        ]
        for slot, original in zip(slots, originals, strict=True):
            placed[slot] = rows[original]
    return placed


def first_lines(written: Sequence[Row]) -> list[int]:
    """The file line each record starts on: the header is line 1, and a value holding line
    breaks pushes every later record down by that many lines."""
    lines, line = [], 2
    for row in written:
        lines.append(line)
        line += 1 + sum((value or "").count("\n") for value in row)
    return lines


def comparable_tables(con: ibis.BaseBackend) -> dict[str, list[tuple[Any, ...]]]:
    """Gold and silver rows without what records the run or the file position."""
    lineage = ("_gold_created_at", "_loaded_at", "_run_id", "_row_number")
    tables = {name: rows(con, "gold", name, drop=lineage) for name in GOLD}
    tables |= {name: rows(con, "silver", name, drop=lineage) for name in SCREENED.values()}
    return tables


# ---------------------------------------------------------------------------------------------
# properties


def published(con: ibis.BaseBackend) -> Published:
    """Every table the retail build published, as the testing kit reads them."""
    tables = [("bronze", source.table) for source in PIPELINE.sources]
    tables += [(model.layer, model.name) for model in PIPELINE.models.values()]
    return {f"{schema}.{name}": table_records(con, schema, name) for schema, name in tables}


def check_conservation(con: ibis.BaseBackend, files: Files) -> None:
    tables = published(con)
    assert {row["pipeline"] for row in tables["silver.quarantine"]} <= {"retail"}
    for bronze_table, written in zip(SCREENED, files, strict=True):
        bronze_lines = sorted(r["_row_number"] for r in tables[f"bronze.{bronze_table}"])
        assert bronze_lines == first_lines(written), bronze_table
    assert_conserved(tables, PIPELINE)


def check_revenue(con: ibis.BaseBackend) -> None:
    sales = [
        row
        for row in table_records(con, "silver", "silver_sales_cleaned")
        if row["is_valid_transaction"]
    ]
    daily = table_records(con, "gold", "gold_daily_sales_summary")
    assert sum((row["total_revenue"] for row in daily), Decimal(0)) == sum(
        (row["total_amount"] for row in sales), Decimal(0)
    )
    assert sum(row["transaction_count"] for row in daily) == len(sales)

    products = {
        row["product_id"]
        for row in table_records(con, "silver", "silver_products_cleaned")
        if row["is_valid_product"]
    }
    product_gold = table_records(con, "gold", "gold_product_performance")
    assert {row["product_id"] for row in product_gold} == products
    assert sum((row["total_revenue"] for row in product_gold), Decimal(0)) == sum(
        (row["total_amount"] for row in sales if row["product_id"] in products), Decimal(0)
    )

    customers = {
        row["customer_id"]
        for row in table_records(con, "silver", "silver_customers_cleaned")
        if row["is_valid_customer"]
    }
    spent: dict[int, Decimal] = defaultdict(Decimal)
    for row in sales:
        spent[row["customer_id"]] += row["total_amount"]
    counts = Counter(row["customer_id"] for row in sales)
    clv = {
        row["customer_id"]: (row["total_spent"], row["current_clv"], row["total_transactions"])
        for row in table_records(con, "gold", "gold_customer_lifetime_value")
    }
    assert clv == {
        customer: (spent[customer], spent[customer], counts[customer])
        for customer in counts
        if customer in customers
    }


def shuffled(data: st.DataObject, rows: Sequence[Row], label: str) -> list[Row]:
    permutation = data.draw(st.permutations(range(len(rows))), label=label)
    return shuffle_keeping_repeats_in_order(rows, permutation)


def checked_build(files: Files, root: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Build ``files``, check conservation and revenue, and return what the shuffle compares."""
    con = build(files, root)
    try:
        check_conservation(con, files)
        check_revenue(con)
        return comparable_tables(con)
    finally:
        con.disconnect()


@given(data=st.data(), files=FILES)
def test_rows_are_kept_once_revenue_adds_up_and_shuffled_rows_give_identical_gold_and_silver(
    data: st.DataObject, files: Files
) -> None:
    sales, customers, products = files
    reordered: Files = (
        shuffled(data, sales, "sales order"),
        shuffled(data, customers, "customers order"),
        shuffled(data, products, "products order"),
    )
    with tempfile.TemporaryDirectory(prefix="medallion-props-") as scratch:
        original = checked_build(files, Path(scratch) / "original")
        assert checked_build(reordered, Path(scratch) / "shuffled") == original


def test_rebuilding_the_same_files_into_the_same_warehouse_changes_no_gold_row(
    tmp_path: Path,
) -> None:
    """Dirty sales against the reference customers and products, built twice."""
    sales: list[Row] = [
        ["1001", "1", "501", "Laptop", "Electronics", "1", "1299.99", "2024-01-15", "101", "NY"],
        ["1002", "2", "502", "Mouse", "Electronics", "2", "29.99", "2024-01-15", "102", "LA"],
        ["1001", "1", "501", "Laptop", "Electronics", "2", "1299.99", "2024-01-16", "101", "NY"],
        ["1003", "", "502", "Mouse", "Electronics", "1", "29.99", "2024-01-17", "102", "LA"],
        ["1004", "3", "503", "Chair", "Furniture", "0", "249.99", "2024-02-30", "101", "NY"],
        ["1005", "3", "503", "Chair", "Furniture", "1", "249.99", "2024-01-18", "101", "NY"],
    ]
    seeds = write_seeds(tmp_path / "seeds", sales=sales)
    path = tmp_path / "warehouse.duckdb"
    snapshots = []
    for _ in range(2):
        assert build_into(seeds, pipelines=["retail"], duckdb_path=path, as_of=AS_OF).published
        con = connect(duckdb_path=path)
        snapshots.append(comparable_tables(con))
        con.disconnect()
    assert snapshots[1] == snapshots[0]
    assert all(snapshots[0][name] for name in GOLD)  # the comparison is not vacuous
