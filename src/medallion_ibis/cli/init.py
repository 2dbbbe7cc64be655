"""``medallion-ibis init``."""

from pathlib import Path

import click

from medallion_ibis.cli.errors import reported
from medallion_ibis.scaffold import EXAMPLES, init_project


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", type=click.Choice(EXAMPLES), default="minimal", show_default=True)
@click.option("--force", is_flag=True, help="Write into FOLDER even when it is not empty.")
def init_command(folder: Path, example: str, force: bool) -> None:
    """Write a runnable project into FOLDER: medallion.toml, the example's pipeline modules,
    sample source files and a test file.

    Example:

        medallion-ibis init shop --example retail && cd shop && medallion-ibis build
    """
    with reported():
        written = init_project(folder, example, force=force)
    click.echo(
        f"Wrote {len(written)} files into {folder}; next: cd {folder} && medallion-ibis build"
    )
