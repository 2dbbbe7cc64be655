"""Contract checks on staged tables, reported in sentences rather than stack traces."""

from collections import defaultdict
from typing import Any

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
    """One line per failed check: where, which check, how many cases, a few examples.

    pandera's ibis backend reports an element-wise failure as a ``{column: value}`` mapping
    and a table-level one (uniqueness) as an unexecuted query of the offending rows; both are
    turned into counts and examples here.
    """
    found: dict[tuple[str, str], list[Any]] = defaultdict(list)
    cases = errors.failure_cases
    for column_name, check, case in zip(
        cases["column"], cases["check"], cases["failure_case"], strict=True
    ):
        if isinstance(case, dict):
            for column, value in case.items():
                found[(f"column {column}", str(check))].append(value)
        elif isinstance(case, ir.Table):
            offending = case.limit(EXAMPLES_PER_CHECK).to_pyarrow().to_pylist()
            where = f"column {case.columns[0]}" if len(case.columns) == 1 else "table"
            found[(where, str(check))].extend(offending)
        else:
            where = f"column {column_name}" if isinstance(column_name, str) else "table"
            found[(where, str(check))].append(case)
    lines = []
    for (where, check), examples in sorted(found.items()):
        shown = ", ".join(repr(value) for value in examples[:EXAMPLES_PER_CHECK])
        lines.append(f"  - {where}: {check} failed (e.g. {shown})")
    return "\n".join(lines)
