-- The retail pipeline written by hand for DuckDB: the physical-limit reference for
-- `medallion-ibis build --pipeline retail` (see benchmarks/baseline.py, which runs
-- retail_bronze_duckdb.sql and then this file, each statement committing on its own, and
-- checks that the gold tables and quarantine hold the build's rows).
--
-- Same work as the build: text bronze with lineage (physical line, row hash), key screening
-- to quarantine with the same rules and sentences, latest record per key, the three silver
-- tables, the three gold tables (from an empty file; run_duckdb says why no one transaction
-- wraps them). Same rules: exact money (decimal(38, 2)), every ratio the exact quotient
-- rounded once, half away from zero.
-- What a hand writer may do and the build does not: use what the screen guarantees (a
-- transaction id is unique in silver, so count(*) counts transactions), round with integer
-- arithmetic on HUGEINT, and check a date's shape with a short pattern before DuckDB's own
-- TRY_CAST rejects impossible days.
--
-- The driver fills in the placeholders (a dollar sign and a name; two dollar signs stand for
-- one) with literals: the three file paths, the run id, the load timestamp and the latest
-- possible date (the build's day plus one).

-- exact division: numerator / denominator rounded half away from zero to a whole number,
-- NULL for a zero denominator; callers scale the numerator to the places they want.
CREATE OR REPLACE TEMP MACRO div_half_away(n, d) AS
    CASE WHEN d <> 0 THEN
        sign(n) * sign(d) * ((2 * abs(n::HUGEINT) + abs(d::HUGEINT)) // (2 * abs(d::HUGEINT)))
    END;
CREATE OR REPLACE TEMP MACRO cents(x) AS (x * 100)::HUGEINT;
CREATE OR REPLACE TEMP MACRO as_money(units) AS (units::DECIMAL(38, 0) * 0.01)::DECIMAL(38, 2);
CREATE OR REPLACE TEMP MACRO as_ratio4(units) AS (units::DECIMAL(38, 0) * 0.0001)::DECIMAL(38, 4);
-- clean_text: surrounding white space (RE2's \s: space, \t, \n, \f, \r) trimmed, blank is NULL
CREATE OR REPLACE TEMP MACRO clean(x) AS nullif(trim(x, ' ' || chr(9) || chr(10) || chr(12) || chr(13)), '');
CREATE OR REPLACE TEMP MACRO parse_int(t) AS
    CASE WHEN regexp_full_match(t, '[+-]?[0-9]{1,18}') THEN TRY_CAST(t AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO parse_money(t) AS
    CASE WHEN regexp_full_match(t, '[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]+)')
         THEN TRY_CAST(t AS DECIMAL(18, 2))::DECIMAL(38, 2) END;
-- a YYYY-MM-DD shape with a year from 0001; TRY_CAST then refuses impossible days
CREATE OR REPLACE TEMP MACRO parse_date(t) AS
    CASE WHEN regexp_full_match(t, '[0-9]{4}-[0-9]{2}-[0-9]{2}') AND t[1:4] <> '0000'
         THEN TRY_CAST(t AS DATE) END;
CREATE OR REPLACE TEMP MACRO title(t) AS
    array_to_string(list_transform(string_split(t, ' '), w -> upper(w[1]) || lower(w[2:])), ' ');

CREATE SCHEMA IF NOT EXISTS silver;
CREATE SCHEMA IF NOT EXISTS gold;

-- ------------------------------------------------------------------------- key screening
-- Sales: transaction, customer and product ids required and integer; per transaction id the
-- record on the latest line wins, a record with a key problem only when no good one exists.
-- The rule is the first that applies, in this order.
CREATE OR REPLACE TEMP TABLE sales_screened AS
WITH keyed AS (
    SELECT b.*,
           clean(transaction_id) AS t_tid, clean(customer_id) AS t_cid,
           clean(product_id) AS t_pid
    FROM bronze.bronze_sales AS b
), parsed AS (
    SELECT *, parse_int(t_tid) AS k_tid, parse_int(t_cid) AS k_cid, parse_int(t_pid) AS k_pid
    FROM keyed
), ranked AS (
    SELECT *,
           row_number() OVER newest AS newest_rank,
           first_value(_row_number) OVER newest AS kept_line
    FROM (SELECT *,
                 t_tid IS NULL OR t_cid IS NULL OR t_pid IS NULL
                 OR k_tid IS NULL OR k_cid IS NULL OR k_pid IS NULL AS key_problem
          FROM parsed)
    WINDOW newest AS (PARTITION BY k_tid ORDER BY key_problem, _row_number DESC)
)
SELECT *,
       CASE WHEN t_tid IS NULL THEN 'transaction_id is missing'
            WHEN t_cid IS NULL THEN 'customer_id is missing'
            WHEN t_pid IS NULL THEN 'product_id is missing'
            WHEN k_tid IS NULL THEN 'transaction_id ''' || t_tid || ''' is not an integer'
            WHEN k_cid IS NULL THEN 'customer_id ''' || t_cid || ''' is not an integer'
            WHEN k_pid IS NULL THEN 'product_id ''' || t_pid || ''' is not an integer'
            WHEN newest_rank > 1 THEN 'transaction_id ' || t_tid
                 || ' is repeated; the record on line ' || kept_line || ' is kept'
       END AS reason,
       CASE WHEN t_tid IS NULL OR t_cid IS NULL OR t_pid IS NULL THEN 'missing_key'
            WHEN k_tid IS NULL OR k_cid IS NULL OR k_pid IS NULL THEN 'unparseable_key'
            WHEN newest_rank > 1 THEN 'duplicate_key'
       END AS rule
FROM ranked;

CREATE OR REPLACE TEMP TABLE customers_screened AS
SELECT *,
       CASE WHEN t_id IS NULL THEN 'missing_key'
            WHEN k_id IS NULL THEN 'unparseable_key'
            WHEN newest_rank > 1 THEN 'duplicate_key' END AS rule,
       CASE WHEN t_id IS NULL THEN 'customer_id is missing'
            WHEN k_id IS NULL THEN 'customer_id ''' || t_id || ''' is not an integer'
            WHEN newest_rank > 1 THEN 'customer_id ' || t_id
                 || ' is repeated; the record on line ' || kept_line || ' is kept'
       END AS reason
FROM (
    SELECT *,
           row_number() OVER newest AS newest_rank,
           first_value(_row_number) OVER newest AS kept_line
    FROM (SELECT *, (t_id IS NULL OR k_id IS NULL) AS key_problem
          FROM (SELECT *, parse_int(t_id) AS k_id
                FROM (SELECT b.*, clean(customer_id) AS t_id FROM bronze.bronze_customers AS b)))
    WINDOW newest AS (PARTITION BY k_id ORDER BY key_problem, _row_number DESC)
);

CREATE OR REPLACE TEMP TABLE products_screened AS
SELECT *,
       CASE WHEN t_id IS NULL THEN 'missing_key'
            WHEN k_id IS NULL THEN 'unparseable_key'
            WHEN newest_rank > 1 THEN 'duplicate_key' END AS rule,
       CASE WHEN t_id IS NULL THEN 'product_id is missing'
            WHEN k_id IS NULL THEN 'product_id ''' || t_id || ''' is not an integer'
            WHEN newest_rank > 1 THEN 'product_id ' || t_id
                 || ' is repeated; the record on line ' || kept_line || ' is kept'
       END AS reason
FROM (
    SELECT *,
           row_number() OVER newest AS newest_rank,
           first_value(_row_number) OVER newest AS kept_line
    FROM (SELECT *, (t_id IS NULL OR k_id IS NULL) AS key_problem
          FROM (SELECT *, parse_int(t_id) AS k_id
                FROM (SELECT b.*, clean(product_id) AS t_id FROM bronze.bronze_products AS b)))
    WINDOW newest AS (PARTITION BY k_id ORDER BY key_problem, _row_number DESC)
);

CREATE OR REPLACE TABLE silver.quarantine AS
SELECT 'retail' AS pipeline, 'bronze_sales' AS source_table, _source_file, _row_number,
       _row_hash, rule, reason, _run_id
FROM sales_screened WHERE rule IS NOT NULL
UNION ALL
SELECT 'retail', 'bronze_customers', _source_file, _row_number, _row_hash, rule, reason, _run_id
FROM customers_screened WHERE rule IS NOT NULL
UNION ALL
SELECT 'retail', 'bronze_products', _source_file, _row_number, _row_hash, rule, reason, _run_id
FROM products_screened WHERE rule IS NOT NULL;

-- ---------------------------------------------------------------------------------- silver
CREATE OR REPLACE TABLE silver.silver_sales_cleaned AS
WITH typed AS (
    SELECT k_tid AS transaction_id, k_cid AS customer_id, k_pid AS product_id,
           parse_int(clean(sales_rep_id)) AS sales_rep_id,
           upper(clean(product_name)) AS product_name_clean,
           upper(clean(category)) AS category_clean,
           upper(clean(store_location)) AS store_location_clean,
           parse_int(clean(quantity)) AS quantity,
           parse_money(clean(unit_price)) AS unit_price,
           parse_date(clean(transaction_date)) AS transaction_date_clean,
           _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
    FROM sales_screened WHERE rule IS NULL
), checked AS (
    SELECT *,
           CASE WHEN quantity > 0 THEN quantity END AS quantity_valid,
           CASE WHEN unit_price >= 0 THEN unit_price END AS unit_price_valid,
           coalesce(transaction_date_clean > $latest_possible_date::DATE, false)
               AS is_future_dated
    FROM typed
)
SELECT transaction_id, customer_id, product_id, sales_rep_id, product_name_clean,
       category_clean, store_location_clean, quantity_valid, unit_price_valid,
       (quantity_valid * unit_price_valid)::DECIMAL(38, 2) AS total_amount,
       transaction_date_clean, is_future_dated,
       quantity_valid IS NOT NULL AND unit_price_valid IS NOT NULL
           AND transaction_date_clean IS NOT NULL AND NOT is_future_dated
           AS is_valid_transaction,
       _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
FROM checked;

-- the as-of date: the day of the latest valid sale
CREATE OR REPLACE TEMP TABLE run_as_of AS
SELECT max(transaction_date_clean) AS as_of
FROM silver.silver_sales_cleaned WHERE is_valid_transaction;

CREATE OR REPLACE TABLE silver.silver_customers_cleaned AS
WITH typed AS (
    SELECT k_id AS customer_id,
           title(clean(first_name)) AS first_name_clean,
           title(clean(last_name)) AS last_name_clean,
           lower(clean(email)) AS email,
           clean(phone) AS phone_clean,
           upper(clean(customer_type)) AS customer_type_clean,
           CASE WHEN parse_money(clean(credit_limit)) >= 0
                THEN parse_money(clean(credit_limit)) END AS credit_limit_valid,
           parse_date(clean(registration_date)) AS registration_date_clean,
           _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
    FROM customers_screened WHERE rule IS NULL
), checked AS (
    SELECT *,
           coalesce(regexp_matches(email, '^[^@\s]+@[^@\s]+[.][^@\s]+$$'), false) AS has_email,
           (SELECT as_of FROM run_as_of) - registration_date_clean AS tenure_days
    FROM typed
)
SELECT customer_id, first_name_clean, last_name_clean,
       nullif(concat_ws(' ', first_name_clean, last_name_clean), '') AS full_name,
       CASE WHEN has_email THEN email END AS email_clean,
       phone_clean, customer_type_clean, credit_limit_valid, registration_date_clean,
       CASE WHEN tenure_days <= 30 THEN 'New'
            WHEN tenure_days <= 365 THEN 'Recent'
            WHEN tenure_days IS NOT NULL THEN 'Established' END AS customer_tenure_segment,
       CASE WHEN credit_limit_valid >= 5000 THEN 'High Value'
            WHEN credit_limit_valid >= 2000 THEN 'Medium Value'
            ELSE 'Standard Value' END AS value_segment,
       has_email AND first_name_clean IS NOT NULL AND last_name_clean IS NOT NULL
           AND registration_date_clean IS NOT NULL AS is_valid_customer,
       _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
FROM checked;

CREATE OR REPLACE TABLE silver.silver_products_cleaned AS
WITH typed AS (
    SELECT k_id AS product_id,
           title(clean(product_name)) AS product_name_clean,
           upper(clean(category)) AS category_clean,
           upper(clean(subcategory)) AS subcategory_clean,
           title(clean(brand)) AS brand_clean,
           title(clean(supplier)) AS supplier_clean,
           parse_money(clean(cost_price)) AS cost_price,
           parse_money(clean(retail_price)) AS retail_price,
           parse_int(clean(stock_quantity)) AS stock_quantity,
           parse_int(clean(reorder_level)) AS reorder_level,
           _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
    FROM products_screened WHERE rule IS NULL
), checked AS (
    SELECT *,
           cost_price > 0 AND retail_price > cost_price AS has_margin,
           CASE WHEN stock_quantity >= 0 THEN stock_quantity ELSE 0 END AS stock,
           CASE WHEN reorder_level >= 0 THEN reorder_level ELSE 0 END AS reorder
    FROM typed
)
SELECT product_id, product_name_clean, category_clean, subcategory_clean, brand_clean,
       supplier_clean,
       CASE WHEN cost_price >= 0 THEN cost_price END AS cost_price_valid,
       CASE WHEN retail_price >= 0 THEN retail_price END AS retail_price_valid,
       CASE WHEN has_margin THEN (retail_price - cost_price)::DECIMAL(38, 2) END
           AS profit_margin_amount,
       CASE WHEN has_margin THEN
           as_money(div_half_away(cents(retail_price - cost_price) * 10000, cents(cost_price)))
       END AS profit_margin_percent,
       stock AS stock_quantity_valid,
       reorder AS reorder_level_valid,
       CASE WHEN stock <= reorder THEN 'Low Stock'
            WHEN stock <= reorder * 2 THEN 'Medium Stock'
            ELSE 'High Stock' END AS inventory_status,
       CASE WHEN retail_price >= 1000 THEN 'Premium'
            WHEN retail_price >= 100 THEN 'Standard'
            WHEN retail_price >= 0 THEN 'Budget' END AS price_tier,
       coalesce(product_name_clean IS NOT NULL AND category_clean IS NOT NULL
                AND cost_price >= 0 AND retail_price >= cost_price AND stock_quantity >= 0,
                false) AS is_valid_product,
       _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
FROM checked;

-- ------------------------------------------------------------------------------------ gold
-- Valid sales dated on or before the as-of date; transaction ids are unique in silver.
CREATE OR REPLACE TEMP VIEW valid_sales AS
SELECT transaction_id, customer_id, product_id, store_location_clean, category_clean,
       quantity_valid, total_amount, transaction_date_clean
FROM silver.silver_sales_cleaned
WHERE is_valid_transaction AND transaction_date_clean <= (SELECT as_of FROM run_as_of);

CREATE OR REPLACE TABLE gold.gold_daily_sales_summary AS
WITH daily AS (
    SELECT s.transaction_date_clean AS sale_date,
           s.store_location_clean AS store_location,
           s.category_clean AS product_category,
           count(*) AS transaction_count,
           count(DISTINCT s.customer_id) AS unique_customers,
           sum(s.total_amount) AS revenue,
           sum(s.quantity_valid) AS total_quantity_sold,
           max(s.total_amount) AS max_order_value,
           min(s.total_amount) AS min_order_value,
           count(DISTINCT s.customer_id) FILTER (c.customer_tenure_segment = 'New')
               AS new_customers_count,
           count(DISTINCT s.customer_id) FILTER (c.value_segment = 'High Value')
               AS high_value_customers_count
    FROM valid_sales AS s
    LEFT JOIN silver.silver_customers_cleaned AS c USING (customer_id)
    GROUP BY ALL
)
SELECT sale_date, store_location, product_category, transaction_count, unique_customers,
       revenue::DECIMAL(38, 2) AS total_revenue,
       total_quantity_sold,
       as_money(div_half_away(cents(revenue), transaction_count)) AS avg_order_value,
       max_order_value, min_order_value, new_customers_count, high_value_customers_count,
       as_money(div_half_away(cents(revenue), transaction_count)) AS revenue_per_transaction,
       as_money(div_half_away(total_quantity_sold * 100, transaction_count))
           AS avg_items_per_transaction,
       as_money(div_half_away(unique_customers * 10000, transaction_count))
           AS customer_concentration_pct,
       CASE WHEN transaction_count > 0 AND revenue > 0 THEN 'Valid' ELSE 'Check Required' END
           AS data_quality_status,
       $loaded_at::TIMESTAMP AS _gold_created_at
FROM daily;

CREATE OR REPLACE TABLE gold.gold_customer_lifetime_value AS
WITH purchases AS (
    SELECT customer_id,
           count(*) AS total_transactions,
           sum(total_amount) AS spent,
           max(total_amount) AS highest_order_value,
           min(transaction_date_clean) AS first_purchase_date,
           max(transaction_date_clean) AS last_purchase_date,
           count(DISTINCT transaction_date_clean) AS purchase_days,
           sum(quantity_valid) AS total_items_purchased
    FROM valid_sales
    GROUP BY customer_id
), behaviour AS (
    SELECT *,
           last_purchase_date - first_purchase_date AS customer_lifespan_days,
           (SELECT as_of FROM run_as_of) - last_purchase_date AS days_since_last_purchase
    FROM purchases
)
SELECT b.customer_id, c.full_name,
       c.customer_type_clean AS customer_type, c.value_segment, c.customer_tenure_segment,
       b.total_transactions,
       b.spent::DECIMAL(38, 2) AS total_spent,
       as_money(div_half_away(cents(b.spent), b.total_transactions)) AS avg_order_value,
       b.highest_order_value, b.total_items_purchased, b.first_purchase_date,
       b.last_purchase_date, b.purchase_days, b.customer_lifespan_days,
       b.days_since_last_purchase,
       b.spent::DECIMAL(38, 2) AS current_clv,
       as_money(div_half_away(cents(b.spent) * b.total_transactions * 6,
                              b.total_transactions * 5)) AS projected_clv,
       CASE WHEN b.spent >= 2000 AND b.total_transactions >= 3 THEN 'Champion'
            WHEN b.spent >= 1000 AND b.total_transactions >= 2 THEN 'Loyal Customer'
            WHEN b.spent >= 500 THEN 'Potential Loyalist'
            WHEN b.total_transactions = 1 THEN 'New Customer'
            ELSE 'At Risk' END AS customer_segment,
       CASE WHEN b.days_since_last_purchase <= 30 THEN 'Active'
            WHEN b.days_since_last_purchase <= 90 THEN 'Dormant'
            ELSE 'Inactive' END AS activity_status,
       as_ratio4(div_half_away(b.total_transactions * 10000,
                               CASE WHEN b.customer_lifespan_days > 0
                                    THEN b.customer_lifespan_days ELSE 1 END))
           AS purchase_frequency_score,
       as_money(div_half_away(b.total_items_purchased * 100, b.total_transactions))
           AS avg_items_per_order,
       CASE WHEN b.spent >= 1500 AND b.total_transactions >= 3
                 AND b.days_since_last_purchase <= 60 THEN 'High Value'
            WHEN b.spent >= 500 AND b.total_transactions >= 2 THEN 'Medium Value'
            ELSE 'Low Value' END AS business_value_tier,
       $loaded_at::TIMESTAMP AS _gold_created_at
FROM behaviour AS b
JOIN silver.silver_customers_cleaned AS c USING (customer_id)
WHERE c.is_valid_customer;

CREATE OR REPLACE TABLE gold.gold_product_performance AS
WITH product_sales AS (
    SELECT product_id,
           count(*) AS total_sales_transactions,
           count(DISTINCT customer_id) AS unique_customers,
           sum(quantity_valid) AS total_quantity_sold,
           sum(total_amount) AS revenue,
           min(transaction_date_clean) AS first_sale_date,
           max(transaction_date_clean) AS last_sale_date
    FROM valid_sales
    GROUP BY product_id
), catalogue AS (
    SELECT p.*,
           coalesce(s.total_sales_transactions, 0) AS total_sales_transactions,
           coalesce(s.unique_customers, 0) AS unique_customers,
           coalesce(s.total_quantity_sold, 0) AS total_quantity_sold,
           coalesce(s.revenue, 0) AS revenue,
           s.first_sale_date, s.last_sale_date
    FROM silver.silver_products_cleaned AS p
    LEFT JOIN product_sales AS s USING (product_id)
), categories AS (
    SELECT category_clean, sum(revenue) AS category_revenue
    FROM catalogue GROUP BY category_clean
)
SELECT p.product_id, p.product_name_clean AS product_name, p.category_clean AS category,
       p.subcategory_clean AS subcategory, p.brand_clean AS brand, p.price_tier,
       p.inventory_status, p.total_sales_transactions, p.unique_customers,
       p.total_quantity_sold,
       p.revenue::DECIMAL(38, 2) AS total_revenue,
       coalesce(as_money(div_half_away(cents(p.revenue), p.total_sales_transactions)), 0)
           AS avg_sale_amount,
       p.first_sale_date, p.last_sale_date,
       p.cost_price_valid AS cost_price, p.retail_price_valid AS retail_price,
       p.profit_margin_amount, p.profit_margin_percent,
       (p.total_quantity_sold * p.profit_margin_amount)::DECIMAL(38, 2) AS total_profit,
       p.stock_quantity_valid AS current_stock, p.reorder_level_valid AS reorder_level,
       as_money(div_half_away(cents(p.revenue), p.total_sales_transactions))
           AS revenue_per_transaction,
       as_money(div_half_away(p.total_quantity_sold * 100, p.total_sales_transactions))
           AS avg_quantity_per_sale,
       as_money(div_half_away(p.unique_customers * 10000, p.total_sales_transactions))
           AS customer_repeat_rate,
       c.category_revenue::DECIMAL(38, 2) AS category_total_revenue,
       as_money(div_half_away(cents(p.revenue) * 10000, cents(c.category_revenue)))
           AS category_revenue_share_pct,
       CASE WHEN p.revenue >= 2000 AND p.total_quantity_sold >= 5 THEN 'Star Product'
            WHEN p.revenue >= 1000 THEN 'Strong Performer'
            WHEN p.revenue >= 500 THEN 'Average Performer'
            WHEN p.revenue > 0 THEN 'Underperformer'
            ELSE 'No Sales' END AS performance_category,
       CASE WHEN p.profit_margin_percent >= 30 THEN 'High Margin'
            WHEN p.profit_margin_percent >= 15 THEN 'Medium Margin'
            WHEN p.profit_margin_percent > 0 THEN 'Low Margin'
            ELSE 'Loss Making' END AS profitability_tier,
       CASE WHEN p.stock_quantity_valid >= 0 AND p.total_quantity_sold > 0
            THEN as_money(div_half_away(p.total_quantity_sold * 200,
                                        2 * p.stock_quantity_valid + p.total_quantity_sold))
            ELSE 0::DECIMAL(38, 2) END AS inventory_turnover_ratio,
       CASE WHEN p.revenue >= 1000 AND p.profit_margin_percent >= 20
                 AND p.inventory_status = 'Low Stock' THEN 'Restock Immediately'
            WHEN p.revenue = 0 AND p.stock_quantity_valid > 10 THEN 'Consider Discontinuing'
            WHEN p.profit_margin_percent < 10 AND p.revenue > 0 THEN 'Review Pricing'
            ELSE 'Monitor Performance' END AS business_recommendation,
       $loaded_at::TIMESTAMP AS _gold_created_at
FROM catalogue AS p
LEFT JOIN categories AS c USING (category_clean)
WHERE p.is_valid_product;

