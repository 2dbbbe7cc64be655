"""CRM + ERP exports → an ML-ready fact_sales feature table (models registered on import)."""

from medallion_ibis.model import Pipeline

PIPELINE = Pipeline(name="crm_erp", sources=(), description="placeholder")
