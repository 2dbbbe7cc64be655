"""Retail seeds: a year of store sales, with the customers and products they refer to.

The three files follow the layout of the original retail medallion example (see
`shared/reference/retail`) at any size: sales are streamed row by row, so ten million of them
need no more memory than ten thousand. Each file carries a small share of every defect the
silver layer cleans, so the seeds exercise the cleaning rules rather than just the happy path.
"""

import random
from collections.abc import Iterator
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
    replace_with,
    resend_rows,
    scramble_text,
    stream_with_defects,
)
from medallion_ibis.generate._sampling import (
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    TableSize,
    random_date,
)

SALES_FILE = "raw_sales.csv"
CUSTOMERS_FILE = "raw_customers.csv"
PRODUCTS_FILE = "raw_products.csv"
SALES_HEADER = (
    "transaction_id", "customer_id", "product_id", "product_name", "category", "quantity",
    "unit_price", "transaction_date", "sales_rep_id", "store_location",
)  # fmt: skip
CUSTOMERS_HEADER = (
    "customer_id", "first_name", "last_name", "email", "phone", "registration_date",
    "customer_type", "credit_limit",
)  # fmt: skip
PRODUCTS_HEADER = (
    "product_id", "product_name", "category", "subcategory", "brand", "supplier", "cost_price",
    "retail_price", "stock_quantity", "reorder_level",
)  # fmt: skip
LINE_TERMINATOR = "\n"
"""The reference export uses Unix line ends."""

SALES_START = date(2024, 1, 1)
SALES_DAYS = 366
REGISTRATION_FIRST = date(2022, 1, 1)
REGISTRATION_LAST = date(2024, 12, 31)
FIRST_TRANSACTION_ID = 100_001
FIRST_PRODUCT_ID = 501
FIRST_SALES_REP_ID = 101
SALES_REPS_PER_STORE = 3
RESEND_LOOKBACK = 50
"""How many transactions back a re-sent sale may reach."""

CUSTOMER_TABLE = TableSize(sales_per_row=10, minimum=50, maximum=20_000)
UNKNOWN_CUSTOMER_IDS = range(900_001, 1_000_000)
"""Above CUSTOMER_TABLE.maximum, so these ids never match a customer."""
UNKNOWN_PRODUCT_IDS = range(9_001, 10_000)
"""Far above the catalogue's ids, so these never match a product."""

STORE_LOCATIONS = (
    "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Seattle", "Miami",
)  # fmt: skip
QUANTITIES = (1, 2, 3, 4, 5)
QUANTITY_CUMULATIVE_WEIGHTS = tuple(accumulate((60, 25, 9, 4, 2)))
FIRST_NAMES = FEMALE_FIRST_NAMES + MALE_FIRST_NAMES
PHONE_PREFIX = "555-"
"""The exchange reserved for fictional numbers."""
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
SUPPLIERS = (
    "Northwind Wholesale", "Harbor Distribution", "Summit Supply Co", "Great Lakes Trading",
    "Pacific Goods",
)  # fmt: skip
PRICE_CENTS = 0.99
"""Retail prices end in .99."""
COST_SHARE_OF_PRICE = (0.55, 0.8)
"""Cost price as a share of retail price: the margin range of a general retailer."""
BELOW_COST_SHARE = (0.6, 0.95)
"""A mispriced product's retail price as a share of its cost price."""
STOCK_QUANTITIES = range(1, 301)
REORDER_LEVELS = range(5, 51)

QUANTITY_WORDS = ("two", "one", "N/A")
IMPOSSIBLE_DATES = ("2024-02-30", "2024-04-31", "2024-13-05")
UNPARSEABLE_DATES = ("not a date", "unknown", "TBD")


@dataclass(frozen=True)
class CustomerType:
    """A customer tier and the credit limits granted to it."""

    name: str
    credit_limits: range


CUSTOMER_TYPES = (
    CustomerType("Standard", range(1_000, 3_001, 250)),
    CustomerType("Premium", range(5_000, 10_001, 500)),
    CustomerType("Business", range(10_000, 25_001, 1_000)),
)


@dataclass(frozen=True)
class ProductLine:
    """Products that share a category, subcategory, brand and price bracket."""

    category: str
    subcategory: str
    brand: str
    price_range: tuple[int, int]
    names: tuple[str, ...]


PRODUCT_LINES = (
    ProductLine("Electronics", "Computers", "Voltix", (650, 2200),
                ("Ultrabook 14", "Convertible 13", "Desktop Tower")),
    ProductLine("Electronics", "Displays", "ViewMax", (180, 900),
                ('Monitor 27"', 'Monitor 32"', 'Tablet 11"')),
    ProductLine("Electronics", "Accessories", "Voltix", (15, 120),
                ("Bluetooth Mouse", "Mechanical Keyboard", "USB-C Cable, 2 m", "Webcam HD")),
    ProductLine("Electronics", "Audio", "SoundWave", (40, 350),
                ("Noise-Cancelling Headphones", "Bluetooth Speaker", "Earbuds")),
    ProductLine("Furniture", "Seating", "Ardent Home", (120, 650),
                ("Mesh Task Chair", "Drafting Stool", "Executive Chair")),
    ProductLine("Furniture", "Desks", "Ardent Home", (250, 900),
                ("Sit-Stand Desk", "Corner Desk", "Writing Desk")),
    ProductLine("Furniture", "Lighting", "Lumina", (25, 140),
                ("Architect Lamp", "Floor Lamp", "LED Strip")),
    ProductLine("Office Supplies", "Stationery", "Quillmark", (3, 30),
                ("Spiral Notebook A5", "Gel Pens, Pack of 12", "Sticky Notes")),
    ProductLine("Office Supplies", "Filing", "Quillmark", (8, 90),
                ("Binder", "Filing Cabinet Insert", "Document Tray")),
    ProductLine("Kitchen", "Appliances", "HomeChef", (30, 400),
                ("Coffee Maker", "Electric Kettle", "Espresso Machine")),
    ProductLine("Kitchen", "Cookware", "HomeChef", (20, 220),
                ("Frying Pan", "Stock Pot", "Knife Set")),
    ProductLine("Sports", "Fitness", "ActiveLife", (15, 600),
                ("Yoga Mat", "Dumbbell Pair", "Exercise Bike")),
)  # fmt: skip


@dataclass(frozen=True)
class Product:
    """A catalogue entry as the shop really sells it, before any defect is injected."""

    product_id: int
    name: str
    line: ProductLine
    supplier: str
    cost_price: float
    retail_price: float


def write_retail_seeds(out_dir: Path, *, sales: int, seed: int) -> dict[str, int]:
    """Writes raw_sales.csv, raw_customers.csv, raw_products.csv into out_dir.

    Returns the number of data rows written per file name. The same `sales` and `seed` always
    give byte-identical files.
    """
    rng = random.Random(seed)
    customer_count = CUSTOMER_TABLE.for_sales(sales)
    customers = _customer_rows(rng, customer_count)
    products = _random_products(rng)
    product_rows = _product_rows(rng, products)
    sales_rows = stream_with_defects(
        rng, _clean_sales(rng, sales, customer_count, products), SALES_DEFECTS
    )
    return {
        CUSTOMERS_FILE: write_csv(
            out_dir / CUSTOMERS_FILE, CUSTOMERS_HEADER, customers, line_terminator=LINE_TERMINATOR
        ),
        PRODUCTS_FILE: write_csv(
            out_dir / PRODUCTS_FILE, PRODUCTS_HEADER, product_rows, line_terminator=LINE_TERMINATOR
        ),
        SALES_FILE: write_csv(
            out_dir / SALES_FILE, SALES_HEADER, sales_rows, line_terminator=LINE_TERMINATOR
        ),
    }


def _customer_rows(rng: random.Random, count: int) -> list[Row]:
    """Customers 1..count with defects, followed by re-sent revisions of a few of them."""
    rows = [_random_customer(rng, customer_id) for customer_id in range(1, count + 1)]
    inject_defects(rng, rows, CUSTOMER_DEFECTS)
    return rows + resend_rows(rng, rows, CUSTOMER_RESEND_RATE, _upgrade_customer)


def _random_customer(rng: random.Random, customer_id: int) -> Row:
    first_name = rng.choice(FIRST_NAMES)
    last_name = rng.choice(LAST_NAMES)
    customer_type = rng.choice(CUSTOMER_TYPES)
    return {
        "customer_id": str(customer_id),
        "first_name": first_name,
        "last_name": last_name,
        "email": f"{first_name}.{last_name}@{rng.choice(EMAIL_DOMAINS)}".lower(),
        "phone": f"{PHONE_PREFIX}{rng.randint(0, 9999):04d}",
        "registration_date": random_date(rng, REGISTRATION_FIRST, REGISTRATION_LAST).isoformat(),
        "customer_type": customer_type.name,
        "credit_limit": f"{rng.choice(customer_type.credit_limits):.2f}",
    }


def _upgrade_customer(row: Row, rng: random.Random) -> None:
    """The usual reason a customer record is re-sent: a new tier and credit limit."""
    customer_type = rng.choice(CUSTOMER_TYPES)
    row["customer_type"] = customer_type.name
    row["credit_limit"] = f"{rng.choice(customer_type.credit_limits):.2f}"


def _drop_at_sign(row: Row, rng: random.Random) -> None:
    """An address a web form failed to validate, e.g. `ana.chen.example.com`."""
    row["email"] = row["email"].replace("@", ".")


def _random_products(rng: random.Random) -> list[Product]:
    names = [(line, name) for line in PRODUCT_LINES for name in line.names]
    return [
        _random_product(rng, FIRST_PRODUCT_ID + offset, line, name)
        for offset, (line, name) in enumerate(names)
    ]


def _random_product(rng: random.Random, product_id: int, line: ProductLine, name: str) -> Product:
    retail_price = rng.randint(*line.price_range) + PRICE_CENTS
    return Product(
        product_id=product_id,
        name=name,
        line=line,
        supplier=rng.choice(SUPPLIERS),
        cost_price=round(retail_price * rng.uniform(*COST_SHARE_OF_PRICE), 2),
        retail_price=retail_price,
    )


def _product_rows(rng: random.Random, products: list[Product]) -> list[Row]:
    rows = [_product_row(rng, product) for product in products]
    inject_defects(rng, rows, PRODUCT_DEFECTS)
    return rows


def _product_row(rng: random.Random, product: Product) -> Row:
    return {
        "product_id": str(product.product_id),
        "product_name": product.name,
        "category": product.line.category,
        "subcategory": product.line.subcategory,
        "brand": product.line.brand,
        "supplier": product.supplier,
        "cost_price": f"{product.cost_price:.2f}",
        "retail_price": f"{product.retail_price:.2f}",
        "stock_quantity": str(rng.choice(STOCK_QUANTITIES)),
        "reorder_level": str(rng.choice(REORDER_LEVELS)),
    }


def _price_below_cost(row: Row, rng: random.Random) -> None:
    row["retail_price"] = f"{float(row['cost_price']) * rng.uniform(*BELOW_COST_SHARE):.2f}"


def _clean_sales(
    rng: random.Random, sales: int, customer_count: int, products: list[Product]
) -> Iterator[Row]:
    """Valid sales, spread evenly over the year in transaction order, yielded one at a time."""
    for index in range(sales):
        product = rng.choice(products)
        store = rng.randrange(len(STORE_LOCATIONS))
        yield {
            "transaction_id": str(FIRST_TRANSACTION_ID + index),
            "customer_id": str(rng.randint(1, customer_count)),
            "product_id": str(product.product_id),
            "product_name": product.name,
            "category": product.line.category,
            "quantity": str(rng.choices(QUANTITIES, cum_weights=QUANTITY_CUMULATIVE_WEIGHTS)[0]),
            "unit_price": f"{product.retail_price:.2f}",
            "transaction_date": (SALES_START + timedelta(index * SALES_DAYS // sales)).isoformat(),
            "sales_rep_id": str(_sales_rep_id(rng, store)),
            "store_location": STORE_LOCATIONS[store],
        }


def _sales_rep_id(rng: random.Random, store: int) -> int:
    """Each store has its own few reps, so a rep id always points at one store."""
    return FIRST_SALES_REP_ID + store * SALES_REPS_PER_STORE + rng.randrange(SALES_REPS_PER_STORE)


def _write_date_day_first(row: Row, rng: random.Random) -> None:
    """A date typed the European way, e.g. `15/01/2024`."""
    day = date.fromisoformat(row["transaction_date"])
    row["transaction_date"] = day.strftime("%d/%m/%Y")


def _prefix_transaction_id(row: Row, rng: random.Random) -> None:
    row["transaction_id"] = "TX-" + row["transaction_id"]


def _resend_earlier_transaction_id(row: Row, rng: random.Random) -> None:
    """Re-use a recent transaction's id; the very first sale has none before it and stays."""
    current = int(row["transaction_id"])
    if current > FIRST_TRANSACTION_ID:
        lookback = min(RESEND_LOOKBACK, current - FIRST_TRANSACTION_ID)
        row["transaction_id"] = str(current - rng.randint(1, lookback))


SALES_DEFECTS = (
    Defect(replace_with("quantity", ("0",)), rate=0.004),
    Defect(negate("quantity"), rate=0.004),
    Defect(replace_with("quantity", QUANTITY_WORDS), rate=0.004),
    Defect(negate("unit_price"), rate=0.004),
    Defect(replace_with("transaction_date", IMPOSSIBLE_DATES), rate=0.004),
    Defect(replace_with("transaction_date", UNPARSEABLE_DATES), rate=0.004),
    Defect(_write_date_day_first, rate=0.004),
    Defect(blank("transaction_id"), rate=0.004),
    Defect(_prefix_transaction_id, rate=0.004),
    Defect(_resend_earlier_transaction_id, rate=0.005),
    Defect(blank("customer_id"), rate=0.004),
    Defect(blank("product_id"), rate=0.004),
    Defect(replace_with("customer_id", UNKNOWN_CUSTOMER_IDS), rate=0.004),
    Defect(replace_with("product_id", UNKNOWN_PRODUCT_IDS), rate=0.004),
    Defect(scramble_text("store_location"), rate=0.005),
    Defect(scramble_text("category"), rate=0.005),
)
CUSTOMER_DEFECTS = (
    Defect(_drop_at_sign, rate=0.01),
    Defect(blank("email"), rate=0.01),
    Defect(blank("first_name"), rate=0.01),
    Defect(blank("last_name"), rate=0.01),
    Defect(negate("credit_limit"), rate=0.01),
    Defect(replace_with("registration_date", IMPOSSIBLE_DATES + UNPARSEABLE_DATES), rate=0.01),
)
CUSTOMER_RESEND_RATE = 0.01
PRODUCT_DEFECTS = (
    Defect(_price_below_cost, rate=0.02),
    Defect(negate("stock_quantity"), rate=0.02),
    Defect(blank("category"), rate=0.02),
)
