"""One module per engine; ``open_warehouse`` picks one from the settings."""

from medallion_ibis.backends.base import Publication, Timeouts, Warehouse, staged_name
from medallion_ibis.config import Settings
from medallion_ibis.errors import BackendUnavailable


def open_warehouse(settings: Settings) -> Warehouse:
    """Connect to the engine the settings name."""
    if settings.backend == "duckdb":
        from medallion_ibis.backends.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(
            settings.duckdb_path, wait_seconds=settings.wait, memory_limit=settings.memory_limit
        )
    if settings.backend == "postgres":
        from medallion_ibis.backends.postgres import PostgresWarehouse

        return PostgresWarehouse(
            settings.pg_url,
            Timeouts(settings.connect_timeout, settings.lock_timeout),
            settings.memory_limit,
        )
    try:
        from medallion_ibis.backends.pyspark import SparkWarehouse
    except ImportError:
        raise BackendUnavailable(
            "the pyspark backend needs PySpark and Java: pip install 'medallion-ibis[spark]'"
        ) from None
    return SparkWarehouse(
        settings.spark_warehouse,
        settings.spark_master,
        settings.spark_conf,
        stall_timeout=settings.spark_stall_timeout,
        verbose=settings.spark_verbose,
    )


__all__ = ["Publication", "Timeouts", "Warehouse", "open_warehouse", "staged_name"]
