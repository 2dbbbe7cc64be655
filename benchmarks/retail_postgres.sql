-- The retail pipeline written by hand for PostgreSQL: the physical-limit reference for
-- `medallion-ibis build --backend postgres --pipeline retail` (see benchmarks/baseline.py).
--
-- Bronze: PostgreSQL's COPY parser refuses real exports that DuckDB reads (a bare " inside an
-- unquoted value, as in the generated `Tablet 11"`), so, as the build does, DuckDB parses the
-- files (retail_bronze_duckdb.sql: text values, physical line, row hash) and the server reads
-- its output with COPY FROM a file. The rest runs here, in one transaction, with the same
-- rules as the DuckDB baseline: key screening to quarantine with the same sentences, latest
-- record per key, three silver and three gold tables, exact ratios rounded once half away
-- from zero (numeric integer division).
--
-- Hand-tuning the build does not do: each text value is trimmed and parsed once per row
-- behind an OFFSET 0 fence (PostgreSQL would otherwise re-evaluate a repeated expression),
-- transaction ids are known unique in silver (count(*) counts transactions), and the session
-- gets 256 MB of work_mem for its sorts.
--
-- The driver fills in the placeholders (a dollar sign and a name; two dollar signs stand for
-- one): the three bronze CSV files, the run id, the load timestamp and the latest possible
-- date (the build's day plus one).

BEGIN;
SET LOCAL work_mem = '256MB';

CREATE FUNCTION pg_temp.div_half_away(n numeric, d numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE
    AS 'SELECT CASE WHEN d <> 0 THEN
            sign(n) * sign(d) * div(2 * abs(n) + abs(d), 2 * abs(d)) END';
CREATE FUNCTION pg_temp.as_money(units numeric) RETURNS numeric(38, 2)
    LANGUAGE sql IMMUTABLE AS 'SELECT (units * 0.01)::numeric(38, 2)';
CREATE FUNCTION pg_temp.as_ratio4(units numeric) RETURNS numeric(38, 4)
    LANGUAGE sql IMMUTABLE AS 'SELECT (units * 0.0001)::numeric(38, 4)';
CREATE FUNCTION pg_temp.clean(x text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$$$SELECT nullif(regexp_replace(x, '^\s+|\s+$$', '', 'g'), '')$$$$;
CREATE FUNCTION pg_temp.parse_int(t text) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$$$SELECT CASE WHEN t ~ '^[+-]?[0-9]{1,18}$$' THEN t::bigint END$$$$;
CREATE FUNCTION pg_temp.parse_money(t text) RETURNS numeric(38, 2)
    LANGUAGE sql IMMUTABLE
    AS $$$$SELECT CASE WHEN t ~ '^[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]+)$$'
                  THEN t::numeric(18, 2)::numeric(38, 2) END$$$$;
-- a real calendar day from 0001-01-01 to 9999-12-31 (a cast would raise on any other)
CREATE FUNCTION pg_temp.parse_date(t text) RETURNS date
    LANGUAGE sql IMMUTABLE
    AS $$$$SELECT CASE WHEN t ~ '^(?:(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29)$$'
                  THEN t::date END$$$$;
CREATE FUNCTION pg_temp.title(t text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$$$SELECT CASE WHEN t IS NOT NULL THEN array_to_string(ARRAY(
                SELECT upper(left(w, 1)) || lower(substr(w, 2))
                FROM unnest(string_to_array(t, ' ')) WITH ORDINALITY AS u(w, i) ORDER BY i), ' ')
            END$$$$;

DROP SCHEMA IF EXISTS baseline_bronze, baseline_silver, baseline_gold CASCADE;
CREATE SCHEMA baseline_bronze;
CREATE SCHEMA baseline_silver;
CREATE SCHEMA baseline_gold;

-- ---------------------------------------------------------------------------------- bronze
CREATE TABLE baseline_bronze.bronze_sales (
    transaction_id text, customer_id text, product_id text, product_name text, category text,
    quantity text, unit_price text, transaction_date text, sales_rep_id text,
    store_location text, _source_file text, _source_system text, _row_number bigint,
    _loaded_at timestamp, _run_id text, _row_hash text);
COPY baseline_bronze.bronze_sales FROM $sales_bronze (FORMAT csv);
CREATE TABLE baseline_bronze.bronze_customers (
    customer_id text, first_name text, last_name text, email text, phone text,
    registration_date text, customer_type text, credit_limit text, _source_file text,
    _source_system text, _row_number bigint, _loaded_at timestamp, _run_id text,
    _row_hash text);
COPY baseline_bronze.bronze_customers FROM $customers_bronze (FORMAT csv);
CREATE TABLE baseline_bronze.bronze_products (
    product_id text, product_name text, category text, subcategory text, brand text,
    supplier text, cost_price text, retail_price text, stock_quantity text,
    reorder_level text, _source_file text, _source_system text, _row_number bigint,
    _loaded_at timestamp, _run_id text, _row_hash text);
COPY baseline_bronze.bronze_products FROM $products_bronze (FORMAT csv);

-- ------------------------------------------------------------------------- key screening
CREATE TEMP TABLE sales_screened AS
SELECT *,
       CASE WHEN t_tid IS NULL OR t_cid IS NULL OR t_pid IS NULL THEN 'missing_key'
            WHEN k_tid IS NULL OR k_cid IS NULL OR k_pid IS NULL THEN 'unparseable_key'
            WHEN newest_rank > 1 THEN 'duplicate_key'
       END AS rule,
       CASE WHEN t_tid IS NULL THEN 'transaction_id is missing'
            WHEN t_cid IS NULL THEN 'customer_id is missing'
            WHEN t_pid IS NULL THEN 'product_id is missing'
            WHEN k_tid IS NULL THEN 'transaction_id ''' || t_tid || ''' is not an integer'
            WHEN k_cid IS NULL THEN 'customer_id ''' || t_cid || ''' is not an integer'
            WHEN k_pid IS NULL THEN 'product_id ''' || t_pid || ''' is not an integer'
            WHEN newest_rank > 1 THEN 'transaction_id ' || t_tid
                 || ' is repeated; the record on line ' || kept_line || ' is kept'
       END AS reason
FROM (
    SELECT *,
           row_number() OVER newest AS newest_rank,
           first_value(_row_number) OVER newest AS kept_line
    FROM (
        SELECT *,
               t_tid IS NULL OR t_cid IS NULL OR t_pid IS NULL
               OR k_tid IS NULL OR k_cid IS NULL OR k_pid IS NULL AS key_problem
        FROM (
            SELECT *, pg_temp.parse_int(t_tid) AS k_tid, pg_temp.parse_int(t_cid) AS k_cid,
                   pg_temp.parse_int(t_pid) AS k_pid
            FROM (
                SELECT b.*, pg_temp.clean(transaction_id) AS t_tid,
                       pg_temp.clean(customer_id) AS t_cid, pg_temp.clean(product_id) AS t_pid
                FROM baseline_bronze.bronze_sales AS b
                OFFSET 0
            ) AS keyed
            OFFSET 0
        ) AS parsed
    ) AS flagged
    WINDOW newest AS (PARTITION BY k_tid ORDER BY key_problem, _row_number DESC)
) AS ranked;

CREATE TEMP TABLE customers_screened AS
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
          FROM (SELECT *, pg_temp.parse_int(t_id) AS k_id
                FROM (SELECT b.*, pg_temp.clean(customer_id) AS t_id
                      FROM baseline_bronze.bronze_customers AS b OFFSET 0) AS keyed
                OFFSET 0) AS parsed) AS flagged
    WINDOW newest AS (PARTITION BY k_id ORDER BY key_problem, _row_number DESC)
) AS ranked;

CREATE TEMP TABLE products_screened AS
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
          FROM (SELECT *, pg_temp.parse_int(t_id) AS k_id
                FROM (SELECT b.*, pg_temp.clean(product_id) AS t_id
                      FROM baseline_bronze.bronze_products AS b OFFSET 0) AS keyed
                OFFSET 0) AS parsed) AS flagged
    WINDOW newest AS (PARTITION BY k_id ORDER BY key_problem, _row_number DESC)
) AS ranked;

CREATE TABLE baseline_silver.quarantine AS
SELECT 'retail'::text AS pipeline, 'bronze_sales'::text AS source_table, _source_file,
       _row_number, _row_hash, rule, reason, _run_id
FROM sales_screened WHERE rule IS NOT NULL
UNION ALL
SELECT 'retail', 'bronze_customers', _source_file, _row_number, _row_hash, rule, reason, _run_id
FROM customers_screened WHERE rule IS NOT NULL
UNION ALL
SELECT 'retail', 'bronze_products', _source_file, _row_number, _row_hash, rule, reason, _run_id
FROM products_screened WHERE rule IS NOT NULL;

-- ---------------------------------------------------------------------------------- silver
CREATE TABLE baseline_silver.silver_sales_cleaned AS
SELECT transaction_id, customer_id, product_id, sales_rep_id, product_name_clean,
       category_clean, store_location_clean, quantity_valid, unit_price_valid,
       (quantity_valid * unit_price_valid)::numeric(38, 2) AS total_amount,
       transaction_date_clean, is_future_dated,
       quantity_valid IS NOT NULL AND unit_price_valid IS NOT NULL
           AND transaction_date_clean IS NOT NULL AND NOT is_future_dated
           AS is_valid_transaction,
       _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
FROM (
    SELECT *,
           CASE WHEN quantity > 0 THEN quantity END AS quantity_valid,
           CASE WHEN unit_price >= 0 THEN unit_price END AS unit_price_valid,
           coalesce(transaction_date_clean > $latest_possible_date::date, false)
               AS is_future_dated
    FROM (
        SELECT k_tid AS transaction_id, k_cid AS customer_id, k_pid AS product_id,
               pg_temp.parse_int(c_sales_rep_id) AS sales_rep_id,
               upper(c_product_name) AS product_name_clean,
               upper(c_category) AS category_clean,
               upper(c_store_location) AS store_location_clean,
               pg_temp.parse_int(c_quantity) AS quantity,
               pg_temp.parse_money(c_unit_price) AS unit_price,
               pg_temp.parse_date(c_transaction_date) AS transaction_date_clean,
               _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
        FROM (
            SELECT k_tid, k_cid, k_pid,
                   pg_temp.clean(sales_rep_id) AS c_sales_rep_id,
                   pg_temp.clean(product_name) AS c_product_name,
                   pg_temp.clean(category) AS c_category,
                   pg_temp.clean(store_location) AS c_store_location,
                   pg_temp.clean(quantity) AS c_quantity,
                   pg_temp.clean(unit_price) AS c_unit_price,
                   pg_temp.clean(transaction_date) AS c_transaction_date,
                   _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
            FROM sales_screened WHERE rule IS NULL
            OFFSET 0
        ) AS cleaned
        OFFSET 0
    ) AS typed
) AS checked;

CREATE TEMP TABLE run_as_of AS
SELECT max(transaction_date_clean) AS as_of
FROM baseline_silver.silver_sales_cleaned WHERE is_valid_transaction;

CREATE TABLE baseline_silver.silver_customers_cleaned AS
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
FROM (
    SELECT *,
           coalesce(email ~ '^[^@\s]+@[^@\s]+[.][^@\s]+$$', false) AS has_email,
           (SELECT as_of FROM run_as_of) - registration_date_clean AS tenure_days
    FROM (
        SELECT k_id AS customer_id,
               pg_temp.title(pg_temp.clean(first_name)) AS first_name_clean,
               pg_temp.title(pg_temp.clean(last_name)) AS last_name_clean,
               lower(pg_temp.clean(email)) AS email,
               pg_temp.clean(phone) AS phone_clean,
               upper(pg_temp.clean(customer_type)) AS customer_type_clean,
               CASE WHEN pg_temp.parse_money(pg_temp.clean(credit_limit)) >= 0
                    THEN pg_temp.parse_money(pg_temp.clean(credit_limit)) END
                   AS credit_limit_valid,
               pg_temp.parse_date(pg_temp.clean(registration_date)) AS registration_date_clean,
               _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
        FROM customers_screened WHERE rule IS NULL
        OFFSET 0
    ) AS typed
) AS checked;

CREATE TABLE baseline_silver.silver_products_cleaned AS
SELECT product_id, product_name_clean, category_clean, subcategory_clean, brand_clean,
       supplier_clean,
       CASE WHEN cost_price >= 0 THEN cost_price END AS cost_price_valid,
       CASE WHEN retail_price >= 0 THEN retail_price END AS retail_price_valid,
       CASE WHEN has_margin THEN (retail_price - cost_price)::numeric(38, 2) END
           AS profit_margin_amount,
       CASE WHEN has_margin THEN
           pg_temp.as_money(pg_temp.div_half_away((retail_price - cost_price) * 10000,
                                                  cost_price))
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
FROM (
    SELECT *,
           cost_price > 0 AND retail_price > cost_price AS has_margin,
           CASE WHEN stock_quantity >= 0 THEN stock_quantity ELSE 0 END AS stock,
           CASE WHEN reorder_level >= 0 THEN reorder_level ELSE 0 END AS reorder
    FROM (
        SELECT k_id AS product_id,
               pg_temp.title(pg_temp.clean(product_name)) AS product_name_clean,
               upper(pg_temp.clean(category)) AS category_clean,
               upper(pg_temp.clean(subcategory)) AS subcategory_clean,
               pg_temp.title(pg_temp.clean(brand)) AS brand_clean,
               pg_temp.title(pg_temp.clean(supplier)) AS supplier_clean,
               pg_temp.parse_money(pg_temp.clean(cost_price)) AS cost_price,
               pg_temp.parse_money(pg_temp.clean(retail_price)) AS retail_price,
               pg_temp.parse_int(pg_temp.clean(stock_quantity)) AS stock_quantity,
               pg_temp.parse_int(pg_temp.clean(reorder_level)) AS reorder_level,
               _source_file, _source_system, _row_number, _row_hash, _loaded_at, _run_id
        FROM products_screened WHERE rule IS NULL
        OFFSET 0
    ) AS typed
) AS checked;

-- ------------------------------------------------------------------------------------ gold
-- Valid sales dated on or before the as-of date; transaction ids are unique in silver.
CREATE TEMP VIEW valid_sales AS
SELECT transaction_id, customer_id, product_id, store_location_clean, category_clean,
       quantity_valid, total_amount, transaction_date_clean
FROM baseline_silver.silver_sales_cleaned
WHERE is_valid_transaction AND transaction_date_clean <= (SELECT as_of FROM run_as_of);

CREATE TABLE baseline_gold.gold_daily_sales_summary AS
SELECT sale_date, store_location, product_category, transaction_count, unique_customers,
       revenue::numeric(38, 2) AS total_revenue,
       total_quantity_sold,
       pg_temp.as_money(pg_temp.div_half_away(revenue * 100, transaction_count))
           AS avg_order_value,
       max_order_value, min_order_value, new_customers_count, high_value_customers_count,
       pg_temp.as_money(pg_temp.div_half_away(revenue * 100, transaction_count))
           AS revenue_per_transaction,
       pg_temp.as_money(pg_temp.div_half_away(total_quantity_sold * 100, transaction_count))
           AS avg_items_per_transaction,
       pg_temp.as_money(pg_temp.div_half_away(unique_customers * 10000, transaction_count))
           AS customer_concentration_pct,
       CASE WHEN transaction_count > 0 AND revenue > 0 THEN 'Valid' ELSE 'Check Required' END
           AS data_quality_status,
       $loaded_at::timestamp AS _gold_created_at
FROM (
    SELECT s.transaction_date_clean AS sale_date,
           s.store_location_clean AS store_location,
           s.category_clean AS product_category,
           count(*) AS transaction_count,
           count(DISTINCT s.customer_id) AS unique_customers,
           sum(s.total_amount) AS revenue,
           sum(s.quantity_valid) AS total_quantity_sold,
           max(s.total_amount) AS max_order_value,
           min(s.total_amount) AS min_order_value,
           count(DISTINCT s.customer_id) FILTER (WHERE c.customer_tenure_segment = 'New')
               AS new_customers_count,
           count(DISTINCT s.customer_id) FILTER (WHERE c.value_segment = 'High Value')
               AS high_value_customers_count
    FROM valid_sales AS s
    LEFT JOIN baseline_silver.silver_customers_cleaned AS c USING (customer_id)
    GROUP BY 1, 2, 3
) AS daily;

CREATE TABLE baseline_gold.gold_customer_lifetime_value AS
SELECT b.customer_id, c.full_name,
       c.customer_type_clean AS customer_type, c.value_segment, c.customer_tenure_segment,
       b.total_transactions,
       b.spent::numeric(38, 2) AS total_spent,
       pg_temp.as_money(pg_temp.div_half_away(b.spent * 100, b.total_transactions))
           AS avg_order_value,
       b.highest_order_value, b.total_items_purchased, b.first_purchase_date,
       b.last_purchase_date, b.purchase_days, b.customer_lifespan_days,
       b.days_since_last_purchase,
       b.spent::numeric(38, 2) AS current_clv,
       pg_temp.as_money(pg_temp.div_half_away(b.spent * 100 * b.total_transactions * 6,
                                              b.total_transactions * 5)) AS projected_clv,
       CASE WHEN b.spent >= 2000 AND b.total_transactions >= 3 THEN 'Champion'
            WHEN b.spent >= 1000 AND b.total_transactions >= 2 THEN 'Loyal Customer'
            WHEN b.spent >= 500 THEN 'Potential Loyalist'
            WHEN b.total_transactions = 1 THEN 'New Customer'
            ELSE 'At Risk' END AS customer_segment,
       CASE WHEN b.days_since_last_purchase <= 30 THEN 'Active'
            WHEN b.days_since_last_purchase <= 90 THEN 'Dormant'
            ELSE 'Inactive' END AS activity_status,
       pg_temp.as_ratio4(pg_temp.div_half_away(b.total_transactions * 10000,
                                               CASE WHEN b.customer_lifespan_days > 0
                                                    THEN b.customer_lifespan_days ELSE 1 END))
           AS purchase_frequency_score,
       pg_temp.as_money(pg_temp.div_half_away(b.total_items_purchased * 100,
                                              b.total_transactions)) AS avg_items_per_order,
       CASE WHEN b.spent >= 1500 AND b.total_transactions >= 3
                 AND b.days_since_last_purchase <= 60 THEN 'High Value'
            WHEN b.spent >= 500 AND b.total_transactions >= 2 THEN 'Medium Value'
            ELSE 'Low Value' END AS business_value_tier,
       $loaded_at::timestamp AS _gold_created_at
FROM (
    SELECT *,
           last_purchase_date - first_purchase_date AS customer_lifespan_days,
           (SELECT as_of FROM run_as_of) - last_purchase_date AS days_since_last_purchase
    FROM (
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
    ) AS purchases
) AS b
JOIN baseline_silver.silver_customers_cleaned AS c USING (customer_id)
WHERE c.is_valid_customer;

CREATE TABLE baseline_gold.gold_product_performance AS
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
    FROM baseline_silver.silver_products_cleaned AS p
    LEFT JOIN product_sales AS s USING (product_id)
), categories AS (
    SELECT category_clean, sum(revenue) AS category_revenue
    FROM catalogue GROUP BY category_clean
)
SELECT p.product_id, p.product_name_clean AS product_name, p.category_clean AS category,
       p.subcategory_clean AS subcategory, p.brand_clean AS brand, p.price_tier,
       p.inventory_status, p.total_sales_transactions, p.unique_customers,
       p.total_quantity_sold,
       p.revenue::numeric(38, 2) AS total_revenue,
       coalesce(pg_temp.as_money(pg_temp.div_half_away(p.revenue * 100,
                                                       p.total_sales_transactions)), 0)
           AS avg_sale_amount,
       p.first_sale_date, p.last_sale_date,
       p.cost_price_valid AS cost_price, p.retail_price_valid AS retail_price,
       p.profit_margin_amount, p.profit_margin_percent,
       (p.total_quantity_sold * p.profit_margin_amount)::numeric(38, 2) AS total_profit,
       p.stock_quantity_valid AS current_stock, p.reorder_level_valid AS reorder_level,
       pg_temp.as_money(pg_temp.div_half_away(p.revenue * 100, p.total_sales_transactions))
           AS revenue_per_transaction,
       pg_temp.as_money(pg_temp.div_half_away(p.total_quantity_sold * 100,
                                              p.total_sales_transactions))
           AS avg_quantity_per_sale,
       pg_temp.as_money(pg_temp.div_half_away(p.unique_customers * 10000,
                                              p.total_sales_transactions))
           AS customer_repeat_rate,
       c.category_revenue::numeric(38, 2) AS category_total_revenue,
       pg_temp.as_money(pg_temp.div_half_away(p.revenue * 10000, c.category_revenue))
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
            THEN pg_temp.as_money(pg_temp.div_half_away(
                     p.total_quantity_sold * 200,
                     2 * p.stock_quantity_valid + p.total_quantity_sold))
            ELSE 0::numeric(38, 2) END AS inventory_turnover_ratio,
       CASE WHEN p.revenue >= 1000 AND p.profit_margin_percent >= 20
                 AND p.inventory_status = 'Low Stock' THEN 'Restock Immediately'
            WHEN p.revenue = 0 AND p.stock_quantity_valid > 10 THEN 'Consider Discontinuing'
            WHEN p.profit_margin_percent < 10 AND p.revenue > 0 THEN 'Review Pricing'
            ELSE 'Monitor Performance' END AS business_recommendation,
       $loaded_at::timestamp AS _gold_created_at
FROM catalogue AS p
LEFT JOIN categories AS c USING (category_clean)
WHERE p.is_valid_product;

COMMIT;
