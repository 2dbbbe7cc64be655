"""CRM/ERP gold: customer and product dimensions and an ML-ready sales fact.

Surrogate keys are the first 16 hex digits of the md5 of the natural key, so a row keeps its
key from build to build and engine to engine, whatever else arrives. Behaviour features come
in two kinds: point-in-time features see only the customer's orders dated strictly before the
order (safe to train on), and RFM features describe the customer as of the build's as-of date.
"""

import ibis
import ibis.expr.types as ir
from ibis import _

from medallion_ibis import MONEY, RunContext, days_between, md5, with_ntile

from . import contracts
from .sources import PIPELINE

SILVER_CUSTOMERS = "customers"
SILVER_PRODUCTS = "products"
SILVER_SALES = "sales_clean"
DIM_CUSTOMERS = "dim_customers"
KEY_DIGITS = 16
SCORE_BUCKETS = 5


def surrogate_key(natural_key: ir.Value) -> ir.StringValue:
    """A stable key: the first 16 hex digits of the md5 of the natural key written as text."""
    return md5(natural_key.cast("string")).substr(0, KEY_DIGITS)


@PIPELINE.model(layer="gold", inputs=(SILVER_CUSTOMERS,), contract=contracts.DimCustomers)
def dim_customers(customers: ir.Table, *, run: RunContext) -> ir.Table:
    """One row per customer, keyed by a surrogate of its CRM id."""
    return customers.select(
        # keys
        customer_key=surrogate_key(customers.customer_id),
        customer_id=customers.customer_id,
        customer_number=customers.customer_number,
        # names
        first_name=customers.first_name,
        last_name=customers.last_name,
        # attributes
        country=customers.country,
        marital_status=customers.marital_status,
        gender=customers.gender,
        birthdate=customers.birthdate,
        create_date=customers.create_date,
        _gold_created_at=run.stamp(),
    )


def current_versions(products: ir.Table) -> ir.Table:
    """The version of each product number that describes it today.

    That is the current version (no end date); when the latest versions share a start date,
    the one with the highest prd_id, the latest entered. Versions without a product number
    cannot be sold or looked up and are left out.
    """
    current = products.filter(_.is_current & _.product_number.notnull())
    newest = ibis.window(
        group_by=current.product_number,
        order_by=[current.start_date.desc(nulls_first=False), current.product_id.desc()],
    )
    ranked = current.mutate(version_rank=ibis.row_number().over(newest))
    return ranked.filter(ranked.version_rank == 0).drop("version_rank")


@PIPELINE.model(layer="gold", inputs=(SILVER_PRODUCTS,), contract=contracts.DimProducts)
def dim_products(products: ir.Table, *, run: RunContext) -> ir.Table:
    """One row per product number, described by its current version."""
    current = current_versions(products)
    return current.select(
        # keys
        product_key=surrogate_key(current.product_number),
        product_id=current.product_id,
        product_number=current.product_number,
        # attributes
        product_name=current.product_name,
        category_id=current.category_id,
        category=current.category,
        subcategory=current.subcategory,
        maintenance=current.maintenance,
        product_line=current.product_line,
        product_cost=current.product_cost,
        start_date=current.start_date,
        _gold_created_at=run.stamp(),
    )


# --- product as sold -------------------------------------------------------------------------


def is_active_on(product: ir.Table, day: ir.DateValue) -> ir.BooleanValue:
    """The version was valid on ``day`` (no start date counts as valid from the beginning)."""
    started = product.start_date.isnull() | (product.start_date <= day)
    not_ended = product.end_date.isnull() | (day <= product.end_date)
    return (started & not_ended).fill_null(False)


def products_as_sold(sales: ir.Table, products: ir.Table) -> ir.Table:
    """The product version each sales line sold, one row per line that has one.

    A line's sls_prd_key is a product number; among that number's versions the one active on
    the order date wins. A line dated before the product's first version, or without an order
    date, takes the current version instead: the product is known, only its history does not
    reach back that far, and today's description beats none. Lines whose product number no
    version carries find nothing and stay unmatched.
    """
    lines = sales.select("order_number", "line_number", "product_number", "order_date")
    versions = products.select(
        "product_number",
        "product_id",
        "product_name",
        "category",
        "subcategory",
        "maintenance",
        "product_line",
        "product_cost",
        "start_date",
        "end_date",
        "is_current",
    )
    paired = lines.join(versions, "product_number")
    candidates = paired.mutate(is_active=is_active_on(paired, paired.order_date))
    usable = candidates.filter(candidates.is_active | candidates.is_current)
    preference = ibis.window(
        group_by=[usable.order_number, usable.line_number],
        order_by=[
            usable.is_active.desc(),
            usable.start_date.desc(nulls_first=False),
            usable.product_id.desc(),
        ],
    )
    ranked = usable.mutate(preference=ibis.row_number().over(preference))
    return ranked.filter(ranked.preference == 0).drop(
        "preference",
        "product_number",
        "order_date",
        "start_date",
        "end_date",
        "is_current",
        "is_active",
    )


# --- point-in-time behaviour -----------------------------------------------------------------


def customer_orders(sales: ir.Table) -> ir.Table:
    """One row per dated order of a customer: its date and its total sales amount.

    An order is dated by its earliest dated line, and all its lines count towards its spend;
    an order none of whose lines is dated cannot be placed in time and is left out.
    """
    orders = sales.group_by("customer_id", "order_number").aggregate(
        order_day=_.order_date.min(), order_spend=_.sales_amount.sum().fill_null(0)
    )
    return orders.filter(orders.order_day.notnull())


def prior_orders(sales: ir.Table) -> ir.Table:
    """Per order of a customer: what the customer had done strictly before that order's day.

    Prior orders are the customer's distinct earlier order numbers; lines of one order never
    count each other, and neither do two orders of the same day (the data does not say which
    came first, so neither may see the other). Prior spend sums their sales amounts.
    """
    orders = customer_orders(sales)
    days = orders.group_by("customer_id", "order_day").aggregate(
        day_orders=_.count(), day_spend=_.order_spend.sum()
    )
    timeline = ibis.window(group_by=days.customer_id, order_by=days.order_day)
    up_to_day = ibis.cumulative_window(group_by=days.customer_id, order_by=days.order_day)
    history = days.select(
        "customer_id",
        "order_day",
        previous_day=days.order_day.lag().over(timeline),
        prior_order_count=days.day_orders.sum().over(up_to_day) - days.day_orders,
        prior_spend=days.day_spend.sum().over(up_to_day) - days.day_spend,
    )
    joined = orders.join(history, ["customer_id", "order_day"])
    return joined.select(
        "customer_id",
        "order_number",
        days_since_prev_order=days_between(joined.previous_day, joined.order_day).cast("int64"),
        prior_order_count=joined.prior_order_count.cast("int64"),
        prior_spend=joined.prior_spend.cast(MONEY),
    )


# --- RFM as of the build -----------------------------------------------------------------------


def rfm_as_of(sales: ir.Table, as_of: ir.DateValue) -> ir.Table:
    """Recency, frequency and monetary value per customer from the orders up to ``as_of``.

    Orders are dated as in ``customer_orders``. Recency is the days from the customer's last
    order to the as-of date, frequency the number of distinct orders, monetary the sum of their
    sales amounts. Scores rank customers into quintiles, 5 being best (most recent, most
    frequent, highest spend); customers with equal values are ordered by customer id, so the
    scores never depend on the engine.
    """
    per_customer = (
        customer_orders(sales)
        .filter(_.order_day <= as_of)
        .group_by("customer_id")
        .aggregate(
            last_order=_.order_day.max(),
            frequency=_.count(),
            monetary=_.order_spend.sum(),
        )
    )
    measured = per_customer.select(
        "customer_id",
        recency_days=days_between(per_customer.last_order, as_of).cast("int64"),
        frequency=per_customer.frequency.cast("int64"),
        monetary=per_customer.monetary.cast(MONEY),
    )
    scored = with_ntile(
        measured, "recency_score", SCORE_BUCKETS, "recency_days", "customer_id", descending=True
    )
    scored = with_ntile(scored, "frequency_score", SCORE_BUCKETS, "frequency", "customer_id")
    return with_ntile(scored, "monetary_score", SCORE_BUCKETS, "monetary", "customer_id")


# --- time and age ------------------------------------------------------------------------------


def age_at(birthdate: ir.DateValue, day: ir.DateValue) -> ir.IntegerValue:
    """Whole years from ``birthdate`` to ``day``; NULL when either is unknown or day is earlier.

    Someone born on 29 February becomes a year older on 1 March in common years.
    """
    before_birthday = (day.month() < birthdate.month()) | (
        (day.month() == birthdate.month()) & (day.day() < birthdate.day())
    )
    age = (day.year() - birthdate.year() - ibis.cases((before_birthday, 1), else_=0)).cast("int64")
    return ibis.cases((age >= 0, age), else_=ibis.null("int64"))


def iso_day_of_week(day: ir.DateValue) -> ir.IntegerValue:
    """1 = Monday … 7 = Sunday."""
    return (day.day_of_week.index() + 1).cast("int64")


def is_weekend(day: ir.DateValue) -> ir.BooleanValue:
    return iso_day_of_week(day) >= 6


def lines_as_of(sales: ir.Table, as_of: ir.DateValue) -> ir.Table:
    """The lines that exist as of ``as_of``: none dated after it; undated lines stay, as
    nothing places them after it."""
    return sales.filter(sales.order_date.isnull() | (sales.order_date <= as_of))


def lines_in_context(
    sales: ir.Table, products: ir.Table, customers: ir.Table, as_of: ir.DateValue
) -> ir.Table:
    """Each line beside its customer, the product version it sold, its order's point-in-time
    history and its customer's RFM as of ``as_of``; NULLs where there is none."""
    known_customers = customers.drop("_gold_created_at").rename(known_customer_id="customer_id")
    sold = products_as_sold(sales, products).rename(
        sold_order_number="order_number", sold_line_number="line_number"
    )
    history = prior_orders(sales).rename(
        history_customer_id="customer_id", history_order_number="order_number"
    )
    rfm = rfm_as_of(sales, as_of).rename(rfm_customer_id="customer_id")
    return (
        sales.left_join(known_customers, sales.customer_id == known_customers.known_customer_id)
        .left_join(
            sold,
            [
                sales.order_number == sold.sold_order_number,
                sales.line_number == sold.sold_line_number,
            ],
        )
        .left_join(
            history,
            [
                sales.customer_id == history.history_customer_id,
                sales.order_number == history.history_order_number,
            ],
        )
        .left_join(rfm, sales.customer_id == rfm.rfm_customer_id)
    )


def fact_columns(joined: ir.Table, run: RunContext) -> ir.Table:
    """The published columns: the line's attributes, amounts, time and behaviour features."""
    cost_amount = (joined.quantity * joined.product_cost).cast(MONEY)
    order_date = joined.order_date
    return joined.select(
        # line
        "order_number",
        "line_number",
        "product_number",
        # customer
        customer_key=joined.customer_key,
        customer_id=joined.customer_id,
        customer_number=joined.customer_number,
        first_name=joined.first_name,
        last_name=joined.last_name,
        country=joined.country,
        marital_status=joined.marital_status,
        gender=joined.gender,
        birthdate=joined.birthdate,
        age_at_order=age_at(joined.birthdate, order_date),
        # product
        product_key=ibis.cases((joined.product_id.notnull(), surrogate_key(joined.product_number))),
        product_name=joined.product_name,
        category=joined.category,
        subcategory=joined.subcategory,
        maintenance=joined.maintenance,
        product_line=joined.product_line,
        product_cost=joined.product_cost,
        # sales
        quantity=joined.quantity,
        price=joined.price,
        sales_amount=joined.sales_amount,
        cost_amount=cost_amount,
        margin=(joined.sales_amount - cost_amount).cast(MONEY),
        # time
        order_date=order_date,
        order_year=order_date.year().cast("int64"),
        order_quarter=order_date.quarter().cast("int64"),
        order_month=order_date.month().cast("int64"),
        order_day_of_week=iso_day_of_week(order_date),
        order_iso_week=order_date.week_of_year().cast("int64"),
        is_weekend=is_weekend(order_date),
        days_to_ship=days_between(order_date, joined.ship_date).cast("int64"),
        days_to_due=days_between(order_date, joined.due_date).cast("int64"),
        # behaviour before the order (point in time)
        days_since_prev_order=joined.days_since_prev_order,
        prior_order_count=joined.prior_order_count,
        prior_spend=joined.prior_spend,
        # behaviour as of the build's as-of date
        recency_days=joined.recency_days,
        frequency=joined.frequency,
        monetary=joined.monetary,
        recency_score=joined.recency_score,
        frequency_score=joined.frequency_score,
        monetary_score=joined.monetary_score,
        # flags
        is_customer_known=joined.customer_key.notnull(),
        is_product_known=joined.product_id.notnull(),
        dates_out_of_order=joined.dates_out_of_order,
        is_future_dated=joined.is_future_dated,
        _gold_created_at=run.stamp(),
    )


@PIPELINE.model(
    layer="gold",
    inputs=(SILVER_SALES, SILVER_PRODUCTS, DIM_CUSTOMERS),
    contract=contracts.FactSales,
)
def fact_sales(
    sales: ir.Table, products: ir.Table, customers: ir.Table, *, run: RunContext
) -> ir.Table:
    """One row per sales line with customer, product, time and behaviour features.

    Lines whose customer id or product number is unknown are kept with NULL attributes and
    ``is_customer_known`` / ``is_product_known`` false; their behaviour features still follow
    the line's own customer id. RFM features, computed at the as-of date, describe the
    customer then.

    Only lines that exist as of the as-of date are kept: lines dated after it are left out
    (a build as of an earlier day sees the data as it was then); undated lines, including
    future-dated ones (``is_future_dated``), are kept, as nothing places them after it.
    """
    return (
        lines_as_of(sales, run.as_of)
        .pipe(lines_in_context, products, customers, run.as_of)
        .pipe(fact_columns, run)
    )
