"""What the site says about every table of the loaded pipelines, gathered in one pass.

Models are compiled once each (over the same stand-ins ``medallion-ibis compile`` uses), and
that one compilation feeds the SQL shown for every dialect, the column types and the column
lineage.
"""

import inspect
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt

from medallion_ibis.compile import COMPILERS, expression_sql, model_expression
from medallion_ibis.dag import build_order
from medallion_ibis.docs.contract_text import column_checks, table_checks
from medallion_ibis.docs.lineage import ColumnOrigin, model_lineage
from medallion_ibis.ingest import LINEAGE_TYPES
from medallion_ibis.model import Model, Pipeline, Source

LINEAGE_DIALECT = "duckdb"
_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class ColumnDoc:
    """One column: its type as built, and what the contract checks on it."""

    name: str
    dtype: dt.DataType
    checks: tuple[str, ...]


@dataclass(frozen=True)
class CodeDoc:
    """A model function's source text and where it lives."""

    text: str
    location: str


@dataclass(frozen=True)
class TableDoc:
    """A source (its bronze table) or a model, as one page of the site."""

    pipeline: str
    name: str
    layer: str
    description: str
    inputs: tuple[str, ...]
    columns: tuple[ColumnDoc, ...]
    source: Source | None = None
    is_quarantine: bool = False
    has_contract: bool = False
    table_checks: tuple[str, ...] = ()
    sql: dict[str, str] = field(default_factory=dict)
    code: CodeDoc | None = None
    lineage: dict[str, ColumnOrigin] = field(default_factory=dict)
    dependants: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def page(self) -> str:
        """The page's path relative to the site root."""
        return f"{safe_file_name(self.pipeline)}/{safe_file_name(self.name)}.html"


@dataclass(frozen=True)
class PipelineDoc:
    """A pipeline's documented tables, sources first and then models in build order.

    ``catalog`` holds every table of the pipeline, documented or not: column lineage and the
    names of inputs reach past a ``--select``, and pages name such tables without a link.
    """

    name: str
    description: str
    as_of: date
    tables: dict[str, TableDoc]
    catalog: dict[str, TableDoc]

    def narrowed(self, names: set[str]) -> "PipelineDoc":
        """The same pipeline documenting only the tables ``names`` lists."""
        kept = {name: table for name, table in self.tables.items() if name in names}
        return replace(self, tables=kept)

    @property
    def sources(self) -> list[TableDoc]:
        return [table for table in self.tables.values() if table.source is not None]

    @property
    def models(self) -> list[TableDoc]:
        return [table for table in self.tables.values() if table.source is None]


def safe_file_name(name: str) -> str:
    return _UNSAFE_FILE_CHARACTERS.sub("_", name)


def _sqlglot_type(dtype: dt.DataType) -> str:
    return str(COMPILERS[LINEAGE_DIALECT].type_mapper.from_ibis(dtype).sql(LINEAGE_DIALECT))


def _source_doc(pipeline: Pipeline, source: Source) -> TableDoc:
    columns = [ColumnDoc(name, dt.string, ()) for name in source.columns]
    columns.extend(ColumnDoc(name, ibis.dtype(kind), ()) for name, kind in LINEAGE_TYPES.items())
    return TableDoc(
        pipeline=pipeline.name,
        name=source.table,
        layer="bronze",
        description=(
            f"The {source.system} export {source.path}, landed as text exactly as received, "
            "with lineage columns naming the file, line and load of every row."
        ),
        inputs=(),
        columns=tuple(columns),
        source=source,
    )


def _code(model: Model) -> CodeDoc:
    try:
        lines, first = inspect.getsourcelines(model.transform)
        path = inspect.getsourcefile(model.transform) or "?"
    except (OSError, TypeError):
        return CodeDoc("", "source not available")
    module = model.transform.__module__
    return CodeDoc("".join(lines), f"{module} ({Path(path).name}, line {first})")


def _model_doc(pipeline: Pipeline, model: Model, as_of: date) -> tuple[TableDoc, str]:
    """The model's page content, and its DuckDB SQL for the lineage pass."""
    expression = model_expression(pipeline, model, as_of, date.today())
    schema = expression.schema()
    contract = model.contract
    key = list(contract.unique or []) if contract is not None else []
    columns = []
    for name, dtype in schema.items():
        checks: tuple[str, ...] = ()
        if contract is not None and name in contract.columns:
            checks = column_checks(contract.columns[name], key)
        columns.append(ColumnDoc(name, dtype, checks))
    sql = {dialect: expression_sql(expression, dialect) for dialect in COMPILERS}
    doc = TableDoc(
        pipeline=pipeline.name,
        name=model.name,
        layer=model.layer,
        description=inspect.getdoc(model.transform) or model.description,
        inputs=model.inputs,
        columns=tuple(columns),
        is_quarantine=model.partition_column is not None,
        has_contract=contract is not None,
        table_checks=table_checks(contract) if contract is not None else (),
        sql=sql,
        code=_code(model),
    )
    return doc, sql[LINEAGE_DIALECT]


def _with_lineage(tables: dict[str, TableDoc], sql: dict[str, str]) -> dict[str, TableDoc]:
    schemas: dict[str, dict[str, dict[str, str]]] = {}
    for table in tables.values():
        schemas.setdefault(table.layer, {})[table.name] = {
            column.name: _sqlglot_type(column.dtype) for column in table.columns
        }
    done = {}
    for name, table in tables.items():
        if name in sql:
            inputs = {upstream: tables[upstream].column_names for upstream in table.inputs}
            origins = model_lineage(sql[name], LINEAGE_DIALECT, schemas, inputs, table.column_names)
            table = replace(table, lineage=origins)
        done[name] = table
    return done


def pipeline_doc(pipeline: Pipeline, as_of: date) -> PipelineDoc:
    """Everything the site shows about ``pipeline``; SQL is compiled as of ``as_of``."""
    tables: dict[str, TableDoc] = {s.table: _source_doc(pipeline, s) for s in pipeline.sources}
    sql: dict[str, str] = {}
    for model in build_order(pipeline):
        tables[model.name], sql[model.name] = _model_doc(pipeline, model, as_of)
    tables = _with_lineage(tables, sql)
    dependants: dict[str, list[str]] = {name: [] for name in tables}
    for table in tables.values():
        for upstream in table.inputs:
            dependants[upstream].append(table.name)
    tables = {
        name: replace(table, dependants=tuple(dependants[name])) for name, table in tables.items()
    }
    return PipelineDoc(pipeline.name, pipeline.description, as_of, tables, tables)
