"""Contract checks on staged tables, reported in sentences rather than stack traces."""

import copy
from collections import defaultdict
from typing import Any

import ibis.expr.types as ir
import pandera.errors
import pandera.ibis as pa
from ibis import _
from pandera.config import ValidationDepth, config_context

from medallion_ibis.contract_scan import every_row_passes
from medallion_ibis.errors import ModelFailed

EXAMPLES_PER_CHECK = 3


def check_contract(node: str, contract: pa.DataFrameSchema, staged: ir.Table, rows: int) -> None:
    """Validate ``staged`` in the database; every violated check is reported at once.

    An empty table is checked for its columns and types only: pandera's ibis backend treats
    the NULL that ``all()`` returns over zero rows as a failure of every data check. So is a
    table whose rows one scan shows to pass every column check (``contract_scan``); pandera
    checks the rows itself only to find and report what fails, or when the columns and
    types are wrong (the scan's conditions need the right types).
    """
    keyless = _without_key(contract)
    failures = _violations(keyless, staged, ValidationDepth.SCHEMA_ONLY)
    if rows and (failures or not every_row_passes(keyless, staged)):
        failures = _violations(keyless, staged, ValidationDepth.SCHEMA_AND_DATA)
    if rows and contract.unique and set(contract.unique) <= set(staged.columns):
        repeated = _rows_repeating_a_key(staged, list(contract.unique))
        if repeated:
            failures[("table", "multiple_fields_uniqueness")] = repeated
    if failures:
        raise ModelFailed(node, "contract violated:\n" + _described(failures))


def _violations(
    contract: pa.DataFrameSchema, staged: ir.Table, depth: ValidationDepth
) -> defaultdict[tuple[str, str], list[Any]]:
    """What pandera finds wrong at ``depth``: where and which check → failing values."""
    failures: defaultdict[tuple[str, str], list[Any]] = defaultdict(list)
    try:
        with config_context(validation_depth=depth):
            contract.validate(staged, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        failures.update(_failure_examples(errors))
    return failures


def _without_key(contract: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """The contract minus its whole-row key, which ``_rows_repeating_a_key`` checks: pandera's
    ibis backend counts every key over a window partitioned by it, sorting the whole table
    (measured on 1M sales rows: 2.1–5.4 s, against 0.9 s for the grouping used instead)."""
    if not contract.unique:
        return contract
    keyless = copy.copy(contract)
    keyless.unique = None
    return keyless


def _rows_repeating_a_key(staged: ir.Table, key: list[str]) -> list[Any]:
    """A few rows whose ``key`` another row shares, none when the key is unique."""
    repeated = staged.group_by(key).agg(__copies=_.count()).filter(_.__copies > 1).select(key)
    if int(repeated.count().execute()) == 0:
        return []
    rows = staged.semi_join(repeated, key).limit(EXAMPLES_PER_CHECK)
    return list(rows.to_pyarrow().to_pylist())


def describe_failures(errors: pandera.errors.SchemaErrors) -> str:
    """One line per failed check: where, which check, how many cases, a few examples.

    pandera's ibis backend reports an element-wise failure as a ``{column: value}`` mapping
    and a table-level one (uniqueness) as an unexecuted query of the offending rows; both are
    turned into counts and examples here.
    """
    return _described(_failure_examples(errors))


def _failure_examples(errors: pandera.errors.SchemaErrors) -> dict[tuple[str, str], list[Any]]:
    """Where and which check → the failing values pandera reported."""
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
    return found


def _described(found: dict[tuple[str, str], list[Any]]) -> str:
    lines = []
    for (where, check), examples in sorted(found.items()):
        shown = ", ".join(repr(value) for value in examples[:EXAMPLES_PER_CHECK])
        lines.append(f"  - {where}: {check} failed (e.g. {shown})")
    return "\n".join(lines)
