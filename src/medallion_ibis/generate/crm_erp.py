"""CRM/ERP seeds: two source systems that describe the same bike shop's customers and products.

The layout follows the public CRM/ERP sample (see `shared/reference/crm_erp`). The CRM holds
customers, a product price history and order lines; the ERP holds birthdates and genders,
customer countries and the product category table. The two disagree the way the sample does,
which is what the silver layer reconciles: one customer is `AW00030001` in the CRM but
`NASAW00030001` or `AW-00030001` in the ERP, product keys embed the ERP category id, the CRM
stores order dates as yyyymmdd integers, and every defect kind of the sample appears at a
small rate. Order lines are streamed row by row, so their count can grow without bound.
"""

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from medallion_ibis.generate._csvio import write_csv
from medallion_ibis.generate._defects import (
    Defect,
    Row,
    blank,
    inject_defects,
    negate,
    pad,
    replace_with,
    resend_rows,
    rows_to_spoil,
    stream_with_defects,
)
from medallion_ibis.generate._sampling import (
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    TableSize,
    random_date,
)

CUST_INFO = "source_crm/cust_info.csv"
PRD_INFO = "source_crm/prd_info.csv"
SALES_DETAILS = "source_crm/sales_details.csv"
CUST_AZ12 = "source_erp/CUST_AZ12.csv"
LOC_A101 = "source_erp/LOC_A101.csv"
PX_CAT_G1V2 = "source_erp/PX_CAT_G1V2.csv"
CUST_INFO_HEADER = (
    "cst_id", "cst_key", "cst_firstname", "cst_lastname", "cst_marital_status", "cst_gndr",
    "cst_create_date",
)  # fmt: skip
PRD_INFO_HEADER = (
    "prd_id", "prd_key", "prd_nm", "prd_cost", "prd_line", "prd_start_dt", "prd_end_dt",
)  # fmt: skip
SALES_DETAILS_HEADER = (
    "sls_ord_num", "sls_prd_key", "sls_cust_id", "sls_order_dt", "sls_ship_dt", "sls_due_dt",
    "sls_sales", "sls_quantity", "sls_price",
)  # fmt: skip
CUST_AZ12_HEADER = ("CID", "BDATE", "GEN")
LOC_A101_HEADER = ("CID", "CNTRY")
PX_CAT_G1V2_HEADER = ("ID", "CAT", "SUBCAT", "MAINTENANCE")
LINE_TERMINATOR = "\r\n"
"""The sample was exported on Windows."""

CUSTOMER_TABLE = TableSize(sales_per_row=3, minimum=50, maximum=20_000)
FIRST_CUSTOMER_ID = 30_001
CUSTOMER_KEY_PREFIX = "AW"
LEGACY_ERP_PREFIX = "NAS"
LEGACY_ERP_PREFIX_SHARE = 0.6
"""Share of ERP birthdate records whose customer id still carries the legacy prefix."""
CUSTOMER_CREATED_FIRST = date(2021, 1, 1)
CUSTOMER_CREATED_LAST = date(2024, 12, 31)
BIRTHDATE_FIRST = date(1945, 1, 1)
BIRTHDATE_LAST = date(2006, 12, 31)
FUTURE_BIRTHDATE_FIRST = date(2040, 1, 1)
FUTURE_BIRTHDATE_LAST = date(2070, 12, 31)
GENDERS = ("Female", "Male")
"""As the ERP spells them; the CRM keeps the initial."""
MARITAL_STATUSES = ("S", "M")
COUNTRY_SPELLINGS = (
    ("Australia",),
    ("Canada",),
    ("France",),
    ("Germany", "DE"),
    ("United Kingdom",),
    ("United States", "US", "USA"),
)
"""Each country's canonical name first, then the codes the ERP also uses for it."""
ORPHAN_KEY_PREFIXES = ("SF", "PO", "TMP")
ORPHAN_KEY_NUMBERS = range(10, 100_000)
"""Junk keys of CRM rows that have no customer id at all: a prefix and a number."""
REVISION_DELAY_DAYS = range(1, 31)
"""How long after its creation a customer record is edited and re-sent."""
UNKNOWN_CUSTOMER_IDS = range(900_001, 1_000_000)
"""Above the largest customer id, so these never match a customer."""

FIRST_PRODUCT_ROW_ID = 101
KEY_CATEGORY_PREFIX_LENGTH = len("CO-RF-")
"""A product key starts with its subcategory id, `_` spelled `-`, and a dash."""
MODEL_TIERS = ("Pro", "Sport")
MODEL_NUMBERS = range(10, 100)
"""A model code is its tier's initial and one of these, e.g. `P47`."""
FIRST_LAUNCH_YEARS = range(2018, 2022)
MODEL_YEAR_START_MONTH = 7
VERSION_COUNTS = (1, 2, 3)
VERSION_CUMULATIVE_WEIGHTS = tuple(accumulate((5, 3, 2)))
COST_SHARE_OF_PRICE = (0.45, 0.65)
COST_CHANGE_PER_VERSION = (0.9, 1.15)
END_BEFORE_START_DAYS = range(30, 1_500)
"""How far before its own start a badly closed history row claims to end."""
UNKNOWN_PRODUCT_KEYS = ("ZZ-P10X", "ZZ-S99Y-52", "XX-0000")
"""Family codes no product family uses, so these never match a product."""

FIRST_ORDER_NUMBER = 50_001
ORDER_PERIOD_START = date(2022, 1, 1)
ORDER_PERIOD_DAYS = 3 * 365
SHIPPING_DAYS = (3, 4, 5, 6, 7)
DUE_DAYS_AFTER_SHIPPING = 5
LINES_PER_ORDER = (1, 2, 3, 4)
LINES_PER_ORDER_CUMULATIVE_WEIGHTS = tuple(accumulate((6, 2, 1, 1)))
QUANTITIES = (1, 2, 3)
QUANTITY_CUMULATIVE_WEIGHTS = tuple(accumulate((90, 7, 3)))
SHORT_DATE_NUMBERS = range(1_000, 100_000)
"""Four- or five-digit integers where an eight-digit yyyymmdd date belongs."""
SALES_TOTAL_MULTIPLIERS = (2, 3, 4, 5)
"""A wrong total is the right one keyed this many times over."""


@dataclass(frozen=True)
class Subcategory:
    """One row of the ERP category table; its id is the first five characters of a CRM key."""

    id: str
    category: str
    name: str
    needs_maintenance: bool


SUBCATEGORIES = (
    Subcategory("AC_BO", "Accessories", "Bottles", needs_maintenance=False),
    Subcategory("AC_HE", "Accessories", "Helmets", needs_maintenance=True),
    Subcategory("AC_LI", "Accessories", "Lights", needs_maintenance=True),
    Subcategory("AC_LO", "Accessories", "Locks", needs_maintenance=False),
    Subcategory("AC_PU", "Accessories", "Pumps", needs_maintenance=True),
    Subcategory("BI_CB", "Bikes", "City Bikes", needs_maintenance=True),
    Subcategory("BI_EB", "Bikes", "E-Bikes", needs_maintenance=True),
    Subcategory("BI_MB", "Bikes", "Mountain Bikes", needs_maintenance=True),
    Subcategory("BI_RB", "Bikes", "Road Bikes", needs_maintenance=True),
    Subcategory("CL_GL", "Clothing", "Gloves", needs_maintenance=False),
    Subcategory("CL_JE", "Clothing", "Jerseys", needs_maintenance=False),
    Subcategory("CL_SH", "Clothing", "Shorts", needs_maintenance=False),
    Subcategory("CO_CH", "Components", "Chains", needs_maintenance=True),
    Subcategory("CO_MF", "Components", "Mountain Frames", needs_maintenance=True),
    Subcategory("CO_RF", "Components", "Road Frames", needs_maintenance=True),
    Subcategory("CO_SA", "Components", "Saddles", needs_maintenance=False),
    Subcategory("CO_WH", "Components", "Wheels", needs_maintenance=True),
)


@dataclass(frozen=True)
class ProductFamily:
    """Products sold in every tier, colour and size of one kind of item.

    Colours within a family start with different letters, because a key keeps only the
    initial. `line` is the CRM product line code: Mountain, Road, other Sales, Touring.
    """

    subcategory_id: str
    code: str
    name: str
    line: str
    price_range: tuple[int, int]
    colors: tuple[str, ...]
    sizes: tuple[str, ...] = ()


PRODUCT_FAMILIES = (
    ProductFamily("CO_RF", "FR", "Road Frame", "R", (450, 1500), ("Black", "Red"),
                  ("48", "52", "56", "58")),
    ProductFamily("CO_MF", "FM", "Mountain Frame", "M", (350, 1300), ("Black", "Silver"),
                  ("38", "42", "46")),
    ProductFamily("CO_WH", "WH", "Wheel", "R", (90, 350), ("Black",)),
    ProductFamily("CO_CH", "CH", "Chain", "M", (15, 60), ("Silver",)),
    ProductFamily("BI_RB", "BR", "Road Bike", "R", (900, 3600), ("Red", "Black"),
                  ("50", "54", "58")),
    ProductFamily("BI_MB", "BM", "Mountain Bike", "M", (700, 3200), ("Silver", "Black"),
                  ("38", "42", "46")),
    ProductFamily("BI_CB", "BC", "City Bike", "T", (450, 1200), ("Green", "Blue"), ("M", "L")),
    ProductFamily("BI_EB", "BE", "E-Bike", "T", (1800, 4200), ("Grey",), ("M", "L")),
    ProductFamily("AC_HE", "HL", "Helmet", "S", (30, 70), ("Red", "Blue", "White")),
    ProductFamily("AC_LI", "LT", "Headlight", "S", (15, 45), ("Black",)),
    ProductFamily("CL_JE", "JE", "Jersey", "S", (40, 90), ("Yellow", "Blue"),
                  ("S", "M", "L", "XL")),
    ProductFamily("CL_GL", "GL", "Gloves", "S", (15, 35), ("Black",), ("S", "M", "L")),
)  # fmt: skip


@dataclass(frozen=True)
class Customer:
    """One person as both systems know them, before either system spells or spoils anything."""

    customer_id: int
    first_name: str
    last_name: str
    marital_status: str
    gender: str
    birthdate: date
    country_spellings: tuple[str, ...]
    created: date

    @property
    def key(self) -> str:
        return f"{CUSTOMER_KEY_PREFIX}{self.customer_id:08d}"


@dataclass(frozen=True)
class Product:
    """One sellable variant: `key` is the CRM product key, category id included."""

    key: str
    name: str
    line: str
    list_price: int
    cost: int

    @property
    def sales_key(self) -> str:
        """Order lines drop the `CO-RF-` category prefix and keep the rest of the key."""
        return self.key[KEY_CATEGORY_PREFIX_LENGTH:]


def write_crm_erp_seeds(out_dir: Path, *, sales: int, seed: int) -> dict[str, int]:
    """Writes the six source files under out_dir/source_crm and out_dir/source_erp.

    Returns the number of data rows written per path relative to `out_dir`; `sales` is the
    number of order lines. The same `sales` and `seed` always give byte-identical files.
    """
    rng = random.Random(seed)
    customer_count = CUSTOMER_TABLE.for_sales(sales)
    customers = [_random_customer(rng, FIRST_CUSTOMER_ID + n) for n in range(customer_count)]
    products = _random_products(rng)
    order_lines = _clean_order_lines(rng, sales, customer_count, products)
    tables: dict[str, tuple[tuple[str, ...], Iterable[Row]]] = {
        CUST_INFO: (CUST_INFO_HEADER, _cust_info_rows(rng, customers)),
        PRD_INFO: (PRD_INFO_HEADER, _prd_info_rows(rng, products)),
        CUST_AZ12: (CUST_AZ12_HEADER, _cust_az12_rows(rng, customers)),
        LOC_A101: (LOC_A101_HEADER, _loc_a101_rows(rng, customers)),
        PX_CAT_G1V2: (PX_CAT_G1V2_HEADER, [_px_cat_row(entry) for entry in SUBCATEGORIES]),
        SALES_DETAILS: (SALES_DETAILS_HEADER, stream_with_defects(rng, order_lines, SALES_DEFECTS)),
    }
    return {
        path: write_csv(out_dir / path, header, rows, line_terminator=LINE_TERMINATOR)
        for path, (header, rows) in tables.items()
    }


def _random_customer(rng: random.Random, customer_id: int) -> Customer:
    gender = rng.choice(GENDERS)
    return Customer(
        customer_id=customer_id,
        first_name=rng.choice(FEMALE_FIRST_NAMES if gender == "Female" else MALE_FIRST_NAMES),
        last_name=rng.choice(LAST_NAMES),
        marital_status=rng.choice(MARITAL_STATUSES),
        gender=gender,
        birthdate=random_date(rng, BIRTHDATE_FIRST, BIRTHDATE_LAST),
        country_spellings=rng.choice(COUNTRY_SPELLINGS),
        created=random_date(rng, CUSTOMER_CREATED_FIRST, CUSTOMER_CREATED_LAST),
    )


def _cust_info_rows(rng: random.Random, customers: Sequence[Customer]) -> list[Row]:
    """Customers with defects, then re-sent revisions of a few, then rows without an id."""
    rows = [_cust_info_row(customer) for customer in customers]
    inject_defects(rng, rows, CUST_INFO_DEFECTS)
    resent = resend_rows(rng, rows, CUST_INFO_RESEND_RATE, _revise_customer)
    orphans = [_orphan_cust_info_row(rng) for _ in range(rows_to_spoil(ORPHAN_RATE, len(rows)))]
    return rows + resent + orphans


def _cust_info_row(customer: Customer) -> Row:
    return {
        "cst_id": str(customer.customer_id),
        "cst_key": customer.key,
        "cst_firstname": customer.first_name,
        "cst_lastname": customer.last_name,
        "cst_marital_status": customer.marital_status,
        "cst_gndr": customer.gender[0],
        "cst_create_date": customer.created.isoformat(),
    }


def _revise_customer(row: Row, rng: random.Random) -> None:
    """A later edit of the record: a new create date and possibly a new marital status."""
    created = date.fromisoformat(row["cst_create_date"])
    row["cst_create_date"] = (created + timedelta(rng.choice(REVISION_DELAY_DAYS))).isoformat()
    row["cst_marital_status"] = rng.choice(MARITAL_STATUSES)


def _orphan_cust_info_row(rng: random.Random) -> Row:
    """A stray CRM row: no customer id, a junk key and nothing else."""
    junk_key = f"{rng.choice(ORPHAN_KEY_PREFIXES)}{rng.choice(ORPHAN_KEY_NUMBERS)}"
    return dict.fromkeys(CUST_INFO_HEADER, "") | {"cst_key": junk_key}


def _cust_az12_rows(rng: random.Random, customers: Sequence[Customer]) -> list[Row]:
    rows = [_cust_az12_row(rng, customer) for customer in customers]
    inject_defects(rng, rows, CUST_AZ12_DEFECTS)
    return rows


def _cust_az12_row(rng: random.Random, customer: Customer) -> Row:
    legacy = rng.random() < LEGACY_ERP_PREFIX_SHARE
    return {
        "CID": (LEGACY_ERP_PREFIX if legacy else "") + customer.key,
        "BDATE": customer.birthdate.isoformat(),
        "GEN": customer.gender,
    }


def _birthdate_in_future(row: Row, rng: random.Random) -> None:
    row["BDATE"] = random_date(rng, FUTURE_BIRTHDATE_FIRST, FUTURE_BIRTHDATE_LAST).isoformat()


def _abbreviate_gender(row: Row, rng: random.Random) -> None:
    row["GEN"] = row["GEN"][0]


def _loc_a101_rows(rng: random.Random, customers: Sequence[Customer]) -> list[Row]:
    rows = [_loc_a101_row(rng, customer) for customer in customers]
    inject_defects(rng, rows, LOC_A101_DEFECTS)
    return rows


def _loc_a101_row(rng: random.Random, customer: Customer) -> Row:
    return {
        "CID": f"{CUSTOMER_KEY_PREFIX}-{customer.customer_id:08d}",
        "CNTRY": rng.choice(customer.country_spellings),
    }


def _px_cat_row(subcategory: Subcategory) -> Row:
    return {
        "ID": subcategory.id,
        "CAT": subcategory.category,
        "SUBCAT": subcategory.name,
        "MAINTENANCE": "Yes" if subcategory.needs_maintenance else "No",
    }


def _random_products(rng: random.Random) -> list[Product]:
    return [
        product
        for family in PRODUCT_FAMILIES
        for tier in MODEL_TIERS
        for product in _random_model(rng, family, tier)
    ]


def _random_model(rng: random.Random, family: ProductFamily, tier: str) -> list[Product]:
    """Every colour and size of one model; they share its code, price and cost."""
    model_code = f"{tier[0]}{rng.choice(MODEL_NUMBERS)}"
    list_price = rng.randint(*family.price_range)
    cost = round(list_price * rng.uniform(*COST_SHARE_OF_PRICE))
    category_prefix = family.subcategory_id.replace("_", "-")
    return [
        Product(
            key="-".join(_present(category_prefix, family.code, model_code + color[0], size)),
            name=" ".join(_present(tier, family.name, "-", color, size)),
            line=family.line,
            list_price=list_price,
            cost=cost,
        )
        for color in family.colors
        for size in family.sizes or ("",)
    ]


def _present(*parts: str) -> list[str]:
    """The non-empty parts, so that a product without sizes gets no trailing separator."""
    return [part for part in parts if part]


def _prd_info_rows(rng: random.Random, products: Sequence[Product]) -> list[Row]:
    rows = [row for product in products for row in _price_history(rng, product)]
    for prd_id, row in enumerate(rows, start=FIRST_PRODUCT_ROW_ID):
        row["prd_id"] = str(prd_id)
    inject_defects(rng, rows, PRD_INFO_DEFECTS)
    return rows


def _price_history(rng: random.Random, product: Product) -> list[Row]:
    """One row per model year, each ending the day before the next starts; the last is open."""
    versions = rng.choices(VERSION_COUNTS, cum_weights=VERSION_CUMULATIVE_WEIGHTS)[0]
    first_year = rng.choice(FIRST_LAUNCH_YEARS)
    starts = [date(first_year + n, MODEL_YEAR_START_MONTH, 1) for n in range(versions)]
    ends = [next_start - timedelta(days=1) for next_start in starts[1:]]
    return [
        {
            "prd_key": product.key,
            "prd_nm": product.name,
            "prd_cost": str(round(product.cost * rng.uniform(*COST_CHANGE_PER_VERSION))),
            "prd_line": product.line + " ",
            "prd_start_dt": start.isoformat(),
            "prd_end_dt": end.isoformat() if end else "",
        }
        for start, end in zip(starts, [*ends, None], strict=True)
    ]


def _end_before_start(row: Row, rng: random.Random) -> None:
    """The sample's history rows often claim to end before they start; silver re-derives ends."""
    start = date.fromisoformat(row["prd_start_dt"])
    row["prd_end_dt"] = (start - timedelta(rng.choice(END_BEFORE_START_DAYS))).isoformat()


def _clean_order_lines(
    rng: random.Random, sales: int, customer_count: int, products: Sequence[Product]
) -> Iterator[Row]:
    """Valid order lines, one to four per order, dated evenly over the period in order.

    An order names each product once, as the public sample does: a repeated product would be
    a second line that silver cannot tell from a re-sent duplicate.
    """
    written = 0
    order_number = FIRST_ORDER_NUMBER
    while written < sales:
        ordered = ORDER_PERIOD_START + timedelta(written * ORDER_PERIOD_DAYS // sales)
        order = _random_order(rng, order_number, customer_count, ordered)
        lines = rng.choices(LINES_PER_ORDER, cum_weights=LINES_PER_ORDER_CUMULATIVE_WEIGHTS)[0]
        lines = min(lines, sales - written)
        for product in rng.sample(products, lines):
            yield order | _random_line_item(rng, product)
        written += lines
        order_number += 1


def _random_order(rng: random.Random, number: int, customer_count: int, ordered: date) -> Row:
    shipped = ordered + timedelta(rng.choice(SHIPPING_DAYS))
    return {
        "sls_ord_num": f"SO{number}",
        "sls_cust_id": str(FIRST_CUSTOMER_ID + rng.randrange(customer_count)),
        "sls_order_dt": _as_integer_date(ordered),
        "sls_ship_dt": _as_integer_date(shipped),
        "sls_due_dt": _as_integer_date(shipped + timedelta(DUE_DAYS_AFTER_SHIPPING)),
    }


def _as_integer_date(day: date) -> str:
    """The CRM stores dates as yyyymmdd integers."""
    return day.strftime("%Y%m%d")


def _random_line_item(rng: random.Random, product: Product) -> Row:
    quantity = rng.choices(QUANTITIES, cum_weights=QUANTITY_CUMULATIVE_WEIGHTS)[0]
    return {
        "sls_prd_key": product.sales_key,
        "sls_sales": str(quantity * product.list_price),
        "sls_quantity": str(quantity),
        "sls_price": str(product.list_price),
    }


def _append_digit_to_order_date(row: Row, rng: random.Random) -> None:
    """A stray keystroke: `20230517` becomes the nine-digit `202305171`."""
    row["sls_order_dt"] += str(rng.randrange(10))


def _inflate_sales_total(row: Row, rng: random.Random) -> None:
    """A total that disagrees with quantity × price, as when a line is keyed more than once."""
    row["sls_sales"] = str(int(row["sls_sales"]) * rng.choice(SALES_TOTAL_MULTIPLIERS))


CUST_INFO_DEFECTS = (
    Defect(pad("cst_firstname"), rate=0.03),
    Defect(pad("cst_lastname"), rate=0.03),
    Defect(blank("cst_marital_status"), rate=0.01),
    Defect(blank("cst_gndr"), rate=0.05),
)
CUST_INFO_RESEND_RATE = 0.005
ORPHAN_RATE = 0.002
CUST_AZ12_DEFECTS = (
    Defect(_birthdate_in_future, rate=0.003),
    Defect(_abbreviate_gender, rate=0.01),
    Defect(blank("GEN"), rate=0.01),
)
LOC_A101_DEFECTS = (Defect(blank("CNTRY"), rate=0.01),)
PRD_INFO_DEFECTS = (
    Defect(blank("prd_cost"), rate=0.02),
    Defect(blank("prd_line"), rate=0.02),
    Defect(_end_before_start, rate=0.05),
)
SALES_DEFECTS = (
    Defect(replace_with("sls_order_dt", ("0",)), rate=0.004),
    Defect(replace_with("sls_order_dt", SHORT_DATE_NUMBERS), rate=0.004),
    Defect(_append_digit_to_order_date, rate=0.004),
    Defect(_inflate_sales_total, rate=0.004),
    Defect(negate("sls_sales"), rate=0.003),
    Defect(blank("sls_sales"), rate=0.003),
    Defect(negate("sls_price"), rate=0.003),
    Defect(blank("sls_price"), rate=0.003),
    Defect(replace_with("sls_cust_id", UNKNOWN_CUSTOMER_IDS), rate=0.003),
    Defect(replace_with("sls_prd_key", UNKNOWN_PRODUCT_KEYS), rate=0.003),
)
