"""A model's SQL for a dialect, without connecting to any database.

Inputs are stood in for by unbound tables carrying the upstream schemas, so compiling needs
no data; the dialect's compiler raises on anything it cannot express, which makes "every
model compiles for every engine" a cheap test.
"""

from datetime import UTC, date, datetime, time
from typing import cast

import ibis
import ibis.expr.types as ir
from ibis.backends.sql.compilers import DuckDBCompiler, PostgresCompiler
from ibis.backends.sql.compilers.base import SQLGlotCompiler

from medallion_ibis.errors import ConfigurationError
from medallion_ibis.ingest import LINEAGE_TYPES
from medallion_ibis.model import AsOf, Model, Pipeline, RunContext
from medallion_ibis.pipelines import PIPELINES

COMPILERS: dict[str, type[SQLGlotCompiler]] = {
    "duckdb": DuckDBCompiler,
    "postgres": PostgresCompiler,
}


def find_model(name: str) -> tuple[Pipeline, Model]:
    """A model by ``name`` or ``pipeline.name`` (needed for names two pipelines share)."""
    pipeline_name, _, model_name = name.rpartition(".")
    matches = [
        (pipeline, pipeline.models[model_name])
        for pipeline in PIPELINES.values()
        if model_name in pipeline.models and pipeline_name in ("", pipeline.name)
    ]
    if not matches:
        known = sorted(f"{p.name}.{m}" for p in PIPELINES.values() for m in p.models)
        raise ConfigurationError(f"no model named {name!r}; known models: {', '.join(known)}")
    if len(matches) > 1:
        options = ", ".join(f"{pipeline.name}.{model.name}" for pipeline, model in matches)
        raise ConfigurationError(f"{name!r} is ambiguous; say which: {options}")
    return matches[0]


def model_expression(pipeline: Pipeline, model: Model, as_of: date | None, today: date) -> ir.Table:
    """The model over unbound stand-ins for its inputs, named like the published tables.

    Without ``as_of`` the as-of date is found the way a build finds it, by the pipeline's
    ``AsOfRule``, here as a subquery over the published table the rule reads (the latest valid
    sale in ``silver.silver_sales_cleaned``, say). ``today`` is the day a build would run.
    """

    def settled_as_of() -> AsOf:
        if as_of is not None:
            return as_of
        rule = pipeline.default_as_of
        if rule is None:
            raise ConfigurationError(f"pipeline {pipeline.name} needs --as-of")
        return cast(ir.DateValue, rule.latest(stand_in(rule.model)))

    run = RunContext(
        run_id="compile", started_at=datetime.combine(today, time()), as_of=settled_as_of
    )
    tables: dict[str, ir.Table] = {}

    def stand_in(name: str) -> ir.Table:
        if name not in tables:
            if name in pipeline.models:
                upstream = pipeline.models[name]
                schema = expression_of(upstream).schema()
                tables[name] = ibis.table(schema, name=name, database=upstream.layer)
            else:
                source = pipeline.source(name)
                columns = dict.fromkeys(source.columns, "string")
                tables[name] = ibis.table(
                    {**columns, **LINEAGE_TYPES}, name=name, database="bronze"
                )
        return tables[name]

    def expression_of(target: Model) -> ir.Table:
        return target.build({name: stand_in(name) for name in target.inputs}, lambda: run)

    return expression_of(model)


def expression_sql(expression: ir.Table, dialect: str) -> str:
    """The SQL of a model expression on ``dialect``, pretty-printed."""
    compiler = COMPILERS[dialect]()
    query = compiler.to_sqlglot(expression)
    return str(query.sql(dialect=compiler.dialect, pretty=True))


def compile_model(name: str, dialect: str, as_of: date | None, today: date | None = None) -> str:
    """The SQL that builds model ``name`` on ``dialect``; see ``model_expression``."""
    pipeline, model = find_model(name)
    built_on = today or datetime.now(UTC).date()
    return expression_sql(model_expression(pipeline, model, as_of, built_on), dialect)
