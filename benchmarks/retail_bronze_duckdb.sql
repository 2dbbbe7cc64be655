-- Bronze by hand in DuckDB: every source value as text plus lineage, as the build lands it.
-- Run before retail_duckdb.sql (DuckDB baseline) or exported to CSV for retail_postgres.sql
-- (PostgreSQL baseline: its COPY parser refuses real exports such as a bare " inside an
-- unquoted value, so the build parses with DuckDB there too). Placeholders (a dollar sign and
-- a name) are filled in by benchmarks/baseline.py.

CREATE SCHEMA IF NOT EXISTS bronze;

-- ---------------------------------------------------------------------------------- bronze
-- Every value as text; the record's first physical line (header = line 1; the driver refuses
-- files with blank lines between records); md5 of the values joined by U+001F, NULL as ''.
CREATE OR REPLACE TABLE bronze.bronze_sales AS
SELECT *,
       'retail/raw_sales.csv' AS _source_file,
       'retail_pos' AS _source_system,
       row_number() OVER () + 1 AS _row_number,
       $loaded_at::TIMESTAMP AS _loaded_at,
       $run_id AS _run_id,
       md5(concat_ws(chr(31), coalesce(transaction_id, ''), coalesce(customer_id, ''),
           coalesce(product_id, ''), coalesce(product_name, ''), coalesce(category, ''),
           coalesce(quantity, ''), coalesce(unit_price, ''), coalesce(transaction_date, ''),
           coalesce(sales_rep_id, ''), coalesce(store_location, ''))) AS _row_hash
FROM read_csv($sales_csv, header = true, delim = ',', quote = '"', escape = '"',
              auto_detect = false, strict_mode = true,
              columns = {'transaction_id': 'VARCHAR', 'customer_id': 'VARCHAR',
                         'product_id': 'VARCHAR', 'product_name': 'VARCHAR',
                         'category': 'VARCHAR', 'quantity': 'VARCHAR',
                         'unit_price': 'VARCHAR', 'transaction_date': 'VARCHAR',
                         'sales_rep_id': 'VARCHAR', 'store_location': 'VARCHAR'});

-- A quoted value holding line breaks pushes every later record down by them. Such records
-- are rare, so they are found after the load and only the records after them are moved.
CREATE OR REPLACE TEMP TABLE sales_multiline AS
SELECT _row_number AS line, sum(breaks) OVER (ORDER BY _row_number) AS pushed
FROM (
    SELECT _row_number,
           length(v) - length(replace(v, chr(10), '')) AS breaks
    FROM (SELECT _row_number,
                 concat_ws(chr(31), transaction_id, customer_id, product_id, product_name,
                           category, quantity, unit_price, transaction_date, sales_rep_id,
                           store_location) AS v
          FROM bronze.bronze_sales)
    WHERE contains(v, chr(10))
);
UPDATE bronze.bronze_sales AS b
SET _row_number = b._row_number
    + (SELECT max(m.pushed) FROM sales_multiline AS m WHERE m.line < b._row_number)
WHERE b._row_number > (SELECT min(line) FROM sales_multiline);

CREATE OR REPLACE TABLE bronze.bronze_customers AS
SELECT *,
       'retail/raw_customers.csv' AS _source_file,
       'retail_pos' AS _source_system,
       row_number() OVER () + 1 AS _row_number,
       $loaded_at::TIMESTAMP AS _loaded_at,
       $run_id AS _run_id,
       md5(concat_ws(chr(31), coalesce(customer_id, ''), coalesce(first_name, ''),
           coalesce(last_name, ''), coalesce(email, ''), coalesce(phone, ''),
           coalesce(registration_date, ''), coalesce(customer_type, ''),
           coalesce(credit_limit, ''))) AS _row_hash
FROM read_csv($customers_csv, header = true, delim = ',', quote = '"', escape = '"',
              auto_detect = false, strict_mode = true,
              columns = {'customer_id': 'VARCHAR', 'first_name': 'VARCHAR',
                         'last_name': 'VARCHAR', 'email': 'VARCHAR', 'phone': 'VARCHAR',
                         'registration_date': 'VARCHAR', 'customer_type': 'VARCHAR',
                         'credit_limit': 'VARCHAR'});

CREATE OR REPLACE TABLE bronze.bronze_products AS
SELECT *,
       'retail/raw_products.csv' AS _source_file,
       'retail_pos' AS _source_system,
       row_number() OVER () + 1 AS _row_number,
       $loaded_at::TIMESTAMP AS _loaded_at,
       $run_id AS _run_id,
       md5(concat_ws(chr(31), coalesce(product_id, ''), coalesce(product_name, ''),
           coalesce(category, ''), coalesce(subcategory, ''), coalesce(brand, ''),
           coalesce(supplier, ''), coalesce(cost_price, ''), coalesce(retail_price, ''),
           coalesce(stock_quantity, ''), coalesce(reorder_level, ''))) AS _row_hash
FROM read_csv($products_csv, header = true, delim = ',', quote = '"', escape = '"',
              auto_detect = false, strict_mode = true,
              columns = {'product_id': 'VARCHAR', 'product_name': 'VARCHAR',
                         'category': 'VARCHAR', 'subcategory': 'VARCHAR',
                         'brand': 'VARCHAR', 'supplier': 'VARCHAR',
                         'cost_price': 'VARCHAR', 'retail_price': 'VARCHAR',
                         'stock_quantity': 'VARCHAR', 'reorder_level': 'VARCHAR'});

