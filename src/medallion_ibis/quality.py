"""Contract checks on staged tables, reported in sentences rather than stack traces."""

import ibis.expr.types as ir
import pandera.errors
import pandera.ibis as pa
from pandera.config import ValidationDepth, config_context

from medallion_ibis.errors import ModelFailed

EXAMPLES_PER_CHECK = 3


def check_contract(node: str, contract: pa.DataFrameSchema, staged: ir.Table, rows: int) -> None:
    """Validate ``staged`` in the database; every violated check is reported at once.

    An empty table is checked for its columns and types only: pandera's ibis backend treats
    the NULL that ``all()`` returns over zero rows as a failure of every data check.
    """
    depth = ValidationDepth.SCHEMA_AND_DATA if rows else ValidationDepth.SCHEMA_ONLY
    try:
        with config_context(validation_depth=depth):
            contract.validate(staged, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        raise ModelFailed(node, "contract violated:\n" + describe_failures(errors)) from None


def describe_failures(errors: pandera.errors.SchemaErrors) -> str:
    """One line per failed check: column, check, how many cases, a few examples."""
    cases = errors.failure_cases
    lines = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=True):
        examples = ", ".join(
            repr(value) for value in group["failure_case"].head(EXAMPLES_PER_CHECK)
        )
        where = "table" if column is None or column != column else f"column {column}"
        lines.append(f"  - {where}: {check} failed ({len(group)} case(s), e.g. {examples})")
    return "\n".join(lines)
