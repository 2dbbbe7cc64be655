"""``medallion-ibis compile``."""

import click

from medallion_ibis.cli.errors import reported
from medallion_ibis.cli.options import as_of_option
from medallion_ibis.compile import COMPILERS, compile_model
from medallion_ibis.config import parse_as_of


@click.command("compile")
@click.argument("model")
@click.option("--dialect", type=click.Choice(list(COMPILERS)), default="duckdb", show_default=True)
@as_of_option
def compile_command(model: str, dialect: str, as_of: str | None) -> None:
    """Print the SQL that builds MODEL (``name`` or ``pipeline.name``) on a dialect.

    Without --as-of the SQL finds the as-of date as a build does: a subquery takes the
    pipeline's latest valid transaction date from the published silver table.

    Example:

        medallion-ibis compile gold_customer_lifetime_value --dialect postgres
    """
    with reported():
        click.echo(compile_model(model, dialect, parse_as_of(as_of)))
