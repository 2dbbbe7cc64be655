"""crm_erp silver and gold rules, one at a time, on tiny hand-written inputs.

The tests feed in-memory bronze tables straight into the model functions and run them on an
in-memory DuckDB (parity with PostgreSQL is test_crm_erp_build's job). Every expected value is
worked out by hand in the test, boundaries included.
"""

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pytest
from crm_erp_fixtures import CompiledPipeline
from stand_ins import Row, bronze, by_key, records, row_hash, run_context

from medallion_ibis.examples.crm_erp import PIPELINE, gold, silver
from medallion_ibis.examples.crm_erp.sources import (
    CUSTOMERS,
    ERP_CATEGORIES,
    ERP_CUSTOMERS,
    ERP_LOCATIONS,
    PRODUCTS,
    SALES,
)

D = Decimal
AS_OF = date(2024, 6, 30)


class Duck:
    """An in-memory DuckDB for rules on a table, and the crm_erp models over raw rows
    (compiled once per as-of date, see ``CompiledPipeline``)."""

    def __init__(self, con: ibis.BaseBackend) -> None:
        self.con = con
        self.compiled: dict[date, CompiledPipeline] = {}

    def build(self, raw: "Raw") -> CompiledPipeline:
        if raw.as_of not in self.compiled:
            self.compiled[raw.as_of] = CompiledPipeline(raw.as_of)
        built = self.compiled[raw.as_of]
        built.build(raw.rows())
        return built

    def close(self) -> None:
        for built in self.compiled.values():
            built.close()
        self.con.disconnect()


@pytest.fixture(scope="module")
def duck() -> Iterator[Duck]:
    duck = Duck(ibis.duckdb.connect())
    yield duck
    duck.close()


# ---------------------------------------------------------------------------------------------
# raw rows, in the column order of the source files


def customer(
    cst_id: str,
    *,
    key: str | None = None,
    first: str = "Ann",
    last: str = "Lee",
    marital: str = "S",
    gender: str = "F",
    created: str = "2024-01-01",
) -> Row:
    number = f"AW{cst_id.strip()}" if key is None else key
    return [cst_id, number, first, last, marital, gender, created]


def product(
    prd_id: str,
    key: str = "BI-RB-FR-1",
    *,
    name: str = "Road Frame",
    cost: str = "100",
    line: str = "R",
    start: str = "2020-01-01",
    end: str = "",
) -> Row:
    return [prd_id, key, name, cost, line, start, end]


def sale(
    order: str,
    product_number: str = "FR-1",
    customer_id: str = "1",
    *,
    ordered: str = "20240115",
    shipped: str = "20240122",
    due: str = "20240127",
    sales: str = "100",
    quantity: str = "1",
    price: str = "100",
) -> Row:
    return [order, product_number, customer_id, ordered, shipped, due, sales, quantity, price]


def erp_person(cid: str, birthdate: str = "1980-05-17", gender: str = "Female") -> Row:
    return [cid, birthdate, gender]


def erp_place(cid: str, country: str = "Germany") -> Row:
    return [cid, country]


def erp_category(
    category_id: str = "BI_RB",
    category: str = "Bikes",
    subcategory: str = "Road Bikes",
    maintenance: str = "Yes",
) -> Row:
    return [category_id, category, subcategory, maintenance]


# ---------------------------------------------------------------------------------------------
# the models over raw rows, as lazy expressions


@dataclass
class Raw:
    """Raw rows of each source (a source not given is empty) and the as-of date."""

    customers: Sequence[Row] = ()
    products: Sequence[Row] = ()
    sales: Sequence[Row] = ()
    people: Sequence[Row] = ()
    places: Sequence[Row] = ()
    categories: Sequence[Row] = field(default_factory=lambda: [erp_category()])
    as_of: date = AS_OF

    def rows(self) -> dict[str, Sequence[Row]]:
        return {
            CUSTOMERS.table: self.customers,
            PRODUCTS.table: self.products,
            SALES.table: self.sales,
            ERP_CUSTOMERS.table: self.people,
            ERP_LOCATIONS.table: self.places,
            ERP_CATEGORIES.table: self.categories,
        }


def table(duck: Duck, raw: Raw, name: str) -> list[dict[str, Any]]:
    return duck.build(raw).rows(name)


def quarantined(duck: Duck, raw: Raw, source_table: str) -> dict[int, tuple[str, str]]:
    """Quarantined rows of one source: line → (rule, reason)."""
    rows = [row for row in table(duck, raw, "quarantine") if row["source_table"] == source_table]
    return {row["_row_number"]: (row["rule"], row["reason"]) for row in rows}


def apply_rule(
    duck: Duck,
    columns: dict[str, list[Any]],
    schema: dict[str, str],
    rule: Callable[[ir.Table], ir.Value],
) -> list[Any]:
    """``rule`` evaluated on each row of a table holding ``columns``, in row order."""
    count = len(next(iter(columns.values())))
    t = ibis.memtable({"i": list(range(count)), **columns}, schema={"i": "int64", **schema})
    return [row["out"] for row in records(duck.con, t.select("i", out=rule(t)).order_by("i"))]


def key_of(natural_key: str) -> str:
    return hashlib.md5(natural_key.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# customers


def test_latest_record_per_customer_wins_by_create_date_then_file_position(
    duck: Duck,
) -> None:
    raw = Raw(
        customers=[
            customer("1", first="Old", created="2024-01-01"),  # line 2
            customer("1", first="New", created="2024-03-01"),  # line 3: latest date
            customer("1", first="Undated", created=""),  # line 4
            customer("2", first="First", created="2024-02-02"),  # line 5
            customer("2", first="Second", created="2024-02-02"),  # line 6: same date, later
            customer("3", first="Impossible", created="2024-02-30"),  # line 7: not a date
            customer("3", first="Dated", created="2023-12-31"),  # line 8
        ]
    )
    kept = by_key(table(duck, raw, "customers"), "customer_id")
    assert {cid: row["first_name"] for cid, row in kept.items()} == {
        1: "New",
        2: "Second",
        3: "Dated",
    }
    assert {cid: row["_row_number"] for cid, row in kept.items()} == {1: 3, 2: 6, 3: 8}
    assert kept[1]["create_date"] == date(2024, 3, 1)
    assert quarantined(duck, raw, CUSTOMERS.table) == {
        2: ("duplicate_key", "cst_id 1 is repeated; the record on line 3 is kept"),
        4: ("duplicate_key", "cst_id 1 is repeated; the record on line 3 is kept"),
        5: ("duplicate_key", "cst_id 2 is repeated; the record on line 6 is kept"),
        7: ("duplicate_key", "cst_id 3 is repeated; the record on line 8 is kept"),
    }


def test_customer_rows_without_a_usable_id_go_to_quarantine(duck: Duck) -> None:
    raw = Raw(
        customers=[
            customer("", key="SF566"),
            customer("   ", key="PO25"),
            customer("12a"),
            customer(" 7 "),
        ]
    )
    assert [row["customer_id"] for row in table(duck, raw, "customers")] == [7]
    assert quarantined(duck, raw, CUSTOMERS.table) == {
        2: ("missing_key", "cst_id is missing"),
        3: ("missing_key", "cst_id is missing"),
        4: ("unparseable_key", "cst_id '12a' is not an integer"),
    }


def test_names_are_trimmed_and_blank_names_are_null(duck: Duck) -> None:
    raw = Raw(
        customers=[
            customer("1", first=" Jon", last="Yang "),
            customer("2", first="  Mary Ann  ", last="  de la Cruz"),
            customer("3", first="   ", last=""),
        ]
    )
    kept = by_key(table(duck, raw, "customers"), "customer_id")
    assert [(kept[i]["first_name"], kept[i]["last_name"]) for i in (1, 2, 3)] == [
        ("Jon", "Yang"),
        ("Mary Ann", "de la Cruz"),
        (None, None),
    ]


def test_marital_status_codes_decode_else_not_available(duck: Duck) -> None:
    codes = {"S": "Single", "M": "Married", " m ": "Married", "s": "Single", "X": "n/a", "": "n/a"}
    raw = Raw(customers=[customer(str(i), marital=c) for i, c in enumerate(codes, start=1)])
    kept = by_key(table(duck, raw, "customers"), "customer_id")
    assert [kept[i]["marital_status"] for i in range(1, 7)] == list(codes.values())


def test_crm_gender_wins_unless_not_available_then_the_erp_gender(
    duck: Duck,
) -> None:
    cases: list[tuple[str, str | None, str]] = [
        ("F", "Male", "Female"),  # the CRM wins
        ("M", "", "Male"),
        ("", "Female", "Female"),  # the CRM has none: the ERP's, normalised
        ("", "F", "Female"),
        ("", " m ", "Male"),
        ("", "MALE", "Male"),
        ("", "", "n/a"),
        ("X", "unknown", "n/a"),
        ("", None, "n/a"),  # no ERP record at all
        (" f ", None, "Female"),
    ]
    raw = Raw(
        customers=[customer(str(i), gender=crm) for i, (crm, _, _) in enumerate(cases, start=1)],
        people=[
            erp_person(f"AW{i}", gender=erp)
            for i, (_, erp, _) in enumerate(cases, start=1)
            if erp is not None
        ],
    )
    kept = by_key(table(duck, raw, "customers"), "customer_id")
    assert [kept[i]["gender"] for i in range(1, len(cases) + 1)] == [
        expected for _, _, expected in cases
    ]


def test_the_erp_lookup_publishes_each_gender_normalised_else_not_available(
    duck: Duck,
) -> None:
    genders = {
        "Female": "Female",
        " f ": "Female",
        "MALE": "Male",
        "m": "Male",
        "x": "n/a",
        "": "n/a",
    }
    raw = Raw(people=[erp_person(f"AW{i}", gender=g) for i, g in enumerate(genders, start=1)])
    people = by_key(table(duck, raw, "erp_customers"), "customer_number")
    assert [people[f"AW{i}"]["gender"] for i in range(1, 7)] == list(genders.values())


def test_erp_ids_match_without_nas_prefix_and_dashes(duck: Duck) -> None:
    raw = Raw(
        customers=[customer("11000", key="AW00011000"), customer("11001", key=" AW00011001 ")],
        people=[erp_person("NASAW00011000", "1971-10-06"), erp_person("AW00011001", "1976-05-10")],
        places=[erp_place("AW-00011000", "Australia"), erp_place("AW00011001", "France")],
    )
    kept = by_key(table(duck, raw, "customers"), "customer_id")
    assert [(kept[i]["birthdate"], kept[i]["country"]) for i in (11000, 11001)] == [
        (date(1971, 10, 6), "Australia"),
        (date(1976, 5, 10), "France"),
    ]
    assert kept[11001]["customer_number"] == "AW00011001"


def test_birthdate_after_the_as_of_date_becomes_null(duck: Duck) -> None:
    birthdates = {
        "2024-06-30": date(2024, 6, 30),  # the as-of date itself is kept
        "2024-07-01": None,
        "2050-07-06": None,
        "1916-02-10": date(1916, 2, 10),
        "1980-02-30": None,
        "": None,
    }
    raw = Raw(
        customers=[customer(str(i)) for i in range(1, 7)],
        people=[erp_person(f"AW{i}", b) for i, b in enumerate(birthdates, start=1)],
    )
    kept = by_key(table(duck, raw, "customers"), "customer_id")
    assert [kept[i]["birthdate"] for i in range(1, 7)] == list(birthdates.values())


def test_country_codes_become_names_and_blank_is_not_available(duck: Duck) -> None:
    countries: dict[str | None, str] = {
        "DE": "Germany",
        " de ": "Germany",
        "US": "United States",
        "USA": "United States",
        "United States": "United States",
        "France ": "France",
        "": "n/a",
        "   ": "n/a",
        None: "n/a",  # no ERP record at all
    }
    raw = Raw(
        customers=[customer(str(i)) for i in range(1, len(countries) + 1)],
        places=[erp_place(f"AW-{i}", c) for i, c in enumerate(countries, start=1) if c is not None],
    )
    kept = by_key(table(duck, raw, "customers"), "customer_id")
    assert [kept[i]["country"] for i in range(1, len(countries) + 1)] == list(countries.values())


def test_the_erp_lookup_publishes_each_country_named_else_not_available(duck: Duck) -> None:
    countries = {
        "DE": "Germany",
        "usa": "United States",
        " France ": "France",
        "": "n/a",
        " ": "n/a",
    }
    raw = Raw(places=[erp_place(f"AW{i}", c) for i, c in enumerate(countries, start=1)])
    places = by_key(table(duck, raw, "erp_locations"), "customer_number")
    assert [places[f"AW{i}"]["country"] for i in range(1, 6)] == list(countries.values())


def test_erp_rows_without_or_with_repeated_ids_go_to_quarantine_unmatched_ones_stay(
    duck: Duck,
) -> None:
    raw = Raw(
        customers=[customer("1")],
        people=[
            erp_person("NASAW1", "1970-01-01"),  # line 2: the same customer as line 3
            erp_person("AW1", "1980-01-01"),  # line 3: later in the file, kept
            erp_person("", "1990-01-01"),  # line 4
            erp_person("NAS", "1990-01-01"),  # line 5: nothing after the prefix
            erp_person("AW999", "1990-01-01"),  # line 6: no such CRM customer
        ],
        places=[erp_place("AW-1", "France"), erp_place(" ", "Canada")],
    )
    assert table(duck, raw, "customers")[0]["birthdate"] == date(1980, 1, 1)
    lookup = by_key(table(duck, raw, "erp_customers"), "customer_number")
    assert {number: row["_row_number"] for number, row in lookup.items()} == {"AW1": 3, "AW999": 6}
    assert quarantined(duck, raw, ERP_CUSTOMERS.table) == {
        2: ("duplicate_key", "CID AW1 is repeated; the record on line 3 is kept"),
        4: ("missing_key", "CID is missing"),
        5: ("missing_key", "CID is missing"),
    }
    assert quarantined(duck, raw, ERP_LOCATIONS.table) == {3: ("missing_key", "CID is missing")}


# ---------------------------------------------------------------------------------------------
# products


def test_prd_key_splits_into_category_id_and_product_number(duck: Duck) -> None:
    keys = {
        "CO-RF-FR-R92B-58": ("CO_RF", "FR-R92B-58"),
        " AC-HE-HL-U509-R ": ("AC_HE", "HL-U509-R"),
        "AB-CD-": ("AB_CD", None),
        "AB-CD": ("AB_CD", None),
    }
    raw = Raw(products=[product(str(i), k) for i, k in enumerate(keys, start=1)])
    kept = by_key(table(duck, raw, "products"), "product_id")
    assert [(kept[i]["category_id"], kept[i]["product_number"]) for i in range(1, 5)] == list(
        keys.values()
    )


def test_missing_unreadable_or_negative_cost_counts_as_zero(duck: Duck) -> None:
    costs = {
        "12": D("12.00"),
        " 12.345 ": D("12.35"),
        "0.50": D("0.50"),  # below one unit, still a cost
        "0": D("0.00"),
        "": D("0.00"),
        "-5": D("0.00"),
        "n/a": D("0.00"),
    }
    raw = Raw(
        products=[product(str(i), f"BI-RB-P{i}", cost=c) for i, c in enumerate(costs, start=1)]
    )
    kept = by_key(table(duck, raw, "products"), "product_id")
    assert [kept[i]["product_cost"] for i in range(1, len(costs) + 1)] == list(costs.values())


def test_product_line_codes_decode_else_not_available(duck: Duck) -> None:
    lines = {
        "M": "Mountain",
        "R ": "Road",
        "s": "Other Sales",
        "T": "Touring",
        "X": "n/a",
        "": "n/a",
    }
    raw = Raw(
        products=[product(str(i), f"BI-RB-P{i}", line=c) for i, c in enumerate(lines, start=1)]
    )
    kept = by_key(table(duck, raw, "products"), "product_id")
    assert [kept[i]["product_line"] for i in range(1, 7)] == list(lines.values())


def test_a_version_ends_the_day_before_the_next_start_of_its_product(
    duck: Duck,
) -> None:
    raw = Raw(
        products=[
            # three versions; the source's own end dates are ignored
            product("12", "BI-RB-FR-1", start="2013-07-01"),
            product("10", "BI-RB-FR-1", start="2011-07-01", end="2007-12-28"),
            product("11", "BI-RB-FR-1", start="2012-07-01", end="2008-12-27"),
            # the two latest versions share a start date: both end never
            product("20", "BI-RB-FR-2", start="2020-01-01"),
            product("21", "BI-RB-FR-2", start="2020-01-01"),
            product("22", "BI-RB-FR-2", start="2019-01-01"),
            # an undated version is the oldest (and a leap day precedes 1 March 2020)
            product("30", "BI-RB-FR-3", start=""),
            product("31", "BI-RB-FR-3", start="2020-03-01"),
            # only undated versions, or no product number: never end
            product("40", "BI-RB-FR-4", start="not a date"),
            product("50", "AB-CD", start="2020-01-01"),
            product("51", "AB-CD", start="2021-01-01"),
        ]
    )
    kept = by_key(table(duck, raw, "products"), "product_id")
    validity = {pid: (row["end_date"], row["is_current"]) for pid, row in kept.items()}
    assert validity == {
        10: (date(2012, 6, 30), False),
        11: (date(2013, 6, 30), False),
        12: (None, True),
        20: (None, True),
        21: (None, True),
        22: (date(2019, 12, 31), False),
        30: (date(2020, 2, 29), False),
        31: (None, True),
        40: (None, True),
        50: (None, True),
        51: (None, True),
    }
    assert kept[30]["start_date"] is None
    assert kept[10]["start_date"] == date(2011, 7, 1)


def test_categories_come_from_the_erp_by_category_id(duck: Duck) -> None:
    raw = Raw(
        products=[product("1", "BI-RB-FR-1"), product("2", "ZZ-ZZ-FR-2")],
        categories=[erp_category("BI_RB", " Bikes ", "Road Bikes", "Yes")],
    )
    kept = by_key(table(duck, raw, "products"), "product_id")
    described = {
        pid: (row["category"], row["subcategory"], row["maintenance"]) for pid, row in kept.items()
    }
    assert described == {1: ("Bikes", "Road Bikes", "Yes"), 2: (None, None, None)}


def test_product_rows_without_a_usable_id_or_key_go_to_quarantine(
    duck: Duck,
) -> None:
    raw = Raw(
        products=[
            product("", "BI-RB-FR-1"),  # line 2
            product("1.5", "BI-RB-FR-1"),  # line 3
            product("7", " "),  # line 4
            product("8", "BI-RB-FR-1", name="first"),  # line 5
            product("8", "BI-RB-FR-1", name="second"),  # line 6
        ]
    )
    kept = table(duck, raw, "products")
    assert [(row["product_id"], row["product_name"]) for row in kept] == [(8, "second")]
    assert quarantined(duck, raw, PRODUCTS.table) == {
        2: ("missing_key", "prd_id is missing"),
        3: ("unparseable_key", "prd_id '1.5' is not an integer"),
        4: ("missing_key", "prd_key is missing"),
        5: ("duplicate_key", "prd_id 8 is repeated; the record on line 6 is kept"),
    }


# ---------------------------------------------------------------------------------------------
# sales_clean


def sales_by_order(duck: Duck, rows: Sequence[Row]) -> dict[str, dict[str, Any]]:
    return by_key(table(duck, Raw(sales=rows), "sales_clean"), "order_number")


def test_yyyymmdd_integers_become_dates_else_null(duck: Duck) -> None:
    days = {
        "20240229": date(2024, 2, 29),
        " 20240115 ": date(2024, 1, 15),
        "20230229": None,  # not a leap year
        "20241301": None,
        "0": None,
        "2024011": None,  # seven digits
        "202401011": None,  # nine digits
        "32154": None,
        "": None,
    }
    rows = [sale(f"SO{i}", ordered=d, shipped=d, due=d) for i, d in enumerate(days, start=1)]
    result = sales_by_order(duck, rows)
    for i, expected in enumerate(days.values(), start=1):
        line = result[f"SO{i}"]
        assert (line["order_date"], line["ship_date"], line["due_date"]) == (expected,) * 3


def test_sales_are_recomputed_when_untrusted_and_price_derived_when_missing(
    duck: Duck,
) -> None:
    # (sls_sales, sls_quantity, sls_price) → (sales_amount, quantity, price)
    cases: list[tuple[tuple[str, str, str], tuple[D | None, int | None, D | None]]] = [
        (("100", "2", "50"), (D("100.00"), 2, D("50.00"))),  # consistent: kept
        (("", "2", "50"), (D("100.00"), 2, D("50.00"))),  # missing
        (("-100", "2", "50"), (D("100.00"), 2, D("50.00"))),  # negative
        (("0", "2", "50"), (D("100.00"), 2, D("50.00"))),  # zero
        (("90", "2", "50"), (D("100.00"), 2, D("50.00"))),  # inconsistent
        (("100", "2", ""), (D("100.00"), 2, D("50.00"))),  # price missing: 100 / 2
        (("100", "2", "-50"), (D("100.00"), 2, D("50.00"))),  # 2 × |-50|; price 100 / 2
        (("90", "2", "-50"), (D("100.00"), 2, D("50.00"))),  # both
        (("100", "2", "0"), (D("100.00"), 2, D("50.00"))),  # a zero price says nothing
        (("", "2", "0"), (D("0.00"), 2, D("0.00"))),
        (("", "2", ""), (None, 2, None)),
        (("0", "2", ""), (None, 2, None)),  # zero sales, no price: nothing to recompute from
        (("100", "0", "50"), (D("100.00"), None, D("50.00"))),  # quantity unknown: kept
        (("-5", "", "50"), (None, None, D("50.00"))),
        (("100", "", ""), (D("100.00"), None, None)),
        (("10", "3", ""), (D("10.00"), 3, D("3.33"))),
        (("20", "3", ""), (D("20.00"), 3, D("6.67"))),
        (("", "3", "2.5"), (D("7.50"), 3, D("2.50"))),
        (("0.5", "1", ""), (D("0.50"), 1, D("0.50"))),  # below one unit: still kept
        (("10", "", "0.5"), (D("10.00"), None, D("0.50"))),  # a price below one unit is kept
    ]
    rows = [
        sale(f"SO{i}", sales=s, quantity=q, price=p)
        for i, ((s, q, p), _) in enumerate(cases, start=1)
    ]
    result = sales_by_order(duck, rows)
    found = [
        (result[f"SO{i}"]["sales_amount"], result[f"SO{i}"]["quantity"], result[f"SO{i}"]["price"])
        for i in range(1, len(cases) + 1)
    ]
    assert found == [expected for _, expected in cases]


def test_an_order_date_after_the_latest_possible_date_becomes_null_and_flagged(
    duck: Duck,
) -> None:
    latest = run_context(AS_OF).latest_possible_date  # the build's day and one of grace
    ordered = {
        "SO1": latest.strftime("%Y%m%d"),
        "SO2": (latest + timedelta(days=1)).strftime("%Y%m%d"),
        "SO3": "99991231",
        "SO4": "0",  # no date at all: not future-dated
    }
    result = sales_by_order(duck, [sale(order, ordered=day) for order, day in ordered.items()])
    assert {
        order: (row["order_date"], row["is_future_dated"]) for order, row in result.items()
    } == {
        "SO1": (latest, False),
        "SO2": (None, True),
        "SO3": (None, True),
        "SO4": (None, False),
    }


def test_an_orders_lines_are_numbered_by_batch_then_line_in_its_file(duck: Duck) -> None:
    loaded = ibis.memtable(
        {
            "order_number": ["SO1", "SO1", "SO1", "SO2"],
            "_batch_id": [2, 1, 1, 1],
            "_row_number": [2, 9, 3, 4],
        },
        schema={"order_number": "string", "_batch_id": "int64", "_row_number": "int64"},
    )
    numbered = records(duck.con, silver.numbered_lines(loaded))
    assert sorted(
        (r["order_number"], r["_batch_id"], r["_row_number"], r["line_number"]) for r in numbered
    ) == [
        ("SO1", 1, 3, 1),
        ("SO1", 1, 9, 2),
        ("SO1", 2, 2, 3),
        ("SO2", 1, 4, 1),
    ]


def test_order_after_ship_or_due_is_flagged(duck: Duck) -> None:
    cases = [
        (("20240110", "20240110", "20240110"), False),  # the same day is in order
        (("20240111", "20240110", "20240120"), True),  # after the ship date
        (("20240111", "20240112", "20240110"), True),  # after the due date
        (("0", "20240101", "20240101"), False),  # unknown order date: no evidence
        (("20240111", "0", "20240120"), False),
        (("20240111", "0", "20240110"), True),
    ]
    rows = [
        sale(f"SO{i}", ordered=o, shipped=s, due=d)
        for i, ((o, s, d), _) in enumerate(cases, start=1)
    ]
    result = sales_by_order(duck, rows)
    assert [result[f"SO{i}"]["dates_out_of_order"] for i in range(1, 7)] == [
        flag for _, flag in cases
    ]


def test_sales_lines_without_ids_or_repeated_verbatim_go_to_quarantine(
    duck: Duck,
) -> None:
    line = sale("SO1", "FR-1")
    raw = Raw(
        sales=[
            line,  # line 2
            line,  # line 3: the same line re-sent
            sale("SO1", "FR-1", quantity="2", sales="200"),  # line 4: another line, kept
            sale("", "FR-1"),  # line 5
            sale("SO2", " "),  # line 6
            sale("SO3", customer_id=""),  # line 7
            sale("SO4", customer_id="C9"),  # line 8
            sale("SO5", "FR-2", "99999"),  # line 9: unknown ids stay
        ]
    )
    kept = table(duck, raw, "sales_clean")
    assert sorted((r["order_number"], r["line_number"], r["_row_number"]) for r in kept) == [
        ("SO1", 1, 3),
        ("SO1", 2, 4),
        ("SO5", 1, 9),
    ]
    assert quarantined(duck, raw, SALES.table) == {
        2: (
            "duplicate_key",
            f"_row_hash {row_hash(line)} is repeated; the record on line 3 is kept",
        ),
        5: ("missing_key", "sls_ord_num is missing"),
        6: ("missing_key", "sls_prd_key is missing"),
        7: ("missing_key", "sls_cust_id is missing"),
        8: ("unparseable_key", "sls_cust_id 'C9' is not an integer"),
    }


def test_default_as_of_is_the_latest_valid_order_date() -> None:
    rows = [
        sale("SO1", ordered="20240110"),
        sale("SO2", ordered="20240301"),
        sale("SO3", ordered="0"),
        sale("SO4", ordered="20240230"),
        sale("SO5", ordered="202412311"),
        sale("", ordered="20241231"),  # quarantined: no order number
    ]
    assert PIPELINE.default_as_of is not None
    rule = PIPELINE.default_as_of
    sales = PIPELINE.models[rule.model].build(
        {SALES.table: bronze(SALES, rows)}, lambda: run_context(date(2099, 1, 1))
    )
    found = rule.latest(sales).execute()
    assert (found.date() if isinstance(found, datetime) else found) == date(2024, 3, 1)


# ---------------------------------------------------------------------------------------------
# dimensions


def test_dim_customers_key_is_the_md5_of_the_customer_id(duck: Duck) -> None:
    alone = table(duck, Raw(customers=[customer("11000")]), "dim_customers")
    crowded = table(
        duck, Raw(customers=[customer("9"), customer("11000"), customer("12")]), "dim_customers"
    )
    assert alone[0]["customer_key"] == key_of("11000") == "33d6548e48d4318c"
    assert by_key(crowded, "customer_id")[11000]["customer_key"] == key_of("11000")


def test_dim_products_has_the_current_version_of_each_product_number(
    duck: Duck,
) -> None:
    raw = Raw(
        products=[
            product("10", "BI-RB-FR-1", name="old", start="2011-07-01"),
            product("12", "BI-RB-FR-1", name="current", start="2013-07-01"),
            product("11", "BI-RB-FR-1", name="middle", start="2012-07-01"),
            product("20", "BI-RB-FR-2", name="tie, lower id", start="2020-01-01"),
            product("21", "BI-RB-FR-2", name="tie, higher id", start="2020-01-01"),
            product("30", "BI-RB-FR-3", name="undated", start=""),
            product("50", "AB-CD", name="no product number"),
        ]
    )
    dims = by_key(table(duck, raw, "dim_products"), "product_number")
    assert {number: (row["product_id"], row["product_name"]) for number, row in dims.items()} == {
        "FR-1": (12, "current"),
        "FR-2": (21, "tie, higher id"),
        "FR-3": (30, "undated"),
    }
    assert dims["FR-1"]["product_key"] == key_of("FR-1")
    assert dims["FR-1"]["category"] == "Bikes"


# ---------------------------------------------------------------------------------------------
# fact_sales


def fact_by_order(duck: Duck, raw: Raw) -> dict[str, dict[str, Any]]:
    return by_key(table(duck, raw, "fact_sales"), "order_number")


def test_a_line_takes_the_product_version_active_on_its_order_date_else_the_current(
    duck: Duck,
) -> None:
    raw = Raw(
        customers=[customer("1")],
        products=[
            product("10", "BI-RB-FR-1", name="v1", cost="100", start="2011-07-01"),
            product("11", "BI-RB-FR-1", name="v2", cost="110", start="2012-07-01"),
            product("12", "BI-RB-FR-1", name="v3", cost="120", start="2013-07-01"),
        ],
        sales=[
            sale("SO1", ordered="20120630", quantity="2", price="150", sales="300"),  # v1 ends
            sale("SO2", ordered="20120701"),  # v2 starts
            sale("SO3", ordered="20140101"),
            sale("SO4", ordered="20100101"),  # before the first version: the current one
            sale("SO5", ordered="0"),  # no order date: the current one
            sale("SO6", "ZZ-9"),  # no such product
        ],
    )
    fact = fact_by_order(duck, raw)
    assert [fact[f"SO{i}"]["product_name"] for i in range(1, 7)] == [
        "v1",
        "v2",
        "v3",
        "v3",
        "v3",
        None,
    ]
    assert [fact[f"SO{i}"]["product_cost"] for i in range(1, 7)] == [
        D("100.00"),
        D("110.00"),
        D("120.00"),
        D("120.00"),
        D("120.00"),
        None,
    ]
    assert fact["SO1"]["product_key"] == key_of("FR-1")
    assert (fact["SO1"]["cost_amount"], fact["SO1"]["margin"]) == (D("200.00"), D("100.00"))
    unknown = fact["SO6"]
    assert unknown["product_key"] is None
    assert unknown["category"] is None
    assert (unknown["cost_amount"], unknown["margin"]) == (None, None)
    assert unknown["sales_amount"] == D("100.00")
    assert [fact[f"SO{i}"]["is_product_known"] for i in range(1, 7)] == [True] * 5 + [False]


def test_a_line_of_an_unknown_customer_is_kept_with_null_attributes(
    duck: Duck,
) -> None:
    raw = Raw(
        customers=[customer("1", first="Jon")],
        people=[erp_person("AW1", "1980-01-01")],
        products=[product("10")],
        sales=[sale("SO1", customer_id="1"), sale("SO2", customer_id="99999")],
    )
    fact = fact_by_order(duck, raw)
    known, unknown = fact["SO1"], fact["SO2"]
    assert (known["customer_key"], known["first_name"], known["is_customer_known"]) == (
        key_of("1"),
        "Jon",
        True,
    )
    assert unknown["customer_id"] == 99999
    assert [
        unknown[name]
        for name in ("customer_key", "customer_number", "first_name", "country", "birthdate")
    ] == [None] * 5
    assert (unknown["age_at_order"], unknown["is_customer_known"]) == (None, False)
    assert unknown["product_name"] == "Road Frame"


def test_every_published_column_of_a_fully_known_line(duck: Duck) -> None:
    """One line whose customer, product and history are all known, column by column: a
    feature computed right but published from the wrong column, or not at all, fails here."""
    raw = Raw(
        customers=[customer("7", first="Jon", last="Doe", marital="M", gender="M")],
        people=[erp_person("AW7", "1980-01-02")],
        places=[erp_place("AW7", "France")],
        products=[product("10", "BI-RB-FR-1", cost="100", line="R", start="2020-01-01")],
        sales=[
            sale("SO0", customer_id="7", ordered="20240101", sales="100"),
            sale(
                "SO1",
                customer_id="7",
                ordered="20240113",  # a Saturday, in ISO week 2
                shipped="20240120",
                due="20240125",
                sales="300",
                quantity="2",
                price="150",
            ),
        ],
        as_of=date(2024, 6, 30),
    )
    assert fact_by_order(duck, raw)["SO1"] == {
        "order_number": "SO1",
        "line_number": 1,
        "product_number": "FR-1",
        "customer_key": key_of("7"),
        "customer_id": 7,
        "customer_number": "AW7",
        "first_name": "Jon",
        "last_name": "Doe",
        "country": "France",
        "marital_status": "Married",
        "gender": "Male",
        "birthdate": date(1980, 1, 2),
        "age_at_order": 44,  # 2 January 1980 to 13 January 2024
        "product_key": key_of("FR-1"),
        "product_name": "Road Frame",
        "category": "Bikes",
        "subcategory": "Road Bikes",
        "maintenance": "Yes",
        "product_line": "Road",
        "product_cost": D("100.00"),
        "quantity": 2,
        "price": D("150.00"),
        "sales_amount": D("300.00"),
        "cost_amount": D("200.00"),  # 2 x 100
        "margin": D("100.00"),  # 300 - 200
        "order_date": date(2024, 1, 13),
        "order_year": 2024,
        "order_quarter": 1,
        "order_month": 1,
        "order_day_of_week": 6,
        "order_iso_week": 2,
        "is_weekend": True,
        "days_to_ship": 7,
        "days_to_due": 12,
        "days_since_prev_order": 12,  # SO0 on 1 January
        "prior_order_count": 1,
        "prior_spend": D("100.00"),
        "recency_days": 169,  # 13 January to 30 June 2024
        "frequency": 2,
        "monetary": D("400.00"),
        "recency_score": 1,  # the only customer: every quintile is the first
        "frequency_score": 1,
        "monetary_score": 1,
        "is_customer_known": True,
        "is_product_known": True,
        "dates_out_of_order": False,
        "is_future_dated": False,
        "_gold_created_at": run_context(raw.as_of).started_at,
    }


def test_fact_sales_holds_the_lines_up_to_the_as_of_date_and_the_undated_ones(
    duck: Duck,
) -> None:
    raw = Raw(
        customers=[customer("1")],
        products=[product("10")],
        sales=[
            sale("SO1", ordered="20240629"),
            sale("SO2", ordered="20240630"),  # on the as-of date itself
            sale("SO3", ordered="20240701", shipped="20240702", due="20240703"),
            sale("SO4", ordered="0"),  # no order date: nothing places it after the as-of date
        ],
        as_of=date(2024, 6, 30),
    )
    assert set(fact_by_order(duck, raw)) == {"SO1", "SO2", "SO4"}


def test_age_at_order_counts_whole_years(duck: Duck) -> None:
    cases = [
        (date(2000, 6, 15), date(2024, 6, 14), 23),  # the day before the birthday
        (date(2000, 6, 15), date(2024, 6, 15), 24),
        (date(2000, 6, 15), date(2024, 6, 16), 24),
        (date(2000, 2, 29), date(2023, 2, 28), 22),  # leap-day birthday in a common year
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2000, 12, 31), date(2001, 1, 1), 0),
        (date(2025, 1, 1), date(2024, 1, 1), None),  # born after the order
        (None, date(2024, 1, 1), None),
        (date(2000, 1, 1), None, None),
    ]
    ages = apply_rule(
        duck,
        {"born": [b for b, _, _ in cases], "day": [d for _, d, _ in cases]},
        {"born": "date", "day": "date"},
        lambda t: gold.age_at(t.born, t.day),
    )
    assert ages == [age for _, _, age in cases]


def test_time_features_of_the_order_date(duck: Duck) -> None:
    # (order date, ship, due) → (year, quarter, month, ISO weekday, ISO week, weekend, ship, due)
    cases = [
        (("20240615", "20240620", "20240625"), (2024, 2, 6, 6, 24, True, 5, 10)),  # Saturday
        (("20240616", "20240616", "20240616"), (2024, 2, 6, 7, 24, True, 0, 0)),  # Sunday
        (("20240617", "20240616", "20240701"), (2024, 2, 6, 1, 25, False, -1, 14)),  # Monday
        (("20210101", "20210108", "20210113"), (2021, 1, 1, 5, 53, False, 7, 12)),
        (("20241230", "0", "20250104"), (2024, 4, 12, 1, 1, False, None, 5)),
        (("0", "20240101", "20240101"), (None, None, None, None, None, None, None, None)),
    ]
    raw = Raw(
        products=[product("10")],
        sales=[
            sale(f"SO{i}", ordered=o, shipped=s, due=d)
            for i, ((o, s, d), _) in enumerate(cases, start=1)
        ],
        as_of=date(2024, 12, 31),  # gold keeps only the lines dated up to the as-of date
    )
    fact = fact_by_order(duck, raw)
    names = (
        "order_year",
        "order_quarter",
        "order_month",
        "order_day_of_week",
        "order_iso_week",
        "is_weekend",
        "days_to_ship",
        "days_to_due",
    )
    found = [tuple(fact[f"SO{i}"][name] for name in names) for i in range(1, len(cases) + 1)]
    assert found == [expected for _, expected in cases]


def test_point_in_time_features_see_only_earlier_days(duck: Duck) -> None:
    raw = Raw(
        customers=[customer("1"), customer("2")],
        products=[product("10", "BI-RB-FR-1"), product("20", "BI-RB-FR-2")],
        sales=[
            # two lines of one order, and a second order on the same day
            sale("SO1", "FR-1", "1", ordered="20240110", sales="100", price="100"),
            sale("SO1", "FR-2", "1", ordered="20240110", sales="50", price="50"),
            sale("SO2", "FR-1", "1", ordered="20240110", sales="30", price="30"),
            sale("SO3", "FR-1", "1", ordered="20240120", sales="20", price="20"),
            # an order with one undated line: the line takes its order's features
            sale("SO4", "FR-1", "1", ordered="20240201", sales="10", price="10"),
            sale("SO4", "FR-2", "1", ordered="0", sales="5", price="5"),
            # an order with no dated line cannot be placed in time
            sale("SO5", "FR-1", "1", ordered="0", sales="7", price="7"),
            # another customer's history is separate
            sale("SO6", "FR-1", "2", ordered="20240125", sales="1000", price="1000"),
        ],
    )
    fact = table(duck, raw, "fact_sales")
    features = sorted(
        (
            row["order_number"],
            row["line_number"],
            row["days_since_prev_order"],
            row["prior_order_count"],
            row["prior_spend"],
        )
        for row in fact
    )
    assert features == [
        ("SO1", 1, None, 0, D("0.00")),
        ("SO1", 2, None, 0, D("0.00")),
        ("SO2", 1, None, 0, D("0.00")),
        ("SO3", 1, 10, 2, D("180.00")),
        ("SO4", 1, 12, 3, D("200.00")),
        ("SO4", 2, 12, 3, D("200.00")),
        ("SO5", 1, None, None, None),
        ("SO6", 1, None, 0, D("0.00")),
    ]


def test_an_order_without_a_known_amount_counts_as_an_order_that_spent_nothing(
    duck: Duck,
) -> None:
    raw = Raw(
        customers=[customer("1"), customer("2")],
        products=[product("10")],
        sales=[
            sale("SO1", customer_id="1", ordered="20240110", sales="", price=""),  # no amount
            sale("SO2", customer_id="1", ordered="20240120", sales="20", price="20"),
            sale("SO3", customer_id="2", ordered="20240115", sales="", price=""),  # no amount
        ],
    )
    fact = fact_by_order(duck, raw)
    orders = ("SO1", "SO2", "SO3")
    assert [fact[order]["sales_amount"] for order in orders] == [None, D("20.00"), None]
    assert [(fact[order]["prior_order_count"], fact[order]["prior_spend"]) for order in orders] == [
        (0, D("0.00")),
        (1, D("0.00")),
        (0, D("0.00")),
    ]
    assert [(fact[order]["frequency"], fact[order]["monetary"]) for order in orders] == [
        (2, D("20.00")),
        (2, D("20.00")),
        (1, D("0.00")),
    ]


def test_rfm_describes_each_customer_at_the_as_of_date(duck: Duck) -> None:
    raw = Raw(
        customers=[customer("1"), customer("2"), customer("3")],
        products=[product("10")],
        sales=[
            sale("SO1", customer_id="1", ordered="20240110", sales="100", price="100"),
            sale("SO1", customer_id="1", ordered="20240110", sales="50", price="50"),
            sale("SO2", customer_id="1", ordered="20240201", sales="10", price="10"),
            sale("SO2", customer_id="1", ordered="0", sales="5", price="5"),  # dated by SO2
            sale("SO3", customer_id="1", ordered="0", sales="7", price="7"),  # never dated
            sale("SO4", customer_id="1", ordered="20240216", sales="500", price="500"),  # later
            sale("SO5", customer_id="2", ordered="20240115", sales="40", price="40"),
            sale("SO6", customer_id="3", ordered="20240301", sales="40", price="40"),  # later
        ],
        as_of=date(2024, 2, 15),
    )
    rfm: dict[int, set[tuple[Any, ...]]] = {}
    for row in table(duck, raw, "fact_sales"):
        rfm.setdefault(row["customer_id"], set()).add(
            (row["recency_days"], row["frequency"], row["monetary"])
        )
    # every line of a customer carries the as-of RFM; lines dated after the as-of date are not
    # in gold at all (customer 3's only order), undated ones are (SO3)
    assert rfm == {
        1: {(14, 2, D("165.00"))},
        2: {(31, 1, D("40.00"))},
    }
    assert {row["order_number"] for row in table(duck, raw, "fact_sales")} == {
        "SO1",
        "SO2",
        "SO3",
        "SO5",
    }


def test_an_order_on_the_as_of_date_counts_in_rfm(duck: Duck) -> None:
    as_of = date(2024, 6, 30)
    sales = ibis.memtable(
        {
            "customer_id": [1, 1],
            "order_number": ["SO1", "SO2"],
            "order_date": [as_of - timedelta(days=10), as_of],
            "sales_amount": [D("100"), D("50")],
        },
        schema={
            "customer_id": "int64",
            "order_number": "string",
            "order_date": "date",
            "sales_amount": "decimal(18, 2)",
        },
    )
    [rfm] = records(duck.con, gold.rfm_as_of(sales, ibis.literal(as_of)))
    assert (rfm["recency_days"], rfm["frequency"], rfm["monetary"]) == (0, 2, D("150.00"))


def test_rfm_recency_ties_are_broken_by_customer_id(duck: Duck) -> None:
    as_of = date(2024, 6, 30)
    customers = [7, 3, 10, 1, 5, 9, 2, 8, 4, 6]  # not in id order, all last seen the same day
    sales = ibis.memtable(
        {
            "customer_id": customers,
            "order_number": [f"SO{c}" for c in customers],
            "order_date": [as_of - timedelta(days=3)] * len(customers),
            "sales_amount": [D("10")] * len(customers),
        },
        schema={
            "customer_id": "int64",
            "order_number": "string",
            "order_date": "date",
            "sales_amount": "decimal(18, 2)",
        },
    )
    scores = by_key(records(duck.con, gold.rfm_as_of(sales, ibis.literal(as_of))), "customer_id")
    assert [scores[c]["recency_score"] for c in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_rfm_scores_are_quintiles_with_ties_broken_by_customer_id(
    duck: Duck,
) -> None:
    as_of = date(2024, 6, 30)
    customers = range(1, 11)
    spend = {c: (100 if c <= 4 else (15 - c) * 100) for c in customers}
    orders = {
        "customer_id": [*customers, 1, 11],
        "order_number": [f"SO{c}" for c in customers] + ["SO1-later", "SO11"],
        "order_date": [as_of - timedelta(days=c) for c in customers]
        + [as_of + timedelta(days=1)] * 2,
        "sales_amount": [D(spend[c]) for c in customers] + [D(999), D(999)],
    }
    sales = ibis.memtable(
        orders,
        schema={
            "customer_id": "int64",
            "order_number": "string",
            "order_date": "date",
            "sales_amount": "decimal(18, 2)",
        },
    )
    scores = by_key(records(duck.con, gold.rfm_as_of(sales, ibis.literal(as_of))), "customer_id")
    assert sorted(scores) == list(customers)
    # recency c days: the oldest two score 1, the most recent two 5
    assert [scores[c]["recency_score"] for c in customers] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # everyone ordered once: the tie is broken by customer id
    assert [scores[c]["frequency_score"] for c in customers] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # 1–4 tie at 100; then 500 (10), 600 (9), … 1000 (5)
    assert [scores[c]["monetary_score"] for c in customers] == [1, 1, 2, 2, 5, 5, 4, 4, 3, 3]
    assert scores[1]["frequency"] == 1
    assert scores[1]["recency_days"] == 1
