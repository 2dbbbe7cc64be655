"""CRM/ERP silver: one row per customer, product version and sales line; the rest in quarantine.

The CRM is the system of record for customers, products and sales; the ERP tables enrich it.
Each ERP table becomes a silver lookup with one row per id, screened like a CRM table (a row
without an id, or all but the last of a repeated id, goes to quarantine), so an enrichment
never fans a customer out into two rows. An ERP row whose id matches no CRM customer or product
is not an error of that row (the CRM may simply not know the customer yet): it stays in its
lookup, enriches nothing, and is picked up by a later build with a fuller CRM export. So every
bronze row of all six sources ends in exactly one of silver or quarantine.
"""

from datetime import date

import ibis
import ibis.expr.types as ir

from medallion_ibis import (
    MONEY,
    QUARANTINE,
    AsOfRule,
    KeyScreen,
    RunContext,
    add_days,
    clean_text,
    conform,
    parse_compact_date,
    parse_decimal,
    parse_int,
    parse_iso_date,
    positive_or_null,
    ratio,
    upper_text,
    with_lineage,
)

from . import contracts
from .sources import (
    CUSTOMERS,
    ERP_CATEGORIES,
    ERP_CUSTOMERS,
    ERP_LOCATIONS,
    PIPELINE,
    PRODUCTS,
    SALES,
)

NOT_AVAILABLE = contracts.NOT_AVAILABLE
"""The label for a coded attribute that is missing or not one of the known codes."""
ERP_ID_PREFIX = "NAS"
"""CUST_AZ12 prefixes some customer numbers with 'NAS' (``NASAW00011000`` is ``AW00011000``)."""


def newest_created(bronze: ir.Table) -> list[ir.Value]:
    """Latest customer record first by create date; undated records rank after dated ones."""
    return [parse_iso_date(bronze.cst_create_date).desc(nulls_first=False)]


CUSTOMER_KEYS = KeyScreen(
    source_table=CUSTOMERS.table,
    required=("cst_id",),
    integer=("cst_id",),
    key=("cst_id",),
    latest_first=newest_created,
)
PRODUCT_KEYS = KeyScreen(
    source_table=PRODUCTS.table,
    required=("prd_id", "prd_key"),
    integer=("prd_id",),
    key=("prd_id",),
)
SALES_KEYS = KeyScreen(
    source_table=SALES.table,
    required=("sls_ord_num", "sls_prd_key", "sls_cust_id"),
    integer=("sls_cust_id",),
    key=("_row_hash",),
)
"""A sales line has no id of its own: only a line repeated verbatim is a duplicate (re-sent).

The export carries no line number, and one order may list a product twice (with different
quantities, say), so (order number, product) is not a key. Lines without an order number,
product or customer id cannot be placed in an order, a product history or a customer
timeline, so they go to quarantine; lines whose ids are present but unknown to the CRM stay,
and gold flags them."""
ERP_CUSTOMER_KEYS = KeyScreen(
    source_table=ERP_CUSTOMERS.table, required=("CID",), integer=(), key=("CID",)
)
ERP_LOCATION_KEYS = KeyScreen(
    source_table=ERP_LOCATIONS.table, required=("CID",), integer=(), key=("CID",)
)
ERP_CATEGORY_KEYS = KeyScreen(
    source_table=ERP_CATEGORIES.table, required=("ID",), integer=(), key=("ID",)
)


# --- ERP customer ids ----------------------------------------------------------------------


def customer_number_from_az12(cid: ir.StringValue) -> ir.StringValue:
    """CUST_AZ12's CID without its optional 'NAS' prefix: the CRM's cst_key."""
    text = clean_text(cid)
    return clean_text(
        ibis.cases((text.startswith(ERP_ID_PREFIX), text.substr(len(ERP_ID_PREFIX))), else_=text)
    )


def customer_number_from_a101(cid: ir.StringValue) -> ir.StringValue:
    """LOC_A101's CID without its dashes (``AW-00011000`` is ``AW00011000``)."""
    return clean_text(clean_text(cid).replace("-", ""))


def az12_by_customer_number(bronze: ir.Table) -> ir.Table:
    """CUST_AZ12 rows with CID as the CRM writes it, so screening compares like with like."""
    return bronze.mutate(CID=customer_number_from_az12(bronze.CID))


def a101_by_customer_number(bronze: ir.Table) -> ir.Table:
    """LOC_A101 rows with CID as the CRM writes it, so screening compares like with like."""
    return bronze.mutate(CID=customer_number_from_a101(bronze.CID))


# --- customer rules ------------------------------------------------------------------------


def marital_status(code: ir.StringValue) -> ir.StringValue:
    """S → Single, M → Married, anything else 'n/a'."""
    return ibis.cases(
        (upper_text(code) == "S", "Single"),
        (upper_text(code) == "M", "Married"),
        else_=NOT_AVAILABLE,
    )


def crm_gender(code: ir.StringValue) -> ir.StringValue:
    """The CRM's gender code: F → Female, M → Male, anything else 'n/a'."""
    return ibis.cases(
        (upper_text(code) == "F", "Female"),
        (upper_text(code) == "M", "Male"),
        else_=NOT_AVAILABLE,
    )


def erp_gender(text: ir.StringValue) -> ir.StringValue:
    """The ERP's gender, written Female / Male / F / M in any case; anything else 'n/a'."""
    return ibis.cases(
        (upper_text(text).isin(["F", "FEMALE"]), "Female"),
        (upper_text(text).isin(["M", "MALE"]), "Male"),
        else_=NOT_AVAILABLE,
    )


def merged_gender(crm: ir.StringValue, erp: ir.StringValue) -> ir.StringValue:
    """The CRM's gender wins; the ERP's fills in only where the CRM says 'n/a'."""
    return ibis.cases((crm != NOT_AVAILABLE, crm), else_=erp.fill_null(NOT_AVAILABLE))


def plausible_birthdate(birthdate: ir.DateValue, as_of: ir.DateValue) -> ir.DateValue:
    """A birthdate after the as-of date is a typo, not a customer yet to be born: NULL."""
    return ibis.cases((birthdate <= as_of, birthdate), else_=ibis.null("date"))


def country_name(text: ir.StringValue) -> ir.StringValue:
    """DE → Germany, US / USA → United States, blank → 'n/a', other names as written."""
    code = upper_text(text)
    return ibis.cases(
        (code == "DE", "Germany"),
        (code.isin(["US", "USA"]), "United States"),
        (code.isnull(), NOT_AVAILABLE),
        else_=clean_text(text),
    )


# --- ERP lookups ---------------------------------------------------------------------------
# The lookups are tables of their own rather than subqueries of the models they enrich: joined
# in one query with the screened CRM rows, PostgreSQL's planner underestimates the screen's
# output a hundredfold and picks nested loops (minutes instead of a fraction of a second).


def typed_erp_customers(erp: ir.Table) -> ir.Table:
    return with_lineage(
        erp,
        customer_number=erp.CID,
        birthdate=parse_iso_date(erp.BDATE),
        gender=erp_gender(erp.GEN),
    )


def with_plausible_birthdates(people: ir.Table, as_of: ir.DateValue) -> ir.Table:
    return people.mutate(birthdate=plausible_birthdate(people.birthdate, as_of))


@PIPELINE.model(layer="silver", inputs=(ERP_CUSTOMERS.table,), contract=contracts.ErpCustomers)
def erp_customers(bronze_az12: ir.Table, *, run: RunContext) -> ir.Table:
    """One row per customer number in CUST_AZ12: birthdate and gender as the ERP has them."""
    return (
        ERP_CUSTOMER_KEYS.accepted(az12_by_customer_number(bronze_az12))
        .pipe(typed_erp_customers)
        .pipe(with_plausible_birthdates, run.as_of)
        .pipe(conform, contracts.ErpCustomers)
    )


def typed_erp_locations(erp: ir.Table) -> ir.Table:
    return with_lineage(erp, customer_number=erp.CID, country=country_name(erp.CNTRY))


@PIPELINE.model(layer="silver", inputs=(ERP_LOCATIONS.table,), contract=contracts.ErpLocations)
def erp_locations(bronze_a101: ir.Table) -> ir.Table:
    """One row per customer number in LOC_A101: the customer's country."""
    return (
        ERP_LOCATION_KEYS.accepted(a101_by_customer_number(bronze_a101))
        .pipe(typed_erp_locations)
        .pipe(conform, contracts.ErpLocations)
    )


def typed_erp_categories(erp: ir.Table) -> ir.Table:
    return with_lineage(
        erp,
        category_id=clean_text(erp.ID),
        category=clean_text(erp.CAT),
        subcategory=clean_text(erp.SUBCAT),
        maintenance=clean_text(erp.MAINTENANCE),
    )


@PIPELINE.model(layer="silver", inputs=(ERP_CATEGORIES.table,), contract=contracts.ErpCategories)
def erp_categories(bronze_categories: ir.Table) -> ir.Table:
    """One row per category id in PX_CAT_G1V2: category, subcategory and maintenance."""
    return (
        ERP_CATEGORY_KEYS.accepted(bronze_categories)
        .pipe(typed_erp_categories)
        .pipe(conform, contracts.ErpCategories)
    )


# --- customers -----------------------------------------------------------------------------


def typed_customers(crm: ir.Table) -> ir.Table:
    """Names trimmed, codes decoded, the create date parsed."""
    return with_lineage(
        crm,
        customer_id=parse_int(crm.cst_id),
        customer_number=clean_text(crm.cst_key),
        first_name=clean_text(crm.cst_firstname),
        last_name=clean_text(crm.cst_lastname),
        marital_status=marital_status(crm.cst_marital_status),
        crm_gender=crm_gender(crm.cst_gndr),
        create_date=parse_iso_date(crm.cst_create_date),
    )


def enriched_from_erp(customers: ir.Table, people: ir.Table, places: ir.Table) -> ir.Table:
    """Birthdate, gender and country from the ERP lookups, matched on the customer number.

    A customer the ERP does not know gets a NULL birthdate, its CRM gender ('n/a' if none)
    and country 'n/a'.
    """
    erp_people = people.select(
        people_number=people.customer_number,
        birthdate=people.birthdate,
        erp_gender=people.gender,
    )
    erp_places = places.select(places_number=places.customer_number, erp_country=places.country)
    enriched = customers.left_join(
        erp_people, customers.customer_number == erp_people.people_number
    ).left_join(erp_places, customers.customer_number == erp_places.places_number)
    return enriched.mutate(
        gender=merged_gender(enriched.crm_gender, enriched.erp_gender),
        country=enriched.erp_country.fill_null(NOT_AVAILABLE),
    )


@PIPELINE.model(
    layer="silver",
    inputs=(CUSTOMERS.table, "erp_customers", "erp_locations"),
    contract=contracts.Customers,
)
def customers(bronze_customers: ir.Table, people: ir.Table, places: ir.Table) -> ir.Table:
    """One row per customer: its latest CRM record, enriched with ERP birthdate and country.

    The CRM record of the latest export wins (batch, see ``Source``); within it, the one with
    the latest create date (an undated one only when no record is dated; equal dates go to
    the later line of the file).
    """
    return (
        CUSTOMER_KEYS.accepted(bronze_customers)
        .pipe(typed_customers)
        .pipe(enriched_from_erp, people, places)
        .pipe(conform, contracts.Customers)
    )


# --- products ------------------------------------------------------------------------------


def category_id(prd_key: ir.StringValue) -> ir.StringValue:
    """The first five characters of prd_key with '-' → '_': PX_CAT_G1V2's ID."""
    return clean_text(clean_text(prd_key).substr(0, 5).replace("-", "_"))


def product_number(prd_key: ir.StringValue) -> ir.StringValue:
    """prd_key from its seventh character: the key sales lines use (NULL if too short)."""
    return clean_text(clean_text(prd_key).substr(6))


def product_cost(text: ir.StringValue) -> ir.DecimalValue:
    """The cost as a non-negative amount; missing, unreadable or negative cost counts as 0."""
    cost = parse_decimal(text)
    return ibis.cases((cost >= 0, cost), else_=ibis.literal(0).cast(MONEY))


def product_line(code: ir.StringValue) -> ir.StringValue:
    """M → Mountain, R → Road, S → Other Sales, T → Touring, anything else 'n/a'."""
    return ibis.cases(
        (upper_text(code) == "M", "Mountain"),
        (upper_text(code) == "R", "Road"),
        (upper_text(code) == "S", "Other Sales"),
        (upper_text(code) == "T", "Touring"),
        else_=NOT_AVAILABLE,
    )


def day_before(day: ir.DateValue) -> ir.DateValue:
    return add_days(day, -1)


def typed_products(crm: ir.Table) -> ir.Table:
    """prd_key split into category id and product number; cost, line and start date typed."""
    return with_lineage(
        crm,
        product_id=parse_int(crm.prd_id),
        category_id=category_id(crm.prd_key),
        product_number=product_number(crm.prd_key),
        product_name=clean_text(crm.prd_nm),
        product_cost=product_cost(crm.prd_cost),
        product_line=product_line(crm.prd_line),
        start_date=parse_iso_date(crm.prd_start_dt),
    )


def with_validity(versions: ir.Table) -> ir.Table:
    """Each version ends the day before the next later start of the same product number.

    The source's own prd_end_dt is ignored: it often precedes the start. Versions sharing a
    start date end together. A version without a start date is taken as the oldest: it ends
    the day before the product's first dated start, or never when no version is dated.
    ``is_current`` marks the versions without an end date: every product number has at least
    one, several only when its latest versions share a start date. Versions without a product
    number have no history and no end date.
    """
    history = ibis.window(
        group_by=versions.product_number,
        order_by=[versions.start_date.asc(nulls_first=False), versions.product_id],
    )
    with_next = versions.mutate(
        following_start=versions.start_date.lead().over(history).nullif(versions.start_date)
    )
    same_start = ibis.window(group_by=[with_next.product_number, with_next.start_date])
    whole_product = ibis.window(group_by=with_next.product_number)
    next_start = with_next.following_start.max().over(same_start)
    first_start = with_next.start_date.min().over(whole_product)
    end_date = ibis.cases(
        (with_next.product_number.isnull(), ibis.null("date")),
        (with_next.start_date.notnull(), day_before(next_start)),
        else_=day_before(first_start),
    )
    return with_next.mutate(end_date=end_date, is_current=end_date.isnull())


def categorised(products: ir.Table, categories: ir.Table) -> ir.Table:
    """Category, subcategory and maintenance from PX_CAT_G1V2 by category id."""
    erp = categories.select(
        erp_category_id=categories.category_id,
        category=categories.category,
        subcategory=categories.subcategory,
        maintenance=categories.maintenance,
    )
    return products.left_join(erp, products.category_id == erp.erp_category_id)


@PIPELINE.model(
    layer="silver",
    inputs=(PRODUCTS.table, "erp_categories"),
    contract=contracts.Products,
)
def products(bronze_products: ir.Table, categories: ir.Table) -> ir.Table:
    """One row per product version (prd_id): typed, categorised, with its validity period."""
    return (
        PRODUCT_KEYS.accepted(bronze_products)
        .pipe(typed_products)
        .pipe(with_validity)
        .pipe(categorised, categories)
        .pipe(conform, contracts.Products)
    )


# --- sales ---------------------------------------------------------------------------------


def recomputed_sales(
    sales: ir.DecimalValue, quantity: ir.IntegerValue, price: ir.DecimalValue
) -> ir.DecimalValue:
    """The line's sales amount, recomputed as quantity × |price| when it cannot be trusted.

    Untrusted means missing, not positive, or inconsistent: different from quantity × |price|
    where the quantity and a non-zero price are known (a zero price says nothing about the
    amount, it is itself derived from the sales). Otherwise a positive amount is kept as is.
    """
    expected = (quantity * price.abs()).cast(MONEY)
    return ibis.cases(
        (sales.isnull() | (sales <= 0), expected),
        ((price != 0) & (sales != expected), expected),
        else_=sales,
    ).cast(MONEY)


def derived_price(
    price: ir.DecimalValue, sales: ir.DecimalValue, quantity: ir.IntegerValue
) -> ir.DecimalValue:
    """The unit price; when missing or not positive, the (recomputed) sales / quantity."""
    return ibis.cases(
        (price > 0, price),
        else_=ratio(sales, quantity),
    ).cast(MONEY)


def dates_out_of_order(
    order_date: ir.DateValue, ship_date: ir.DateValue, due_date: ir.DateValue
) -> ir.BooleanValue:
    """True when the order date is after the ship date or after the due date."""
    return ((order_date > ship_date) | (order_date > due_date)).fill_null(False)


def typed_sales(sales: ir.Table) -> ir.Table:
    """yyyymmdd integers as dates (0, wrong length, impossible day → NULL), amounts parsed.

    A quantity that is not a positive integer is unknown (NULL), so neither it nor a price
    derived from it is invented.
    """
    return with_lineage(
        sales,
        order_number=clean_text(sales.sls_ord_num),
        product_number=clean_text(sales.sls_prd_key),
        customer_id=parse_int(sales.sls_cust_id),
        order_date=parse_compact_date(sales.sls_order_dt),
        ship_date=parse_compact_date(sales.sls_ship_dt),
        due_date=parse_compact_date(sales.sls_due_dt),
        quantity=positive_or_null(parse_int(sales.sls_quantity)),
        reported_price=parse_decimal(sales.sls_price),
        reported_sales=parse_decimal(sales.sls_sales),
    )


def numbered_lines(sales: ir.Table) -> ir.Table:
    """``line_number`` numbers an order's lines 1, 2, … in the order they were loaded (batch,
    then line in its file): with the order number it identifies a line."""
    in_file_order = ibis.window(
        group_by=sales.order_number, order_by=[sales._batch_id, sales._row_number]
    )
    return sales.mutate(line_number=(ibis.row_number().over(in_file_order) + 1).cast("int64"))


def consistent_amounts(sales: ir.Table) -> ir.Table:
    """Sales recomputed where untrusted, then the price derived from them where missing."""
    recomputed = sales.mutate(
        sales_amount=recomputed_sales(sales.reported_sales, sales.quantity, sales.reported_price)
    )
    return recomputed.mutate(
        price=derived_price(recomputed.reported_price, recomputed.sales_amount, recomputed.quantity)
    )


def without_future_order_dates(sales: ir.Table, latest_possible_date: date) -> ir.Table:
    """An order date after ``latest_possible_date`` (the build's day, see
    ``RunContext.latest_possible_date``) is a typo or a placeholder such as 99991231, not a
    sale: it becomes NULL, like an unreadable date, and ``is_future_dated`` says why. The line
    stays (its amounts are real) but cannot be placed in time, so it moves neither the default
    as-of date nor any RFM or point-in-time feature."""
    is_future = (sales.order_date > ibis.literal(latest_possible_date)).fill_null(False)
    return sales.mutate(
        order_date=ibis.cases((is_future, ibis.null("date")), else_=sales.order_date),
        is_future_dated=is_future,
    )


def flagged_dates(sales: ir.Table) -> ir.Table:
    return sales.mutate(
        dates_out_of_order=dates_out_of_order(sales.order_date, sales.ship_date, sales.due_date)
    )


@PIPELINE.model(layer="silver", inputs=(SALES.table,), contract=contracts.SalesClean)
def sales_clean(bronze_sales: ir.Table, *, run: RunContext) -> ir.Table:
    """One row per sales line: dates typed, amounts made consistent, date order flagged."""
    return (
        SALES_KEYS.accepted(bronze_sales)
        .pipe(typed_sales)
        .pipe(numbered_lines)
        .pipe(consistent_amounts)
        .pipe(without_future_order_dates, run.latest_possible_date)
        .pipe(flagged_dates)
        .pipe(conform, contracts.SalesClean)
    )


@PIPELINE.model(
    layer="silver",
    inputs=(
        CUSTOMERS.table,
        PRODUCTS.table,
        SALES.table,
        ERP_CUSTOMERS.table,
        ERP_LOCATIONS.table,
        ERP_CATEGORIES.table,
    ),
    contract=QUARANTINE,
    partition_column="pipeline",
)
def quarantine(
    bronze_customers: ir.Table,
    bronze_products: ir.Table,
    bronze_sales: ir.Table,
    bronze_az12: ir.Table,
    bronze_a101: ir.Table,
    bronze_categories: ir.Table,
) -> ir.Table:
    """Bronze rows kept out of silver, each with the rule it broke and why.

    ERP customer ids are screened as the CRM writes them (no 'NAS' prefix, no dashes), so
    their reasons name the normalised id.
    """
    return ibis.union(
        CUSTOMER_KEYS.rejected(bronze_customers, PIPELINE.name),
        PRODUCT_KEYS.rejected(bronze_products, PIPELINE.name),
        SALES_KEYS.rejected(bronze_sales, PIPELINE.name),
        ERP_CUSTOMER_KEYS.rejected(az12_by_customer_number(bronze_az12), PIPELINE.name),
        ERP_LOCATION_KEYS.rejected(a101_by_customer_number(bronze_a101), PIPELINE.name),
        ERP_CATEGORY_KEYS.rejected(bronze_categories, PIPELINE.name),
    )


def latest_order_date(sales: ir.Table) -> ir.Scalar:
    """Default as-of date: the latest valid order date, so a rebuild is reproducible.

    Future order dates are already NULL (see ``without_future_order_dates``)."""
    return sales.order_date.max()


PIPELINE.default_as_of = AsOfRule(model="sales_clean", latest=latest_order_date)
