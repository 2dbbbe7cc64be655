"""CRM + ERP exports → an ML-ready fact_sales feature table.

Importing the package registers its models on ``PIPELINE``.
"""

from medallion_ibis.examples.crm_erp import gold, silver
from medallion_ibis.examples.crm_erp.sources import PIPELINE

__all__ = ["PIPELINE", "gold", "silver"]
