"""CRM/ERP data contracts: what every silver and gold table promises its readers.

The quarantine table's contract is shared by every pipeline (``medallion_ibis.contracts``).
"""

import pandera.ibis as pa

from medallion_ibis import DATE, FLAG, INT, MONEY, STAMP, TEXT, column, table

NOT_AVAILABLE = "n/a"
MARITAL_STATUSES = ("Single", "Married", NOT_AVAILABLE)
GENDERS = ("Female", "Male", NOT_AVAILABLE)
PRODUCT_LINES = ("Mountain", "Road", "Other Sales", "Touring", NOT_AVAILABLE)

ErpCustomers = table(
    "erp_customers",
    {
        "customer_number": column(TEXT),
        "birthdate": column(DATE, nullable=True),
        "gender": column(TEXT, one_of=GENDERS),
    },
    unique=["customer_number"],
    lineage=True,
)

ErpLocations = table(
    "erp_locations",
    {
        "customer_number": column(TEXT),
        "country": column(TEXT),
    },
    unique=["customer_number"],
    lineage=True,
)

ErpCategories = table(
    "erp_categories",
    {
        "category_id": column(TEXT),
        "category": column(TEXT, nullable=True),
        "subcategory": column(TEXT, nullable=True),
        "maintenance": column(TEXT, nullable=True),
    },
    unique=["category_id"],
    lineage=True,
)

Customers = table(
    "customers",
    {
        "customer_id": column(INT),
        "customer_number": column(TEXT, nullable=True),
        "first_name": column(TEXT, nullable=True),
        "last_name": column(TEXT, nullable=True),
        "marital_status": column(TEXT, one_of=MARITAL_STATUSES),
        "gender": column(TEXT, one_of=GENDERS),
        "birthdate": column(DATE, nullable=True),
        "country": column(TEXT),
        "create_date": column(DATE, nullable=True),
    },
    unique=["customer_id"],
    lineage=True,
)

Products = table(
    "products",
    {
        "product_id": column(INT),
        "category_id": column(TEXT, nullable=True),
        "product_number": column(TEXT, nullable=True),
        "product_name": column(TEXT, nullable=True),
        "product_cost": column(MONEY, at_least=0),
        "product_line": column(TEXT, one_of=PRODUCT_LINES),
        "category": column(TEXT, nullable=True),
        "subcategory": column(TEXT, nullable=True),
        "maintenance": column(TEXT, nullable=True),
        "start_date": column(DATE, nullable=True),
        "end_date": column(DATE, nullable=True),
        "is_current": column(FLAG),
    },
    unique=["product_id"],
    lineage=True,
)

SalesClean = table(
    "sales_clean",
    {
        "order_number": column(TEXT),
        "line_number": column(INT, at_least=1),
        "product_number": column(TEXT),
        "customer_id": column(INT),
        "order_date": column(DATE, nullable=True),
        "ship_date": column(DATE, nullable=True),
        "due_date": column(DATE, nullable=True),
        "quantity": column(INT, nullable=True, above=0),
        "price": column(MONEY, nullable=True, at_least=0),
        "sales_amount": column(MONEY, nullable=True, at_least=0),
        "dates_out_of_order": column(FLAG),
        "is_future_dated": column(FLAG),
    },
    unique=["order_number", "line_number"],
    lineage=True,
)

DimCustomers = table(
    "dim_customers",
    {
        "customer_key": column(TEXT),
        "customer_id": column(INT),
        "customer_number": column(TEXT, nullable=True),
        "first_name": column(TEXT, nullable=True),
        "last_name": column(TEXT, nullable=True),
        "country": column(TEXT),
        "marital_status": column(TEXT, one_of=MARITAL_STATUSES),
        "gender": column(TEXT, one_of=GENDERS),
        "birthdate": column(DATE, nullable=True),
        "create_date": column(DATE, nullable=True),
        "_gold_created_at": column(STAMP),
    },
    unique=["customer_key"],
)

DimProducts = table(
    "dim_products",
    {
        "product_key": column(TEXT),
        "product_id": column(INT),
        "product_number": column(TEXT),
        "product_name": column(TEXT, nullable=True),
        "category_id": column(TEXT, nullable=True),
        "category": column(TEXT, nullable=True),
        "subcategory": column(TEXT, nullable=True),
        "maintenance": column(TEXT, nullable=True),
        "product_line": column(TEXT, one_of=PRODUCT_LINES),
        "product_cost": column(MONEY, at_least=0),
        "start_date": column(DATE, nullable=True),
        "_gold_created_at": column(STAMP),
    },
    unique=["product_key"],
)


def score() -> pa.Column:
    """A 1–5 quintile score; NULL for a customer without orders up to the as-of date."""
    return column(INT, nullable=True, at_least=1, at_most=5)


FactSales = table(
    "fact_sales",
    {
        # line
        "order_number": column(TEXT),
        "line_number": column(INT, at_least=1),
        "product_number": column(TEXT),
        # customer
        "customer_key": column(TEXT, nullable=True),
        "customer_id": column(INT),
        "customer_number": column(TEXT, nullable=True),
        "first_name": column(TEXT, nullable=True),
        "last_name": column(TEXT, nullable=True),
        "country": column(TEXT, nullable=True),
        "marital_status": column(TEXT, nullable=True, one_of=MARITAL_STATUSES),
        "gender": column(TEXT, nullable=True, one_of=GENDERS),
        "birthdate": column(DATE, nullable=True),
        "age_at_order": column(INT, nullable=True, at_least=0),
        # product
        "product_key": column(TEXT, nullable=True),
        "product_name": column(TEXT, nullable=True),
        "category": column(TEXT, nullable=True),
        "subcategory": column(TEXT, nullable=True),
        "maintenance": column(TEXT, nullable=True),
        "product_line": column(TEXT, nullable=True, one_of=PRODUCT_LINES),
        "product_cost": column(MONEY, nullable=True, at_least=0),
        # sales
        "quantity": column(INT, nullable=True, above=0),
        "price": column(MONEY, nullable=True, at_least=0),
        "sales_amount": column(MONEY, nullable=True, at_least=0),
        "cost_amount": column(MONEY, nullable=True, at_least=0),
        "margin": column(MONEY, nullable=True),
        # time
        "order_date": column(DATE, nullable=True),
        "order_year": column(INT, nullable=True),
        "order_quarter": column(INT, nullable=True, at_least=1, at_most=4),
        "order_month": column(INT, nullable=True, at_least=1, at_most=12),
        "order_day_of_week": column(INT, nullable=True, at_least=1, at_most=7),
        "order_iso_week": column(INT, nullable=True, at_least=1, at_most=53),
        "is_weekend": column(FLAG, nullable=True),
        "days_to_ship": column(INT, nullable=True),
        "days_to_due": column(INT, nullable=True),
        # behaviour before the order (point in time)
        "days_since_prev_order": column(INT, nullable=True, above=0),
        "prior_order_count": column(INT, nullable=True, at_least=0),
        "prior_spend": column(MONEY, nullable=True, at_least=0),
        # behaviour as of the build's as-of date
        "recency_days": column(INT, nullable=True, at_least=0),
        "frequency": column(INT, nullable=True, above=0),
        "monetary": column(MONEY, nullable=True, at_least=0),
        "recency_score": score(),
        "frequency_score": score(),
        "monetary_score": score(),
        # flags
        "is_customer_known": column(FLAG),
        "is_product_known": column(FLAG),
        "dates_out_of_order": column(FLAG),
        "is_future_dated": column(FLAG),
        "_gold_created_at": column(STAMP),
    },
    unique=["order_number", "line_number"],
)
