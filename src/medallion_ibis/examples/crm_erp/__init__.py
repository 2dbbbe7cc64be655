"""CRM + ERP exports → an ML-ready fact_sales feature table.

Importing the package registers its models on ``PIPELINE``.
"""

from . import gold, silver
from .sources import PIPELINE

__all__ = ["PIPELINE", "gold", "silver"]
