"""One module per engine; ``open_warehouse`` picks one from the settings."""

from medallion_ibis.backends.base import Publication, Warehouse, staged_name
from medallion_ibis.config import Settings


def open_warehouse(settings: Settings) -> Warehouse:
    """Connect to the engine the settings name."""
    if settings.backend == "duckdb":
        from medallion_ibis.backends.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(settings.duckdb_path)
    from medallion_ibis.backends.postgres import PostgresWarehouse

    return PostgresWarehouse(settings.pg_url)


__all__ = ["Publication", "Warehouse", "open_warehouse", "staged_name"]
