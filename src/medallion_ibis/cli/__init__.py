"""The ``medallion-ibis`` command: one module per command, each a few lines over the library."""

import click

from medallion_ibis import __version__
from medallion_ibis.cli.build import build_command
from medallion_ibis.cli.compile import compile_command
from medallion_ibis.cli.docs import docs_command
from medallion_ibis.cli.generate import generate_command
from medallion_ibis.cli.init import init_command
from medallion_ibis.cli.ls import ls_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="medallion-ibis")
def main() -> None:
    """Build bronze → silver → gold pipelines on DuckDB or PostgreSQL from one Ibis codebase."""


main.add_command(build_command)
main.add_command(compile_command)
main.add_command(docs_command)
main.add_command(generate_command)
main.add_command(init_command)
main.add_command(ls_command)
