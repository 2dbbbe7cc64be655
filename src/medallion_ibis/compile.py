"""Models as expressions over stand-ins, and their SQL for a dialect, without a database.

Inputs are stood in for by unbound tables carrying the upstream schemas, so building a model's
expression needs no data. That serves two jobs: ``compile`` prints a model's SQL (the
dialect's compiler raises on anything it cannot express, which makes "every model compiles for
every engine" a cheap test), and a project is checked before any database work by building
every model this way (``project.validate_pipelines``).
"""

import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import cast

import ibis
import ibis.expr.types as ir
from ibis.backends.sql.compilers import DuckDBCompiler, PostgresCompiler
from ibis.backends.sql.compilers.base import SQLGlotCompiler

from medallion_ibis.dag import build_order
from medallion_ibis.errors import ConfigurationError
from medallion_ibis.ingest import LINEAGE_TYPES
from medallion_ibis.model import AsOf, Location, Model, Pipeline, RunContext, Source

COMPILERS: dict[str, type[SQLGlotCompiler]] = {
    "duckdb": DuckDBCompiler,
    "postgres": PostgresCompiler,
}


def find_model(name: str, pipelines: Iterable[Pipeline]) -> tuple[Pipeline, Model]:
    """A model by ``name`` or ``pipeline.name`` (needed for names two pipelines share)."""
    loaded = list(pipelines)
    pipeline_name, _, model_name = name.rpartition(".")
    matches = [
        (pipeline, pipeline.models[model_name])
        for pipeline in loaded
        if model_name in pipeline.models and pipeline_name in ("", pipeline.name)
    ]
    if not matches:
        known = sorted(f"{p.name}.{m}" for p in loaded for m in p.models)
        raise ConfigurationError(f"no model named {name!r}; known models: {', '.join(known)}")
    if len(matches) > 1:
        options = ", ".join(f"{pipeline.name}.{model.name}" for pipeline, model in matches)
        raise ConfigurationError(f"{name!r} is ambiguous; say which: {options}")
    return matches[0]


def source_stand_in(source: Source) -> ir.Table:
    """An unbound bronze table: every source column as text, plus the lineage columns."""
    columns = dict.fromkeys(source.columns, "string")
    return ibis.table({**columns, **LINEAGE_TYPES}, name=source.table, database="bronze")


def user_code_location(error: BaseException, model: Model) -> Location:
    """The innermost frame of ``error`` in the model's own folder (the user's code), else
    the model's declaration."""
    folder = Path(model.defined_at.file).parent
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if Path(frame.filename).parent == folder and frame.lineno is not None
    ]
    if not frames:
        return model.defined_at
    return Location(frames[-1].filename, frames[-1].lineno or 0)


@contextmanager
def building(pipeline: Pipeline, model: Model) -> Iterator[None]:
    """A model function that raises while building its expression is the user's mistake:
    one sentence naming their file and line, not a traceback."""
    try:
        yield
    except ConfigurationError:
        raise
    except Exception as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ConfigurationError(
            f"{user_code_location(error, model)}: model {pipeline.name}.{model.name} raised "
            f"{type(error).__name__} while building its expression: {detail}"
        ) from None


def model_expressions(
    pipeline: Pipeline, as_of: date | None, today: date, *, until: str | None = None
) -> dict[str, ir.Table]:
    """Every model's expression (up to ``until``) over stand-ins named like the published
    tables, in build order.

    Without ``as_of`` the as-of date is found the way a build finds it, by the pipeline's
    ``AsOfRule``, here as a subquery over the published table the rule reads (the latest valid
    sale in ``silver.silver_sales_cleaned``, say). ``today`` is the day a build would run.
    """
    expressions: dict[str, ir.Table] = {}

    def stand_in(name: str) -> ir.Table:
        if name in pipeline.models:
            upstream = pipeline.models[name]
            return ibis.table(expressions[name].schema(), name=name, database=upstream.layer)
        return source_stand_in(pipeline.source(name))

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
    for model in build_order(pipeline):
        with building(pipeline, model):
            expressions[model.name] = model.build(
                {name: stand_in(name) for name in model.inputs}, lambda: run
            )
            expressions[model.name].schema()
        if model.name == until:
            break
    return expressions


def model_expression(pipeline: Pipeline, model: Model, as_of: date | None, today: date) -> ir.Table:
    """The model over unbound stand-ins for its inputs; see ``model_expressions``."""
    return model_expressions(pipeline, as_of, today, until=model.name)[model.name]


def expression_sql(expression: ir.Table, dialect: str) -> str:
    """The SQL of a model expression on ``dialect``, pretty-printed."""
    compiler = COMPILERS[dialect]()
    query = compiler.to_sqlglot(expression)
    return str(query.sql(dialect=compiler.dialect, pretty=True))


def compile_model(
    name: str,
    dialect: str,
    as_of: date | None,
    pipelines: Iterable[Pipeline],
    today: date | None = None,
) -> str:
    """The SQL that builds model ``name`` on ``dialect``; see ``model_expressions``."""
    pipeline, model = find_model(name, pipelines)
    built_on = today or datetime.now(UTC).date()
    return expression_sql(model_expression(pipeline, model, as_of, built_on), dialect)
