"""Seed generators: reproducible, shaped like the reference files, and dirty on purpose.

The defect checks read the written files back with the csv module, so they test what a
loader will see rather than the generators' internals.
"""

import csv
import re
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Protocol

import pytest

from medallion_ibis.generate import crm_erp, retail, write_crm_erp_seeds, write_retail_seeds
from medallion_ibis.generate._sampling import TableSize

Rows = list[dict[str, str]]
Tables = dict[str, Rows]
DEFECT_RUN_SALES = 3_000
DEFECT_RUN_SEED = 42


class SeedWriter(Protocol):
    def __call__(self, out_dir: Path, *, sales: int, seed: int) -> dict[str, int]: ...


@dataclass(frozen=True)
class Generator:
    """A public writer with what the tests need to know about its output."""

    write: SeedWriter
    module: ModuleType
    sales_file: str
    reference_subdir: str


RETAIL = Generator(write_retail_seeds, retail, "raw_sales.csv", "retail")
CRM_ERP = Generator(write_crm_erp_seeds, crm_erp, "source_crm/sales_details.csv", "crm_erp")
EACH_GENERATOR = pytest.mark.parametrize("generator", [RETAIL, CRM_ERP], ids=["retail", "crm_erp"])


def _file_bytes(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*.csv"))
    }


def _read_rows(path: Path) -> Rows:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _read_tables(directory: Path, paths: list[str]) -> Tables:
    return {path: _read_rows(directory / path) for path in paths}


@EACH_GENERATOR
def test_same_seed_gives_byte_identical_files(generator: Generator, tmp_path: Path) -> None:
    generator.write(tmp_path / "first", sales=500, seed=7)
    generator.write(tmp_path / "second", sales=500, seed=7)

    assert _file_bytes(tmp_path / "first") == _file_bytes(tmp_path / "second")


@EACH_GENERATOR
def test_another_seed_gives_other_sales(generator: Generator, tmp_path: Path) -> None:
    generator.write(tmp_path / "first", sales=500, seed=7)
    generator.write(tmp_path / "second", sales=500, seed=8)

    first = (tmp_path / "first" / generator.sales_file).read_bytes()
    assert first != (tmp_path / "second" / generator.sales_file).read_bytes()


@EACH_GENERATOR
def test_returned_counts_are_the_data_rows_of_every_written_file(
    generator: Generator, tmp_path: Path
) -> None:
    counts = generator.write(tmp_path, sales=700, seed=3)

    written = sorted(_file_bytes(tmp_path))
    assert sorted(counts) == written
    assert counts == {path: len(_read_rows(tmp_path / path)) for path in written}
    assert counts[generator.sales_file] == 700


@EACH_GENERATOR
def test_header_lines_match_the_reference_byte_for_byte(
    generator: Generator, tmp_path: Path, reference_dir: Path
) -> None:
    """Byte equality also pins the line ending: LF for retail, CRLF for the CRM/ERP export."""
    counts = generator.write(tmp_path, sales=100, seed=1)

    for path in counts:
        reference = reference_dir / generator.reference_subdir / path
        expected = reference.read_bytes().splitlines(keepends=True)[0]
        assert (tmp_path / path).read_bytes().splitlines(keepends=True)[0] == expected, path


@EACH_GENERATOR
def test_peak_memory_does_not_grow_with_the_number_of_sales(
    generator: Generator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten times the sales must not take more memory once the customer table is fixed.

    Holding 10,000 sales rows would add several MB to a peak of a few hundred kB, so this
    fails for any writer that collects the rows before writing them.
    """
    monkeypatch.setattr(generator.module, "CUSTOMER_TABLE", TableSize(1, 50, 50))

    def peak_bytes(sales: int) -> int:
        tracemalloc.start()
        try:
            counts = generator.write(tmp_path, sales=sales, seed=1)
            assert counts[generator.sales_file] == sales
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak_bytes(10_000) < 2 * peak_bytes(1_000)


def test_product_names_are_quoted_only_where_a_comma_needs_it(tmp_path: Path) -> None:
    write_retail_seeds(tmp_path, sales=10, seed=1)

    raw = (tmp_path / "raw_products.csv").read_text(encoding="utf-8")
    names = [row["product_name"] for row in _read_rows(tmp_path / "raw_products.csv")]
    bare_quoted = [name for name in names if '"' in name and "," not in name]
    with_comma = [name for name in names if "," in name]
    assert bare_quoted
    assert with_comma
    for name in bare_quoted:
        assert f",{name}," in raw
    for name in with_comma:
        assert f',"{name}",' in raw


@pytest.fixture(scope="module")
def retail_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    directory = tmp_path_factory.mktemp("retail")
    counts = write_retail_seeds(directory, sales=DEFECT_RUN_SALES, seed=DEFECT_RUN_SEED)
    return _read_tables(directory, list(counts))


@pytest.fixture(scope="module")
def crm_erp_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    directory = tmp_path_factory.mktemp("crm_erp")
    counts = write_crm_erp_seeds(directory, sales=DEFECT_RUN_SALES, seed=DEFECT_RUN_SEED)
    return _read_tables(directory, list(counts))


def _column(tables: Tables, path: str, column: str) -> list[str]:
    return [row[column] for row in tables[path]]


def _any(tables: Tables, path: str, column: str, predicate: Callable[[str], bool]) -> bool:
    return any(predicate(value) for value in _column(tables, path, column))


def _has_repeats(values: list[str]) -> bool:
    present = [value for value in values if value]
    return len(set(present)) < len(present)


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None


def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def _is_messy(text: str) -> bool:
    return text != text.strip() or text.islower() or text.isupper()


def _refers_to_missing(tables: Tables, source: tuple[str, str], target: tuple[str, str]) -> bool:
    known = set(_column(tables, *target))
    return any(value.isdigit() and value not in known for value in _column(tables, *source))


SALES = "raw_sales.csv"
CUSTOMERS = "raw_customers.csv"
PRODUCTS = "raw_products.csv"
RETAIL_DEFECTS: dict[str, Callable[[Tables], bool]] = {
    "zero quantity": lambda t: _any(t, SALES, "quantity", lambda q: q == "0"),
    "negative quantity": lambda t: _any(t, SALES, "quantity", lambda q: q.startswith("-")),
    "text quantity": lambda t: _any(t, SALES, "quantity", lambda q: not _is_number(q)),
    "negative price": lambda t: _any(t, SALES, "unit_price", lambda p: p.startswith("-")),
    "impossible date": lambda t: _any(
        t,
        SALES,
        "transaction_date",
        lambda d: re.fullmatch(r"\d{4}-\d\d-\d\d", d) is not None and not _is_iso_date(d),
    ),
    "unparseable date": lambda t: _any(
        t, SALES, "transaction_date", lambda d: re.fullmatch(r"[\d/-]+", d) is None
    ),
    "day-first date": lambda t: _any(
        t, SALES, "transaction_date", lambda d: re.fullmatch(r"\d\d/\d\d/\d{4}", d) is not None
    ),
    "missing transaction id": lambda t: "" in _column(t, SALES, "transaction_id"),
    "non-numeric transaction id": lambda t: _any(
        t, SALES, "transaction_id", lambda i: i != "" and not i.isdigit()
    ),
    "repeated transaction id": lambda t: _has_repeats(_column(t, SALES, "transaction_id")),
    "missing customer id": lambda t: "" in _column(t, SALES, "customer_id"),
    "missing product id": lambda t: "" in _column(t, SALES, "product_id"),
    "unknown customer": lambda t: _refers_to_missing(
        t, (SALES, "customer_id"), (CUSTOMERS, "customer_id")
    ),
    "unknown product": lambda t: _refers_to_missing(
        t, (SALES, "product_id"), (PRODUCTS, "product_id")
    ),
    "messy store location": lambda t: _any(t, SALES, "store_location", _is_messy),
    "messy category": lambda t: _any(t, SALES, "category", _is_messy),
    "email without @": lambda t: _any(t, CUSTOMERS, "email", lambda e: e != "" and "@" not in e),
    "blank email": lambda t: "" in _column(t, CUSTOMERS, "email"),
    "missing first name": lambda t: "" in _column(t, CUSTOMERS, "first_name"),
    "missing last name": lambda t: "" in _column(t, CUSTOMERS, "last_name"),
    "negative credit limit": lambda t: _any(
        t, CUSTOMERS, "credit_limit", lambda c: c.startswith("-")
    ),
    "bad registration date": lambda t: _any(
        t, CUSTOMERS, "registration_date", lambda d: not _is_iso_date(d)
    ),
    "repeated customer id": lambda t: _has_repeats(_column(t, CUSTOMERS, "customer_id")),
    "retail price below cost": lambda t: any(
        float(row["retail_price"]) < float(row["cost_price"]) for row in t[PRODUCTS]
    ),
    "negative stock": lambda t: _any(t, PRODUCTS, "stock_quantity", lambda s: s.startswith("-")),
    "blank category": lambda t: "" in _column(t, PRODUCTS, "category"),
}


@pytest.mark.parametrize("present", RETAIL_DEFECTS.values(), ids=RETAIL_DEFECTS.keys())
def test_retail_seeds_carry_every_defect(
    retail_tables: Tables, present: Callable[[Tables], bool]
) -> None:
    assert present(retail_tables)


CUST_INFO = "source_crm/cust_info.csv"
PRD_INFO = "source_crm/prd_info.csv"
SALES_DETAILS = "source_crm/sales_details.csv"
CUST_AZ12 = "source_erp/CUST_AZ12.csv"
LOC_A101 = "source_erp/LOC_A101.csv"
PX_CAT_G1V2 = "source_erp/PX_CAT_G1V2.csv"


def _is_padded(text: str) -> bool:
    return text != text.strip()


def _customer_rows(tables: Tables) -> Rows:
    return [row for row in tables[CUST_INFO] if row["cst_id"]]


def _id_resent_with_another_date(tables: Tables) -> bool:
    dates: dict[str, set[str]] = {}
    for row in _customer_rows(tables):
        dates.setdefault(row["cst_id"], set()).add(row["cst_create_date"])
    return any(len(created) > 1 for created in dates.values())


def _product_with_history(tables: Tables) -> bool:
    return max(Counter(_column(tables, PRD_INFO, "prd_key")).values()) > 1


def _wrong_sales_total(tables: Tables) -> bool:
    return any(
        row["sls_sales"].isdigit()
        and row["sls_price"].isdigit()
        and int(row["sls_sales"]) != int(row["sls_quantity"]) * int(row["sls_price"])
        for row in tables[SALES_DETAILS]
    )


def _unknown_product_key(tables: Tables) -> bool:
    known = {key[6:] for key in _column(tables, PRD_INFO, "prd_key")}  # from the 7th character
    return any(key not in known for key in _column(tables, SALES_DETAILS, "sls_prd_key"))


CRM_ERP_DEFECTS: dict[str, Callable[[Tables], bool]] = {
    "padded first name": lambda t: _any(t, CUST_INFO, "cst_firstname", _is_padded),
    "padded last name": lambda t: _any(t, CUST_INFO, "cst_lastname", _is_padded),
    "customer re-sent with another create date": _id_resent_with_another_date,
    "missing customer id": lambda t: "" in _column(t, CUST_INFO, "cst_id"),
    "blank marital status": lambda t: any(
        row["cst_marital_status"] == "" for row in _customer_rows(t)
    ),
    "blank CRM gender": lambda t: any(row["cst_gndr"] == "" for row in _customer_rows(t)),
    "product with history": _product_with_history,
    "end date before start": lambda t: any(
        row["prd_end_dt"] != "" and row["prd_end_dt"] < row["prd_start_dt"] for row in t[PRD_INFO]
    ),
    "missing product cost": lambda t: "" in _column(t, PRD_INFO, "prd_cost"),
    "blank product line": lambda t: "" in _column(t, PRD_INFO, "prd_line"),
    "order date 0": lambda t: "0" in _column(t, SALES_DETAILS, "sls_order_dt"),
    "order date too short": lambda t: _any(
        t, SALES_DETAILS, "sls_order_dt", lambda d: 1 < len(d) < 8
    ),
    "order date too long": lambda t: _any(t, SALES_DETAILS, "sls_order_dt", lambda d: len(d) > 8),
    "sales not quantity times price": _wrong_sales_total,
    "negative sales": lambda t: _any(t, SALES_DETAILS, "sls_sales", lambda s: s.startswith("-")),
    "missing sales": lambda t: "" in _column(t, SALES_DETAILS, "sls_sales"),
    "negative price": lambda t: _any(t, SALES_DETAILS, "sls_price", lambda p: p.startswith("-")),
    "missing price": lambda t: "" in _column(t, SALES_DETAILS, "sls_price"),
    "unknown customer": lambda t: _refers_to_missing(
        t, (SALES_DETAILS, "sls_cust_id"), (CUST_INFO, "cst_id")
    ),
    "unknown product": _unknown_product_key,
    "future birthdate": lambda t: _any(
        t, CUST_AZ12, "BDATE", lambda b: date.fromisoformat(b) > date.today()
    ),
    "abbreviated ERP gender": lambda t: _any(t, CUST_AZ12, "GEN", lambda g: g in {"F", "M"}),
    "blank ERP gender": lambda t: "" in _column(t, CUST_AZ12, "GEN"),
    "blank country": lambda t: "" in _column(t, LOC_A101, "CNTRY"),
}


@pytest.mark.parametrize("present", CRM_ERP_DEFECTS.values(), ids=CRM_ERP_DEFECTS.keys())
def test_crm_erp_seeds_carry_every_defect(
    crm_erp_tables: Tables, present: Callable[[Tables], bool]
) -> None:
    assert present(crm_erp_tables)


def test_crm_erp_ids_follow_the_sample_spelling_conventions(crm_erp_tables: Tables) -> None:
    """Each system spells a customer or product its own way; silver joins them back."""
    customer_keys = set(_column(crm_erp_tables, CUST_INFO, "cst_key"))
    erp_ids = _column(crm_erp_tables, CUST_AZ12, "CID")
    assert {cid.removeprefix("NAS") for cid in erp_ids} <= customer_keys
    assert any(cid.startswith("NAS") for cid in erp_ids)
    assert any(not cid.startswith("NAS") for cid in erp_ids)
    location_ids = _column(crm_erp_tables, LOC_A101, "CID")
    assert all(re.fullmatch(r"AW-\d{8}", cid) for cid in location_ids)
    assert {cid.replace("-", "") for cid in location_ids} <= customer_keys
    categories = set(_column(crm_erp_tables, PX_CAT_G1V2, "ID"))
    product_keys = _column(crm_erp_tables, PRD_INFO, "prd_key")
    assert {key[:5].replace("-", "_") for key in product_keys} <= categories


def test_crm_erp_codes_follow_the_sample_vocabularies(crm_erp_tables: Tables) -> None:
    countries = set(_column(crm_erp_tables, LOC_A101, "CNTRY"))
    assert {"DE", "US", "USA", "Germany", "Australia", ""} <= countries
    assert set(_column(crm_erp_tables, PRD_INFO, "prd_line")) <= {"M ", "R ", "S ", "T ", ""}
    assert set(_column(crm_erp_tables, CUST_INFO, "cst_marital_status")) == {"S", "M", ""}
    assert set(_column(crm_erp_tables, CUST_INFO, "cst_gndr")) == {"F", "M", ""}
    genders = set(_column(crm_erp_tables, CUST_AZ12, "GEN"))
    assert genders == {"Female", "Male", "F", "M", ""}
