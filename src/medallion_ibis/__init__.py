"""medallion-ibis: bronze → silver → gold pipelines written once in Ibis.

The same model code builds on DuckDB (the embedded default, for development and tests) and on
PostgreSQL (production), because every transform is an Ibis expression compiled per engine.
"""

__version__ = "0.1.0"
