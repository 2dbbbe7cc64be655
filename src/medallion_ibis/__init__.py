"""medallion-ibis: bronze → silver → gold pipelines written once in Ibis.

The same model code builds on DuckDB (the embedded default, for development and tests),
PostgreSQL (production) and Spark, because every transform is an Ibis expression compiled per
engine. This module is the public API: everything a pipeline needs is importable from here,
and everything else in the package is private engine room.

Example (``my_shop/pipelines/orders.py``)::

    import ibis.expr.types as ir
    from ibis import _
    from medallion_ibis import INT, KeyScreen, Pipeline, Source, column, parse_int, table

    ORDERS = Source("bronze_orders", "orders.csv", columns=("order_id", "amount"), system="shop")
    PIPELINE = Pipeline("orders", sources=(ORDERS,), description="Shop orders.")
    KEYS = KeyScreen(ORDERS.table, required=("order_id",), integer=("order_id",),
                     key=("order_id",))

    @PIPELINE.model(layer="silver", inputs=(ORDERS.table,),
                    contract=table("silver_orders", {"order_id": column(INT)}))
    def silver_orders(bronze_orders: ir.Table) -> ir.Table:
        \"\"\"One row per order.\"\"\"
        return KEYS.accepted(bronze_orders).select(order_id=parse_int(_.order_id))

Names are imported on first use, so ``import medallion_ibis`` (and ``medallion-ibis --help``)
stays fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, ...]] = {
    "medallion_ibis.model": ("AsOfRule", "Model", "Pipeline", "RunContext", "Source"),
    "medallion_ibis.quarantine": ("KeyScreen",),
    "medallion_ibis.ingest": ("with_lineage",),
    "medallion_ibis.ranking": ("with_ntile",),
    "medallion_ibis.contracts": (
        "DATE",
        "FLAG",
        "INT",
        "MONEY",
        "QUARANTINE",
        "QUARANTINE_RULES",
        "RATIO",
        "SCORE",
        "STAMP",
        "TEXT",
        "column",
        "conform",
        "table",
    ),
    "medallion_ibis.portable": (
        "add_days",
        "clean_text",
        "days_between",
        "md5",
        "non_negative_or_null",
        "non_negative_or_zero",
        "parse_compact_date",
        "parse_decimal",
        "parse_int",
        "parse_iso_date",
        "positive_or_null",
        "ratio",
        "round_half_away",
        "safe_divide",
        "title_case",
        "trim",
        "upper_text",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "DATE",
    "FLAG",
    "INT",
    "MONEY",
    "QUARANTINE",
    "QUARANTINE_RULES",
    "RATIO",
    "SCORE",
    "STAMP",
    "TEXT",
    "AsOfRule",
    "KeyScreen",
    "Model",
    "Pipeline",
    "RunContext",
    "Source",
    "__version__",
    "add_days",
    "clean_text",
    "column",
    "conform",
    "days_between",
    "md5",
    "non_negative_or_null",
    "non_negative_or_zero",
    "parse_compact_date",
    "parse_decimal",
    "parse_int",
    "parse_iso_date",
    "positive_or_null",
    "ratio",
    "round_half_away",
    "safe_divide",
    "table",
    "title_case",
    "trim",
    "upper_text",
    "with_lineage",
    "with_ntile",
]

if TYPE_CHECKING:
    from medallion_ibis.contracts import (
        DATE,
        FLAG,
        INT,
        MONEY,
        QUARANTINE,
        QUARANTINE_RULES,
        RATIO,
        SCORE,
        STAMP,
        TEXT,
        column,
        conform,
        table,
    )
    from medallion_ibis.ingest import with_lineage
    from medallion_ibis.model import AsOfRule, Model, Pipeline, RunContext, Source
    from medallion_ibis.portable import (
        add_days,
        clean_text,
        days_between,
        md5,
        non_negative_or_null,
        non_negative_or_zero,
        parse_compact_date,
        parse_decimal,
        parse_int,
        parse_iso_date,
        positive_or_null,
        ratio,
        round_half_away,
        safe_divide,
        title_case,
        trim,
        upper_text,
    )
    from medallion_ibis.quarantine import KeyScreen
    from medallion_ibis.ranking import with_ntile


def __getattr__(name: str) -> Any:
    """Import a public name from the module that defines it, on first use."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'medallion_ibis' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
