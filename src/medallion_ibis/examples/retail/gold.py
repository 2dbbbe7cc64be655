"""Retail gold: the business marts, as rules over the silver tables.

Every table counts only the valid sales dated on or before the run's as-of date (what existed
then), every "days since" counts to that date, and every ratio and average is an exact,
null-safe division of exact totals rounded once, half away from zero, so a rebuild of the
same input gives the same rows on every engine. Customers and products are described as
exported.
"""

from fractions import Fraction

import ibis
import ibis.expr.types as ir
from ibis import _

from medallion_ibis import MONEY, RunContext, days_between, ratio

from . import contracts
from .sources import PIPELINE

SILVER_SALES = "silver_sales_cleaned"
SILVER_CUSTOMERS = "silver_customers_cleaned"
SILVER_PRODUCTS = "silver_products_cleaned"


def valid_sales(sales: ir.Table, run: RunContext) -> ir.Table:
    """The valid sales that exist as of the as-of date: a build as of an earlier day sees
    neither later sales nor negative "days since"."""
    return sales.filter(_.is_valid_transaction, _.transaction_date_clean <= run.as_of)


def percent(part: ir.NumericValue, whole: ir.NumericValue) -> ir.DecimalValue:
    return ratio(part * 100, whole)


def data_quality_status(transactions: ir.IntegerValue, revenue: ir.NumericValue) -> ir.StringValue:
    return ibis.cases(((transactions > 0) & (revenue > 0), "Valid"), else_="Check Required")


def with_customer_segments(sales: ir.Table, customers: ir.Table) -> ir.Table:
    """Each sale with its customer's tenure and value segments (NULL for an unknown customer)."""
    return sales.left_join(
        customers.select("customer_id", "customer_tenure_segment", "value_segment"),
        "customer_id",
    )


def daily_totals(sales: ir.Table) -> ir.Table:
    """Totals per sale date × store × product category, the exact sums the KPIs divide."""
    return sales.group_by(
        sale_date=_.transaction_date_clean,
        store_location=_.store_location_clean,
        product_category=_.category_clean,
    ).aggregate(
        transaction_count=_.transaction_id.nunique(),
        unique_customers=_.customer_id.nunique(),
        total_revenue=_.total_amount.sum(),
        total_quantity_sold=_.quantity_valid.sum(),
        priced_sales=_.total_amount.count(),
        max_order_value=_.total_amount.max(),
        min_order_value=_.total_amount.min(),
        new_customers_count=_.customer_id.nunique(where=_.customer_tenure_segment == "New"),
        high_value_customers_count=_.customer_id.nunique(where=_.value_segment == "High Value"),
    )


def daily_kpis(daily: ir.Table, run: RunContext) -> ir.Table:
    """The published columns: amounts as money, averages and ratios from the exact totals."""
    return daily.select(
        # grain
        "sale_date",
        "store_location",
        "product_category",
        # sales
        "transaction_count",
        "unique_customers",
        total_revenue=daily.total_revenue.cast(MONEY),
        total_quantity_sold=daily.total_quantity_sold,
        avg_order_value=ratio(daily.total_revenue, daily.priced_sales),
        max_order_value=daily.max_order_value.cast(MONEY),
        min_order_value=daily.min_order_value.cast(MONEY),
        # customers
        new_customers_count=daily.new_customers_count,
        high_value_customers_count=daily.high_value_customers_count,
        # ratios
        revenue_per_transaction=ratio(daily.total_revenue, daily.transaction_count),
        avg_items_per_transaction=ratio(daily.total_quantity_sold, daily.transaction_count),
        customer_concentration_pct=percent(daily.unique_customers, daily.transaction_count),
        # quality
        data_quality_status=data_quality_status(daily.transaction_count, daily.total_revenue),
        _gold_created_at=run.stamp(),
    )


@PIPELINE.model(
    layer="gold",
    inputs=(SILVER_SALES, SILVER_CUSTOMERS),
    contract=contracts.GoldDailySalesSummary,
)
def gold_daily_sales_summary(sales: ir.Table, customers: ir.Table, *, run: RunContext) -> ir.Table:
    """Sales KPIs per sale date × store × product category."""
    return (
        valid_sales(sales, run)
        .pipe(with_customer_segments, customers)
        .pipe(daily_totals)
        .pipe(daily_kpis, run)
    )


def customer_segment(spent: ir.NumericValue, transactions: ir.IntegerValue) -> ir.StringValue:
    """Champion, Loyal Customer, Potential Loyalist, New Customer, else At Risk."""
    return ibis.cases(
        ((spent >= 2000) & (transactions >= 3), "Champion"),
        ((spent >= 1000) & (transactions >= 2), "Loyal Customer"),
        (spent >= 500, "Potential Loyalist"),
        (transactions == 1, "New Customer"),
        else_="At Risk",
    )


def activity_status(days_since_last_purchase: ir.IntegerValue) -> ir.StringValue:
    """Active within 30 days of the as-of date, Dormant within 90, else Inactive."""
    return ibis.cases(
        (days_since_last_purchase <= 30, "Active"),
        (days_since_last_purchase <= 90, "Dormant"),
        else_="Inactive",
    )


def business_value_tier(
    spent: ir.NumericValue, transactions: ir.IntegerValue, days_since_last_purchase: ir.IntegerValue
) -> ir.StringValue:
    return ibis.cases(
        ((spent >= 1500) & (transactions >= 3) & (days_since_last_purchase <= 60), "High Value"),
        ((spent >= 500) & (transactions >= 2), "Medium Value"),
        else_="Low Value",
    )


PROJECTED_CLV_UPLIFT = Fraction(6, 5)
"""Projected CLV assumes the customer's next period brings 20 % more of the same orders."""


def projected_clv(
    spent: ir.NumericValue, priced_orders: ir.IntegerValue, transactions: ir.IntegerValue
) -> ir.DecimalValue:
    """Average order value × transactions × 1.2, from the exact average (spent / orders)."""
    return ratio(
        spent * transactions * PROJECTED_CLV_UPLIFT.numerator,
        priced_orders * PROJECTED_CLV_UPLIFT.denominator,
    )


def purchase_frequency(
    transactions: ir.IntegerValue, lifespan_days: ir.IntegerValue
) -> ir.DecimalValue:
    """Transactions per day of the customer's lifespan, to 4 places; a customer whose first and
    last purchase fall on the same day has a lifespan of one day."""
    return ratio(transactions, ibis.cases((lifespan_days > 0, lifespan_days), else_=1), 4)


def purchase_history(sales: ir.Table, run: RunContext) -> ir.Table:
    """Per customer: totals of the valid sales, first and last purchase, and the days between
    them and from the last one to the as-of date."""
    purchases = sales.group_by("customer_id").aggregate(
        total_transactions=_.transaction_id.nunique(),
        total_spent=_.total_amount.sum(),
        priced_orders=_.total_amount.count(),
        highest_order_value=_.total_amount.max(),
        first_purchase_date=_.transaction_date_clean.min(),
        last_purchase_date=_.transaction_date_clean.max(),
        purchase_days=_.transaction_date_clean.nunique(),
        total_items_purchased=_.quantity_valid.sum(),
    )
    return purchases.mutate(
        customer_lifespan_days=days_between(
            purchases.first_purchase_date, purchases.last_purchase_date
        ),
        days_since_last_purchase=days_between(purchases.last_purchase_date, run.as_of),
    )


def of_valid_customers(behaviour: ir.Table, customers: ir.Table) -> ir.Table:
    """Only customers silver marks valid, with their description; the others drop out."""
    return behaviour.join(customers.filter(_.is_valid_customer), "customer_id")


def lifetime_value(joined: ir.Table, run: RunContext) -> ir.Table:
    """The published columns: value, segment, activity and frequency of each customer."""
    return joined.select(
        # customer
        "customer_id",
        "full_name",
        customer_type=joined.customer_type_clean,
        value_segment=joined.value_segment,
        customer_tenure_segment=joined.customer_tenure_segment,
        # purchases
        total_transactions=joined.total_transactions,
        total_spent=joined.total_spent.cast(MONEY),
        avg_order_value=ratio(joined.total_spent, joined.priced_orders),
        highest_order_value=joined.highest_order_value.cast(MONEY),
        total_items_purchased=joined.total_items_purchased,
        first_purchase_date=joined.first_purchase_date,
        last_purchase_date=joined.last_purchase_date,
        purchase_days=joined.purchase_days,
        customer_lifespan_days=joined.customer_lifespan_days,
        days_since_last_purchase=joined.days_since_last_purchase,
        # lifetime value
        current_clv=joined.total_spent.cast(MONEY),
        projected_clv=projected_clv(
            joined.total_spent, joined.priced_orders, joined.total_transactions
        ),
        # segments
        customer_segment=customer_segment(joined.total_spent, joined.total_transactions),
        activity_status=activity_status(joined.days_since_last_purchase),
        purchase_frequency_score=purchase_frequency(
            joined.total_transactions, joined.customer_lifespan_days
        ),
        avg_items_per_order=ratio(joined.total_items_purchased, joined.total_transactions),
        business_value_tier=business_value_tier(
            joined.total_spent, joined.total_transactions, joined.days_since_last_purchase
        ),
        _gold_created_at=run.stamp(),
    )


@PIPELINE.model(
    layer="gold",
    inputs=(SILVER_SALES, SILVER_CUSTOMERS),
    contract=contracts.GoldCustomerLifetimeValue,
)
def gold_customer_lifetime_value(
    sales: ir.Table, customers: ir.Table, *, run: RunContext
) -> ir.Table:
    """Lifetime value, segment and activity per valid customer with valid sales."""
    return (
        valid_sales(sales, run)
        .pipe(purchase_history, run)
        .pipe(of_valid_customers, customers)
        .pipe(lifetime_value, run)
    )


def performance_category(revenue: ir.NumericValue, quantity: ir.IntegerValue) -> ir.StringValue:
    """Star Product, Strong Performer, Average Performer, Underperformer, else No Sales."""
    return ibis.cases(
        ((revenue >= 2000) & (quantity >= 5), "Star Product"),
        (revenue >= 1000, "Strong Performer"),
        (revenue >= 500, "Average Performer"),
        (revenue > 0, "Underperformer"),
        else_="No Sales",
    )


def profitability_tier(margin_percent: ir.NumericValue) -> ir.StringValue:
    """High Margin from 30 %, Medium from 15 %, Low above 0, else Loss Making."""
    return ibis.cases(
        (margin_percent >= 30, "High Margin"),
        (margin_percent >= 15, "Medium Margin"),
        (margin_percent > 0, "Low Margin"),
        else_="Loss Making",
    )


def inventory_turnover(sold: ir.IntegerValue, stock: ir.IntegerValue) -> ir.DecimalValue:
    """Units sold over average inventory, taking opening stock as closing stock + units sold.

    The average inventory is (opening + closing) / 2, so the ratio is 2 × sold over their sum.
    """
    opening_stock = stock + sold
    return ibis.cases(
        ((stock >= 0) & (sold > 0), ratio(sold * 2, stock + opening_stock)),
        else_=ibis.literal(0).cast(MONEY),
    )


def business_recommendation(
    revenue: ir.NumericValue,
    margin_percent: ir.NumericValue,
    inventory_status: ir.StringValue,
    stock: ir.IntegerValue,
) -> ir.StringValue:
    return ibis.cases(
        (
            (revenue >= 1000) & (margin_percent >= 20) & (inventory_status == "Low Stock"),
            "Restock Immediately",
        ),
        ((revenue == 0) & (stock > 10), "Consider Discontinuing"),
        ((margin_percent < 10) & (revenue > 0), "Review Pricing"),
        else_="Monitor Performance",
    )


def product_sales(sales: ir.Table) -> ir.Table:
    """Per product: totals of its valid sales and the dates of its first and last sale."""
    return sales.group_by("product_id").aggregate(
        total_sales_transactions=_.transaction_id.nunique(),
        unique_customers=_.customer_id.nunique(),
        total_quantity_sold=_.quantity_valid.sum(),
        total_revenue=_.total_amount.sum(),
        priced_sales=_.total_amount.count(),
        first_sale_date=_.transaction_date_clean.min(),
        last_sale_date=_.transaction_date_clean.max(),
    )


def catalogue_with_sales(products: ir.Table, sales: ir.Table) -> ir.Table:
    """Every product, valid or not, with its sales totals; a product never sold has zeros
    (its ``priced_sales`` stays NULL: it only divides the revenue, 0 either way)."""
    return products.left_join(product_sales(sales), "product_id").mutate(
        total_sales_transactions=_.total_sales_transactions.fill_null(0),
        unique_customers=_.unique_customers.fill_null(0),
        total_quantity_sold=_.total_quantity_sold.fill_null(0),
        total_revenue=_.total_revenue.fill_null(0),
    )


def valid_products_with_category_revenue(catalogue: ir.Table) -> ir.Table:
    """The valid products, each with its category's revenue over the whole catalogue (invalid
    products' sales count towards their category)."""
    categories = catalogue.group_by("category_clean").aggregate(
        category_total_revenue=_.total_revenue.sum()
    )
    return catalogue.filter(_.is_valid_product).left_join(categories, "category_clean")


def product_kpis(joined: ir.Table, run: RunContext) -> ir.Table:
    """The published columns: sales, margin, inventory, category share and advice."""
    return joined.select(
        # product
        "product_id",
        product_name=joined.product_name_clean,
        category=joined.category_clean,
        subcategory=joined.subcategory_clean,
        brand=joined.brand_clean,
        price_tier=joined.price_tier,
        inventory_status=joined.inventory_status,
        # sales
        total_sales_transactions=joined.total_sales_transactions,
        unique_customers=joined.unique_customers,
        total_quantity_sold=joined.total_quantity_sold,
        total_revenue=joined.total_revenue.cast(MONEY),
        avg_sale_amount=ratio(joined.total_revenue, joined.priced_sales).fill_null(0),
        first_sale_date=joined.first_sale_date,
        last_sale_date=joined.last_sale_date,
        # financials
        cost_price=joined.cost_price_valid,
        retail_price=joined.retail_price_valid,
        profit_margin_amount=joined.profit_margin_amount,
        profit_margin_percent=joined.profit_margin_percent,
        total_profit=(joined.total_quantity_sold * joined.profit_margin_amount).cast(MONEY),
        # inventory
        current_stock=joined.stock_quantity_valid,
        reorder_level=joined.reorder_level_valid,
        # ratios
        revenue_per_transaction=ratio(joined.total_revenue, joined.total_sales_transactions),
        avg_quantity_per_sale=ratio(joined.total_quantity_sold, joined.total_sales_transactions),
        customer_repeat_rate=percent(joined.unique_customers, joined.total_sales_transactions),
        # category
        category_total_revenue=joined.category_total_revenue.cast(MONEY),
        category_revenue_share_pct=percent(joined.total_revenue, joined.category_total_revenue),
        # classification
        performance_category=performance_category(joined.total_revenue, joined.total_quantity_sold),
        profitability_tier=profitability_tier(joined.profit_margin_percent),
        inventory_turnover_ratio=inventory_turnover(
            joined.total_quantity_sold, joined.stock_quantity_valid
        ),
        business_recommendation=business_recommendation(
            joined.total_revenue,
            joined.profit_margin_percent,
            joined.inventory_status,
            joined.stock_quantity_valid,
        ),
        _gold_created_at=run.stamp(),
    )


@PIPELINE.model(
    layer="gold",
    inputs=(SILVER_SALES, SILVER_PRODUCTS),
    contract=contracts.GoldProductPerformance,
)
def gold_product_performance(sales: ir.Table, products: ir.Table, *, run: RunContext) -> ir.Table:
    """Sales, margin, inventory and advice per valid product; no sales means revenue 0."""
    return (
        catalogue_with_sales(products, valid_sales(sales, run))
        .pipe(valid_products_with_category_revenue)
        .pipe(product_kpis, run)
    )
