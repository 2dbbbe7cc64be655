"""The CRM/ERP pipeline's input files: the public sample's exports, names and headers as-is."""

from medallion_ibis import Pipeline, Source

CRM = "crm"
ERP = "erp"

CUSTOMERS = Source(
    table="crm_cust_info",
    path="crm_erp/source_crm/cust_info.csv",
    columns=(
        "cst_id",
        "cst_key",
        "cst_firstname",
        "cst_lastname",
        "cst_marital_status",
        "cst_gndr",
        "cst_create_date",
    ),
    system=CRM,
)
PRODUCTS = Source(
    table="crm_prd_info",
    path="crm_erp/source_crm/prd_info.csv",
    columns=(
        "prd_id",
        "prd_key",
        "prd_nm",
        "prd_cost",
        "prd_line",
        "prd_start_dt",
        "prd_end_dt",
    ),
    system=CRM,
)
SALES = Source(
    table="crm_sales_details",
    path="crm_erp/source_crm/sales_details.csv",
    columns=(
        "sls_ord_num",
        "sls_prd_key",
        "sls_cust_id",
        "sls_order_dt",
        "sls_ship_dt",
        "sls_due_dt",
        "sls_sales",
        "sls_quantity",
        "sls_price",
    ),
    system=CRM,
)
ERP_CUSTOMERS = Source(
    table="erp_cust_az12",
    path="crm_erp/source_erp/CUST_AZ12.csv",
    columns=("CID", "BDATE", "GEN"),
    system=ERP,
)
ERP_LOCATIONS = Source(
    table="erp_loc_a101",
    path="crm_erp/source_erp/LOC_A101.csv",
    columns=("CID", "CNTRY"),
    system=ERP,
)
ERP_CATEGORIES = Source(
    table="erp_px_cat_g1v2",
    path="crm_erp/source_erp/PX_CAT_G1V2.csv",
    columns=("ID", "CAT", "SUBCAT", "MAINTENANCE"),
    system=ERP,
)

PIPELINE = Pipeline(
    name="crm_erp",
    sources=(CUSTOMERS, PRODUCTS, SALES, ERP_CUSTOMERS, ERP_LOCATIONS, ERP_CATEGORIES),
    description="CRM customers, products and sales enriched from the ERP into an ML-ready "
    "fact_sales feature table.",
)
