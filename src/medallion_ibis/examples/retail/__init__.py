"""Retail: raw sales, customers and products → daily sales, customer value, product performance.

Importing the package registers its models on ``PIPELINE``.
"""

from . import gold, silver
from .sources import PIPELINE

__all__ = ["PIPELINE", "gold", "silver"]
