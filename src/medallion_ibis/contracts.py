"""Shorthands for declaring table contracts as pandera (ibis) schemas.

Contracts are validated inside the database (pandera compiles each check to a query), so a
build checks a hundred million rows without pulling them out of the engine.
"""

from collections.abc import Sequence
from typing import Any

import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandera.ibis as pa
from pandera.engines import ibis_engine

from medallion_ibis.portable import MONEY

INT = dt.int64
TEXT = dt.string
DATE = dt.date
FLAG = dt.boolean


class Timestamp(ibis_engine.DateTime):
    """A timestamp without time zone at whatever sub-second precision the engine keeps:
    DuckDB and PostgreSQL report microseconds, Spark reports none, the values are the same."""

    def check(self, pandera_dtype: Any, data_container: Any = None) -> bool:
        actual = ibis_engine.Engine.dtype(pandera_dtype).type
        return bool(actual.is_timestamp() and actual.timezone is None)


STAMP = Timestamp()
RATIO = dt.Decimal(38, 2)
SCORE = dt.Decimal(38, 4)
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
    "column",
    "conform",
    "table",
]

LINEAGE = {
    "_source_file": pa.Column(TEXT),
    "_source_system": pa.Column(TEXT),
    "_row_number": pa.Column(INT, pa.Check.ge(2)),
    "_row_hash": pa.Column(TEXT, pa.Check.str_length(32, 32)),
    "_loaded_at": pa.Column(STAMP),
    "_run_id": pa.Column(TEXT),
    "_batch_id": pa.Column(INT, pa.Check.ge(1)),
}
"""Columns every silver row carries back to its bronze line."""


def column(
    dtype: Any,
    *,
    nullable: bool = False,
    one_of: Sequence[str] | None = None,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
) -> pa.Column:
    """A column contract in the words the business rules use."""
    checks = []
    if one_of is not None:
        checks.append(pa.Check.isin(list(one_of)))
    if at_least is not None:
        checks.append(pa.Check.ge(at_least))
    if above is not None:
        checks.append(pa.Check.gt(above))
    if at_most is not None:
        checks.append(pa.Check.le(at_most))
    return pa.Column(dtype, checks=checks, nullable=nullable)


def table(
    name: str,
    columns: dict[str, pa.Column],
    *,
    unique: Sequence[str] | None = None,
    lineage: bool = False,
) -> pa.DataFrameSchema:
    """A strict table contract: exactly these columns, ``unique`` as a whole-row key.

    ``Config.unique`` is used because pandera's per-column ``unique`` is ignored for ibis.
    """
    return pa.DataFrameSchema(
        {**columns, **(LINEAGE if lineage else {})},
        name=name,
        strict=True,
        unique=list(unique) if unique else None,
    )


QUARANTINE_RULES = ("missing_key", "unparseable_key", "duplicate_key")
"""The rules a ``quarantine.KeyScreen`` applies."""

QUARANTINE = table(
    "quarantine",
    {
        "pipeline": column(TEXT),
        "source_table": column(TEXT),
        "_source_file": column(TEXT),
        "_row_number": column(INT, at_least=2),
        "_row_hash": column(TEXT),
        "rule": column(TEXT, one_of=QUARANTINE_RULES),
        "reason": column(TEXT),
        "_run_id": column(TEXT),
        "_batch_id": column(INT, at_least=1),
    },
    unique=["source_table", "_batch_id", "_row_number"],
)
"""``silver.quarantine``, shared by every pipeline (each build replaces its own partition)."""


def conform(rows: ir.Table, contract: pa.DataFrameSchema) -> ir.Table:
    """Exactly the contract's columns, in the contract's order: the contract is the one place
    that says what a table looks like."""
    return rows.select(*contract.columns)
