"""``medallion-ibis compile``."""

from datetime import date
from pathlib import Path

import click

from medallion_ibis.cli.errors import reported
from medallion_ibis.cli.options import as_of_option, project_dir_option
from medallion_ibis.config import parse_as_of

DIALECTS = ("duckdb", "postgres")


@click.command("compile")
@click.argument("model")
@click.option("--dialect", type=click.Choice(DIALECTS), default="duckdb", show_default=True)
@as_of_option
@project_dir_option
def compile_command(model: str, dialect: str, as_of: str | None, project_dir: Path) -> None:
    """Print the SQL that builds MODEL (``name`` or ``pipeline.name``) on a dialect.

    Example:

        medallion-ibis compile gold_customer_lifetime_value --dialect postgres
    """
    from medallion_ibis.compile import compile_model
    from medallion_ibis.project import load_project

    with reported():
        day = parse_as_of(as_of) or date.today()
        project = load_project(project_dir)
        click.echo(compile_model(model, dialect, day, project.pipelines.values()))
