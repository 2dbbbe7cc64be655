"""``medallion-ibis compile``."""

from pathlib import Path

import click

from medallion_ibis.cli.errors import reported
from medallion_ibis.cli.options import as_of_option, project_dir_option, selection_options
from medallion_ibis.config import parse_as_of
from medallion_ibis.errors import ConfigurationError

DIALECTS = ("duckdb", "postgres")


@click.command("compile")
@click.argument("model", required=False)
@click.option("--dialect", type=click.Choice(DIALECTS), default="duckdb", show_default=True)
@as_of_option
@selection_options
@project_dir_option
def compile_command(
    model: str | None,
    dialect: str,
    as_of: str | None,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    project_dir: Path,
) -> None:
    """Print the SQL that builds MODEL (``name`` or ``pipeline.name``) on a dialect, or that
    of every model --select names (each under a ``-- pipeline.model`` line).

    Without --as-of the SQL finds the as-of date as a build does: a subquery takes the
    pipeline's latest valid transaction date from the published silver table.

    Example:

        medallion-ibis compile gold_customer_lifetime_value --dialect postgres

        medallion-ibis compile --select layer:gold
    """
    from medallion_ibis.compile import compile_model
    from medallion_ibis.dag import build_order
    from medallion_ibis.project import load_project
    from medallion_ibis.selection import Node, select_nodes

    with reported():
        day = parse_as_of(as_of)
        pipelines = load_project(project_dir).pipelines
        if model is not None:
            click.echo(compile_model(model, dialect, day, pipelines.values()))
            return
        nodes = select_nodes(pipelines.values(), select, exclude)
        if nodes is None:
            raise ConfigurationError("name a MODEL or give --select")
        for pipeline in pipelines.values():
            for target in build_order(pipeline):
                if Node(pipeline.name, target.name) in nodes:
                    name = f"{pipeline.name}.{target.name}"
                    click.echo(f"-- {name}")
                    click.echo(compile_model(name, dialect, day, pipelines.values()) + ";")
