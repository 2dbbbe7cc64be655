"""Column lineage read from a model's compiled SQL with sqlglot.

Every model compiles over stand-in tables named like the published ``schema.table``, so the
leaves of sqlglot's lineage tree are the input tables' columns. Lineage is computed once per
model (all output columns share one qualification pass) and chained across models to reach the
bronze columns a gold column comes from. Where sqlglot cannot follow a column, the column is
marked "not derivable" with the reason rather than guessed.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import Node, lineage

MAX_SQL_CHARS = 400_000
"""Queries longer than this are not traced: lineage work grows with the query's size."""

TableSchemas = Mapping[str, Mapping[str, Mapping[str, str]]]
"""``{schema: {table: {column: type}}}``: what sqlglot needs to expand ``*`` selections."""


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a table of the same pipeline."""

    table: str
    column: str


@dataclass(frozen=True)
class ColumnOrigin:
    """The input columns one output column is computed from.

    ``derived`` is false when sqlglot could not follow the column; ``note`` then says why.
    A derived column with no inputs is computed from no column at all (a literal, a row count,
    the run's timestamp).
    """

    inputs: tuple[ColumnRef, ...]
    derived: bool = True
    note: str = ""


def not_derivable(columns: tuple[str, ...], reason: str) -> dict[str, ColumnOrigin]:
    return {name: ColumnOrigin((), derived=False, note=reason) for name in columns}


def model_lineage(
    sql: str,
    dialect: str,
    schemas: TableSchemas,
    input_columns: Mapping[str, tuple[str, ...]],
    output_columns: tuple[str, ...],
) -> dict[str, ColumnOrigin]:
    """Each output column's input columns, from the model's compiled ``sql``.

    ``input_columns`` maps every input table to its columns; sqlglot normalises identifiers
    for the dialect (DuckDB folds case), so leaves are matched back to these spellings.
    """
    if len(sql) > MAX_SQL_CHARS:
        return not_derivable(output_columns, f"query longer than {MAX_SQL_CHARS:,} characters")
    try:
        nodes = lineage(None, sql, dialect=dialect, schema=dict(schemas), trim_selects=False)
    except (SqlglotError, ValueError, KeyError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return not_derivable(output_columns, f"sqlglot: {reason}")
    spelling = {
        (table.lower(), column.lower()): ColumnRef(table, column)
        for table, columns in input_columns.items()
        for column in columns
    }
    origins = {}
    for name in output_columns:
        node = nodes.get(name)
        origins[name] = (
            ColumnOrigin((), derived=False, note="not in the compiled query")
            if node is None
            else _origin(node, dialect, spelling)
        )
    return origins


def _origin(
    root: Node, dialect: str, spelling: Mapping[tuple[str, str], ColumnRef]
) -> ColumnOrigin:
    found: set[ColumnRef] = set()
    for node in root.walk():
        if node.downstream:
            continue
        if node.name == "*" or node.name.endswith(".*"):
            return ColumnOrigin(
                (), derived=False, note="selects * from an input sqlglot cannot expand"
            )
        if isinstance(node.expression, exp.Placeholder):
            return ColumnOrigin((), derived=False, note=f"unresolved reference {node.name}")
        if not isinstance(node.expression, exp.Table):
            continue  # a literal or a count: computed from no column
        column = exp.maybe_parse(node.name, into=exp.Column, dialect=dialect)
        ref = spelling.get((node.expression.name.lower(), column.name.lower()))
        if ref is None:
            return ColumnOrigin(
                (), derived=False, note=f"unknown column {node.expression.name}.{column.name}"
            )
        found.add(ref)
    return ColumnOrigin(tuple(sorted(found)))


@dataclass(frozen=True)
class Ancestry:
    """Every column upstream of one column, and whether the trace reached all the way."""

    columns: tuple[ColumnRef, ...]
    complete: bool


def ancestry(lineages: Mapping[str, Mapping[str, ColumnOrigin]], start: ColumnRef) -> Ancestry:
    """All columns ``start`` is computed from, through every model up to the sources.

    ``lineages`` holds the models' column origins; tables without an entry (the sources) end
    the trace.
    """
    seen: set[ColumnRef] = set()
    complete = True
    pending = [start]
    while pending:
        ref = pending.pop()
        table = lineages.get(ref.table)
        if table is None:
            continue
        origin = table.get(ref.column)
        if origin is None or not origin.derived:
            complete = False
            continue
        for parent in origin.inputs:
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    return Ancestry(tuple(sorted(seen)), complete)
