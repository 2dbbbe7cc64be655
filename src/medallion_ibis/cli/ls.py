"""``medallion-ibis ls``."""

import json
from dataclasses import asdict
from pathlib import Path

import click

from medallion_ibis.cli.errors import reported
from medallion_ibis.cli.options import project_dir_option, selection_options

LINE_WIDTH_WHEN_PIPED = 240


@click.command("ls")
@selection_options
@click.option("--output", type=click.Choice(("text", "json")), default="text", show_default=True)
@project_dir_option
def ls_command(
    select: tuple[str, ...], exclude: tuple[str, ...], output: str, project_dir: Path
) -> None:
    """List every source and model: pipeline, layer, inputs, contract, description.

    Example:

        medallion-ibis ls --select +gold_customer_lifetime_value --output json
    """
    from rich.console import Console
    from rich.table import Table

    from medallion_ibis.listing import entries
    from medallion_ibis.project import load_project
    from medallion_ibis.selection import select_nodes

    with reported():
        pipelines = load_project(project_dir).pipelines.values()
        listed = entries(pipelines, select_nodes(pipelines, select, exclude))
    if output == "json":
        click.echo(json.dumps([asdict(entry) for entry in listed], indent=2))
        return
    table = Table()
    for heading in ("pipeline", "table", "layer", "inputs", "contract", "description"):
        table.add_column(heading, overflow="fold")
    for entry in listed:
        contract = "-" if entry.contract is None else f"{len(entry.contract)} columns"
        table.add_row(
            entry.pipeline,
            entry.name,
            entry.layer,
            ", ".join(entry.inputs),
            contract,
            entry.description,
        )
    console = Console()
    if not console.is_terminal:  # piped into a file or a grep: keep each table on one line
        console = Console(width=LINE_WIDTH_WHEN_PIPED)
    console.print(table)
