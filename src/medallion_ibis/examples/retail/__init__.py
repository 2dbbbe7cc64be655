"""Retail: raw sales, customers and products → daily sales, customer value, product performance.

Importing the package registers its models on ``PIPELINE``.
"""

from medallion_ibis.examples.retail import gold, silver
from medallion_ibis.examples.retail.sources import PIPELINE

__all__ = ["PIPELINE", "gold", "silver"]
