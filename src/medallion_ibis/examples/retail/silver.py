"""Retail silver: typed, standardised, flagged; one row per key, the rest in quarantine."""

from datetime import date

import ibis
import ibis.expr.types as ir
from ibis import _

from medallion_ibis import (
    MONEY,
    AsOfRule,
    KeyScreen,
    RunContext,
    clean_text,
    conform,
    days_between,
    non_negative_or_null,
    non_negative_or_zero,
    parse_decimal,
    parse_int,
    parse_iso_date,
    positive_or_null,
    ratio,
    title_case,
    upper_text,
    with_lineage,
)

from . import contracts
from .sources import CUSTOMERS, PIPELINE, PRODUCTS, SALES

EMAIL_ADDRESS = r"^[^@\s]+@[^@\s]+[.][^@\s]+$"

SALES_KEYS = KeyScreen(
    source_table=SALES.table,
    required=("transaction_id", "customer_id", "product_id"),
    integer=("transaction_id", "customer_id", "product_id"),
    key=("transaction_id",),
)
CUSTOMER_KEYS = KeyScreen(
    source_table=CUSTOMERS.table,
    required=("customer_id",),
    integer=("customer_id",),
    key=("customer_id",),
)
PRODUCT_KEYS = KeyScreen(
    source_table=PRODUCTS.table,
    required=("product_id",),
    integer=("product_id",),
    key=("product_id",),
)


def typed_sales(sales: ir.Table) -> ir.Table:
    """Every raw text column parsed once into its type; bad values become NULL."""
    return with_lineage(
        sales,
        transaction_id=parse_int(sales.transaction_id),
        customer_id=parse_int(sales.customer_id),
        product_id=parse_int(sales.product_id),
        sales_rep_id=parse_int(sales.sales_rep_id),
        product_name_clean=upper_text(sales.product_name),
        category_clean=upper_text(sales.category),
        store_location_clean=upper_text(sales.store_location),
        quantity=parse_int(sales.quantity),
        unit_price=parse_decimal(sales.unit_price),
        transaction_date_clean=parse_iso_date(sales.transaction_date),
    )


def validated_sales(sales: ir.Table, latest_possible_date: date) -> ir.Table:
    """Quantity must be positive and price non-negative; only then is there a total.

    A valid transaction also has a date, and not one after ``latest_possible_date`` (the
    build's day, see ``RunContext.latest_possible_date``): a sale dated 9999-12-31 is a typo or
    a placeholder. It stays in silver with ``is_future_dated`` saying why it is not valid, so
    it counts in no gold table and cannot move the default as-of date.
    """
    checked = sales.mutate(
        quantity_valid=positive_or_null(sales.quantity),
        unit_price_valid=non_negative_or_null(sales.unit_price),
        is_future_dated=(
            sales.transaction_date_clean > ibis.literal(latest_possible_date)
        ).fill_null(False),
    )
    return checked.mutate(
        total_amount=(checked.quantity_valid * checked.unit_price_valid).cast(MONEY),
        is_valid_transaction=(
            checked.quantity_valid.notnull()
            & checked.unit_price_valid.notnull()
            & checked.transaction_date_clean.notnull()
            & ~checked.is_future_dated
        ),
    )


@PIPELINE.model(layer="silver", inputs=(SALES.table,), contract=contracts.SilverSales)
def silver_sales_cleaned(bronze_sales: ir.Table, *, run: RunContext) -> ir.Table:
    """One row per transaction: typed, standardised, with a validity flag."""
    return (
        SALES_KEYS.accepted(bronze_sales)
        .pipe(typed_sales)
        .pipe(validated_sales, run.latest_possible_date)
        .pipe(conform, contracts.SilverSales)
    )


def tenure_segment(registered: ir.DateValue, as_of: ir.DateValue) -> ir.StringValue:
    """New (≤ 30 days before the as-of date), Recent (≤ 365), else Established."""
    days = days_between(registered, as_of)
    return ibis.cases((days <= 30, "New"), (days <= 365, "Recent"), (days.notnull(), "Established"))


def value_segment(credit_limit: ir.DecimalValue) -> ir.StringValue:
    """High Value (credit ≥ 5000), Medium Value (≥ 2000), else Standard Value."""
    return ibis.cases(
        (credit_limit >= 5000, "High Value"),
        (credit_limit >= 2000, "Medium Value"),
        else_="Standard Value",
    )


def typed_customers(customers: ir.Table) -> ir.Table:
    """Names title-cased, codes upper-cased, numbers and dates parsed."""
    return with_lineage(
        customers,
        customer_id=parse_int(customers.customer_id),
        first_name_clean=title_case(customers.first_name),
        last_name_clean=title_case(customers.last_name),
        email=clean_text(customers.email).lower(),
        phone_clean=clean_text(customers.phone),
        customer_type_clean=upper_text(customers.customer_type),
        credit_limit_valid=non_negative_or_null(parse_decimal(customers.credit_limit)),
        registration_date_clean=parse_iso_date(customers.registration_date),
    )


def segmented_customers(customers: ir.Table, as_of: ir.DateValue) -> ir.Table:
    """Email kept only when it looks like an address; tenure and value segments."""
    has_email = customers.email.re_search(EMAIL_ADDRESS).fill_null(False)
    return customers.mutate(
        full_name=ibis.literal(" ")
        .join([customers.first_name_clean, customers.last_name_clean])
        .nullif(""),
        email_clean=ibis.cases((has_email, customers.email), else_=ibis.null("string")),
        customer_tenure_segment=tenure_segment(customers.registration_date_clean, as_of),
        value_segment=value_segment(customers.credit_limit_valid),
        is_valid_customer=has_email
        & customers.first_name_clean.notnull()
        & customers.last_name_clean.notnull()
        & customers.registration_date_clean.notnull(),
    )


@PIPELINE.model(layer="silver", inputs=(CUSTOMERS.table,), contract=contracts.SilverCustomers)
def silver_customers_cleaned(bronze_customers: ir.Table, *, run: RunContext) -> ir.Table:
    """One row per customer: names title-cased, email kept only when it is an address."""
    return (
        CUSTOMER_KEYS.accepted(bronze_customers)
        .pipe(typed_customers)
        .pipe(segmented_customers, run.as_of)
        .pipe(conform, contracts.SilverCustomers)
    )


def inventory_status(stock: ir.IntegerValue, reorder_level: ir.IntegerValue) -> ir.StringValue:
    """Low Stock at or below the reorder level, Medium Stock up to twice it, else High Stock."""
    return ibis.cases(
        (stock <= reorder_level, "Low Stock"),
        (stock <= reorder_level * 2, "Medium Stock"),
        else_="High Stock",
    )


def price_tier(retail_price: ir.DecimalValue) -> ir.StringValue:
    """Premium from 1000, Standard from 100, else Budget; unknown price, unknown tier."""
    return ibis.cases(
        (retail_price >= 1000, "Premium"),
        (retail_price >= 100, "Standard"),
        (retail_price >= 0, "Budget"),
    )


def typed_products(products: ir.Table) -> ir.Table:
    """Names title-cased, categories upper-cased, prices and stock parsed."""
    return with_lineage(
        products,
        product_id=parse_int(products.product_id),
        product_name_clean=title_case(products.product_name),
        category_clean=upper_text(products.category),
        subcategory_clean=upper_text(products.subcategory),
        brand_clean=title_case(products.brand),
        supplier_clean=title_case(products.supplier),
        cost_price=parse_decimal(products.cost_price),
        retail_price=parse_decimal(products.retail_price),
        stock_quantity=parse_int(products.stock_quantity),
        reorder_level=parse_int(products.reorder_level),
    )


def priced_products(products: ir.Table) -> ir.Table:
    """Margins only when there is one; negative stock counts as none; tiers and status."""
    has_margin = (products.cost_price > 0) & (products.retail_price > products.cost_price)
    margin = products.retail_price - products.cost_price
    stock = non_negative_or_zero(products.stock_quantity)
    reorder_level = non_negative_or_zero(products.reorder_level)
    return products.mutate(
        cost_price_valid=non_negative_or_null(products.cost_price),
        retail_price_valid=non_negative_or_null(products.retail_price),
        profit_margin_amount=ibis.cases((has_margin, margin.cast(MONEY))),
        profit_margin_percent=ibis.cases((has_margin, ratio(margin * 100, products.cost_price))),
        stock_quantity_valid=stock,
        reorder_level_valid=reorder_level,
        inventory_status=inventory_status(stock, reorder_level),
        price_tier=price_tier(products.retail_price),
        is_valid_product=(
            products.product_name_clean.notnull()
            & products.category_clean.notnull()
            & (products.cost_price >= 0)
            & (products.retail_price >= products.cost_price)
            & (products.stock_quantity >= 0)
        ).fill_null(False),
    )


@PIPELINE.model(layer="silver", inputs=(PRODUCTS.table,), contract=contracts.SilverProducts)
def silver_products_cleaned(bronze_products: ir.Table) -> ir.Table:
    """One row per product: margins, inventory status and price tier."""
    return (
        PRODUCT_KEYS.accepted(bronze_products)
        .pipe(typed_products)
        .pipe(priced_products)
        .pipe(conform, contracts.SilverProducts)
    )


@PIPELINE.model(
    layer="silver",
    inputs=(SALES.table, CUSTOMERS.table, PRODUCTS.table),
    contract=contracts.Quarantine,
    partition_column="pipeline",
)
def quarantine(
    bronze_sales: ir.Table,
    bronze_customers: ir.Table,
    bronze_products: ir.Table,
) -> ir.Table:
    """Bronze rows kept out of silver, each with the rule it broke and why."""
    return ibis.union(
        SALES_KEYS.rejected(bronze_sales, PIPELINE.name),
        CUSTOMER_KEYS.rejected(bronze_customers, PIPELINE.name),
        PRODUCT_KEYS.rejected(bronze_products, PIPELINE.name),
    )


def latest_valid_sale_date(sales: ir.Table) -> ir.Scalar:
    """Default as-of date: the day of the latest valid sale, so a rebuild is reproducible.

    A future-dated sale is not valid (see ``validated_sales``), so it cannot move this date.
    """
    return sales.filter(_.is_valid_transaction).transaction_date_clean.max()


PIPELINE.default_as_of = AsOfRule(model="silver_sales_cleaned", latest=latest_valid_sale_date)
