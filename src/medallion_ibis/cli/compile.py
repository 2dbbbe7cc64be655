"""``medallion-ibis compile``."""

from datetime import date

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

    Example:

        medallion-ibis compile gold_customer_lifetime_value --dialect postgres
    """
    with reported():
        day = parse_as_of(as_of) or date.today()
        click.echo(compile_model(model, dialect, day))
