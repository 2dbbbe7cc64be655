"""Deterministic seed data for the two shipped pipelines, dirty in the ways silver cleans.

Each generator takes a number of sales rows and a seed and writes byte-identical CSV files for
the same pair, streaming the sales so that millions of rows fit in bounded memory.
"""

from medallion_ibis.generate.crm_erp import write_crm_erp_seeds
from medallion_ibis.generate.retail import write_retail_seeds

__all__ = ["write_crm_erp_seeds", "write_retail_seeds"]
