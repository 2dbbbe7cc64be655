"""A minimal pipeline: one order export → typed silver orders → daily revenue in gold.

Everything a pipeline can declare in about sixty lines: a source, key screening (rows without
a usable, unique order id go to quarantine), a silver and a gold model, their contracts, and
the as-of date rule. ``medallion-ibis init shop --example minimal`` copies it into a project.
"""

import ibis
import ibis.expr.types as ir
from ibis import _

from medallion_ibis import (
    DATE,
    INT,
    MONEY,
    QUARANTINE,
    STAMP,
    TEXT,
    AsOfRule,
    KeyScreen,
    Pipeline,
    RunContext,
    Source,
    column,
    conform,
    non_negative_or_null,
    parse_decimal,
    parse_int,
    parse_iso_date,
    table,
    title_case,
    with_lineage,
)

ORDERS = Source(
    table="bronze_orders",
    path="minimal/orders.csv",
    columns=("order_id", "customer", "amount", "ordered_on"),
    system="webshop",
)
PIPELINE = Pipeline("minimal", sources=(ORDERS,), description="Web shop orders to daily revenue.")
ORDER_KEYS = KeyScreen(
    ORDERS.table, required=("order_id",), integer=("order_id",), key=("order_id",)
)

SILVER_ORDERS = table(
    "silver_orders",
    {
        "order_id": column(INT),
        "customer": column(TEXT, nullable=True),
        "amount": column(MONEY, nullable=True, at_least=0),
        "ordered_on": column(DATE, nullable=True),
    },
    unique=["order_id"],
    lineage=True,
)
DAILY_REVENUE = table(
    "gold_daily_revenue",
    {
        "ordered_on": column(DATE),
        "orders": column(INT, at_least=1),
        "revenue": column(MONEY, at_least=0),
        "_gold_created_at": column(STAMP),
    },
    unique=["ordered_on"],
)


@PIPELINE.model(layer="silver", inputs=(ORDERS.table,), contract=SILVER_ORDERS)
def silver_orders(bronze_orders: ir.Table) -> ir.Table:
    """One row per order id: typed, names title-cased; bad or negative amounts and bad dates
    become NULL."""
    typed = with_lineage(
        ORDER_KEYS.accepted(bronze_orders),
        order_id=parse_int(_.order_id),
        customer=title_case(_.customer),
        amount=non_negative_or_null(parse_decimal(_.amount)),
        ordered_on=parse_iso_date(_.ordered_on),
    )
    return conform(typed, SILVER_ORDERS)


@PIPELINE.model(layer="gold", inputs=("silver_orders",), contract=DAILY_REVENUE)
def gold_daily_revenue(silver_orders: ir.Table, *, run: RunContext) -> ir.Table:
    """Orders and revenue per day, for orders with a date and an amount up to the as-of date."""
    valid = silver_orders.filter(
        _.amount.notnull(), _.ordered_on.notnull(), _.ordered_on <= ibis.literal(run.as_of)
    )
    daily = valid.group_by("ordered_on").aggregate(orders=_.count(), revenue=_.amount.sum())
    return daily.mutate(revenue=_.revenue.cast(MONEY), _gold_created_at=run.stamp())


@PIPELINE.model(
    layer="silver", inputs=(ORDERS.table,), contract=QUARANTINE, partition_column="pipeline"
)
def quarantine(bronze_orders: ir.Table) -> ir.Table:
    """Orders kept out of silver: missing, unparseable or repeated order ids."""
    return ORDER_KEYS.rejected(bronze_orders, PIPELINE.name)


PIPELINE.default_as_of = AsOfRule(
    model="silver_orders", latest=lambda orders: orders.ordered_on.max()
)
