"""Retail data contracts: what every silver and gold table promises its readers."""

from medallion_ibis import (
    DATE,
    FLAG,
    INT,
    MONEY,
    QUARANTINE,
    RATIO,
    SCORE,
    STAMP,
    TEXT,
    column,
    table,
)

TENURE_SEGMENTS = ("New", "Recent", "Established")
VALUE_SEGMENTS = ("High Value", "Medium Value", "Standard Value")
INVENTORY_STATUSES = ("Low Stock", "Medium Stock", "High Stock")
PRICE_TIERS = ("Premium", "Standard", "Budget")
CUSTOMER_SEGMENTS = ("Champion", "Loyal Customer", "Potential Loyalist", "New Customer", "At Risk")
ACTIVITY_STATUSES = ("Active", "Dormant", "Inactive")
BUSINESS_VALUE_TIERS = ("High Value", "Medium Value", "Low Value")
PERFORMANCE_CATEGORIES = (
    "Star Product",
    "Strong Performer",
    "Average Performer",
    "Underperformer",
    "No Sales",
)
PROFITABILITY_TIERS = ("High Margin", "Medium Margin", "Low Margin", "Loss Making")
RECOMMENDATIONS = (
    "Restock Immediately",
    "Consider Discontinuing",
    "Review Pricing",
    "Monitor Performance",
)

SilverSales = table(
    "silver_sales_cleaned",
    {
        "transaction_id": column(INT),
        "customer_id": column(INT),
        "product_id": column(INT),
        "sales_rep_id": column(INT, nullable=True),
        "product_name_clean": column(TEXT, nullable=True),
        "category_clean": column(TEXT, nullable=True),
        "store_location_clean": column(TEXT, nullable=True),
        "quantity_valid": column(INT, nullable=True, above=0),
        "unit_price_valid": column(MONEY, nullable=True, at_least=0),
        "total_amount": column(MONEY, nullable=True, at_least=0),
        "transaction_date_clean": column(DATE, nullable=True),
        "is_future_dated": column(FLAG),
        "is_valid_transaction": column(FLAG),
    },
    unique=["transaction_id"],
    lineage=True,
)

SilverCustomers = table(
    "silver_customers_cleaned",
    {
        "customer_id": column(INT),
        "first_name_clean": column(TEXT, nullable=True),
        "last_name_clean": column(TEXT, nullable=True),
        "full_name": column(TEXT, nullable=True),
        "email_clean": column(TEXT, nullable=True),
        "phone_clean": column(TEXT, nullable=True),
        "customer_type_clean": column(TEXT, nullable=True),
        "credit_limit_valid": column(MONEY, nullable=True, at_least=0),
        "registration_date_clean": column(DATE, nullable=True),
        "customer_tenure_segment": column(TEXT, nullable=True, one_of=TENURE_SEGMENTS),
        "value_segment": column(TEXT, one_of=VALUE_SEGMENTS),
        "is_valid_customer": column(FLAG),
    },
    unique=["customer_id"],
    lineage=True,
)

SilverProducts = table(
    "silver_products_cleaned",
    {
        "product_id": column(INT),
        "product_name_clean": column(TEXT, nullable=True),
        "category_clean": column(TEXT, nullable=True),
        "subcategory_clean": column(TEXT, nullable=True),
        "brand_clean": column(TEXT, nullable=True),
        "supplier_clean": column(TEXT, nullable=True),
        "cost_price_valid": column(MONEY, nullable=True, at_least=0),
        "retail_price_valid": column(MONEY, nullable=True, at_least=0),
        "profit_margin_amount": column(MONEY, nullable=True, above=0),
        "profit_margin_percent": column(RATIO, nullable=True, at_least=0),
        "stock_quantity_valid": column(INT, at_least=0),
        "reorder_level_valid": column(INT, at_least=0),
        "inventory_status": column(TEXT, one_of=INVENTORY_STATUSES),
        "price_tier": column(TEXT, nullable=True, one_of=PRICE_TIERS),
        "is_valid_product": column(FLAG),
    },
    unique=["product_id"],
    lineage=True,
)

Quarantine = QUARANTINE
"""Retail's partition of the quarantine table, whose contract every pipeline shares."""

GoldDailySalesSummary = table(
    "gold_daily_sales_summary",
    {
        "sale_date": column(DATE),
        "store_location": column(TEXT, nullable=True),
        "product_category": column(TEXT, nullable=True),
        "transaction_count": column(INT, above=0),
        "unique_customers": column(INT, above=0),
        "total_revenue": column(MONEY, at_least=0),
        "total_quantity_sold": column(INT, above=0),
        "avg_order_value": column(MONEY, at_least=0),
        "max_order_value": column(MONEY, at_least=0),
        "min_order_value": column(MONEY, at_least=0),
        "new_customers_count": column(INT, at_least=0),
        "high_value_customers_count": column(INT, at_least=0),
        "revenue_per_transaction": column(RATIO, at_least=0),
        "avg_items_per_transaction": column(RATIO, above=0),
        "customer_concentration_pct": column(RATIO, above=0),
        "data_quality_status": column(TEXT, one_of=("Valid", "Check Required")),
        "_gold_created_at": column(STAMP),
    },
    unique=["sale_date", "store_location", "product_category"],
)

GoldCustomerLifetimeValue = table(
    "gold_customer_lifetime_value",
    {
        "customer_id": column(INT),
        "full_name": column(TEXT),
        "customer_type": column(TEXT, nullable=True),
        "value_segment": column(TEXT, one_of=VALUE_SEGMENTS),
        "customer_tenure_segment": column(TEXT, one_of=TENURE_SEGMENTS),
        "total_transactions": column(INT, above=0),
        "total_spent": column(MONEY, at_least=0),
        "avg_order_value": column(MONEY, at_least=0),
        "highest_order_value": column(MONEY, at_least=0),
        "total_items_purchased": column(INT, above=0),
        "first_purchase_date": column(DATE),
        "last_purchase_date": column(DATE),
        "purchase_days": column(INT, above=0),
        "customer_lifespan_days": column(INT, at_least=0),
        "days_since_last_purchase": column(INT),
        "current_clv": column(MONEY, at_least=0),
        "projected_clv": column(MONEY, at_least=0),
        "customer_segment": column(TEXT, one_of=CUSTOMER_SEGMENTS),
        "activity_status": column(TEXT, one_of=ACTIVITY_STATUSES),
        "purchase_frequency_score": column(SCORE, at_least=0),
        "avg_items_per_order": column(RATIO, above=0),
        "business_value_tier": column(TEXT, one_of=BUSINESS_VALUE_TIERS),
        "_gold_created_at": column(STAMP),
    },
    unique=["customer_id"],
)

GoldProductPerformance = table(
    "gold_product_performance",
    {
        "product_id": column(INT),
        "product_name": column(TEXT),
        "category": column(TEXT),
        "subcategory": column(TEXT, nullable=True),
        "brand": column(TEXT, nullable=True),
        "price_tier": column(TEXT, one_of=PRICE_TIERS),
        "inventory_status": column(TEXT, one_of=INVENTORY_STATUSES),
        "total_sales_transactions": column(INT, at_least=0),
        "unique_customers": column(INT, at_least=0),
        "total_quantity_sold": column(INT, at_least=0),
        "total_revenue": column(MONEY, at_least=0),
        "avg_sale_amount": column(MONEY, at_least=0),
        "first_sale_date": column(DATE, nullable=True),
        "last_sale_date": column(DATE, nullable=True),
        "cost_price": column(MONEY, at_least=0),
        "retail_price": column(MONEY, at_least=0),
        "profit_margin_amount": column(MONEY, nullable=True, above=0),
        "profit_margin_percent": column(RATIO, nullable=True, at_least=0),
        "total_profit": column(MONEY, nullable=True, at_least=0),
        "current_stock": column(INT, at_least=0),
        "reorder_level": column(INT, at_least=0),
        "revenue_per_transaction": column(RATIO, nullable=True, at_least=0),
        "avg_quantity_per_sale": column(RATIO, nullable=True, above=0),
        "customer_repeat_rate": column(RATIO, nullable=True, above=0),
        "category_total_revenue": column(MONEY, at_least=0),
        "category_revenue_share_pct": column(RATIO, nullable=True, at_least=0),
        "performance_category": column(TEXT, one_of=PERFORMANCE_CATEGORIES),
        "profitability_tier": column(TEXT, one_of=PROFITABILITY_TIERS),
        "inventory_turnover_ratio": column(RATIO, at_least=0),
        "business_recommendation": column(TEXT, one_of=RECOMMENDATIONS),
        "_gold_created_at": column(STAMP),
    },
    unique=["product_id"],
)
