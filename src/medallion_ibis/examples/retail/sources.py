"""The retail pipeline's input files: the interface its users export to."""

from medallion_ibis import Pipeline, Source

SOURCE_SYSTEM = "retail_pos"

SALES = Source(
    table="bronze_sales",
    path="retail/raw_sales.csv",
    columns=(
        "transaction_id",
        "customer_id",
        "product_id",
        "product_name",
        "category",
        "quantity",
        "unit_price",
        "transaction_date",
        "sales_rep_id",
        "store_location",
    ),
    system=SOURCE_SYSTEM,
)
CUSTOMERS = Source(
    table="bronze_customers",
    path="retail/raw_customers.csv",
    columns=(
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "registration_date",
        "customer_type",
        "credit_limit",
    ),
    system=SOURCE_SYSTEM,
)
PRODUCTS = Source(
    table="bronze_products",
    path="retail/raw_products.csv",
    columns=(
        "product_id",
        "product_name",
        "category",
        "subcategory",
        "brand",
        "supplier",
        "cost_price",
        "retail_price",
        "stock_quantity",
        "reorder_level",
    ),
    system=SOURCE_SYSTEM,
)

PIPELINE = Pipeline(
    name="retail",
    sources=(SALES, CUSTOMERS, PRODUCTS),
    description="Retail sales, customers and products into daily, customer and product marts.",
)
