"""``medallion-ibis build``.

The engines, Ibis and pandera are imported inside the command, when it runs: ``--help`` and
the other commands do not load them.
"""

from pathlib import Path

import click

from medallion_ibis.cli.errors import reported, warn
from medallion_ibis.cli.options import (
    as_of_option,
    backend_option,
    project_dir_option,
    selection_options,
)
from medallion_ibis.config import describe_target
from medallion_ibis.errors import ConfigurationError


@click.command("build")
@project_dir_option
@selection_options
@backend_option
@click.option(
    "--pipeline",
    "pipelines",
    multiple=True,
    help="Name of a loaded pipeline to build; repeat for several (default: all).",
)
@click.option(
    "--seeds",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Folder holding <pipeline>/ source files (default: ./seeds).",
)
@as_of_option
@click.option("--duckdb-path", default=None, help="DuckDB file (default: ./medallion.duckdb).")
@click.option(
    "--pg-url",
    default=None,
    help="PostgreSQL URL (default: $MEDALLION_PG_URL, else postgres@127.0.0.1:5432).",
)
@click.option(
    "--spark-warehouse",
    default=None,
    help="Folder or URI (s3a://, hdfs://, abfss://) holding the Spark tables "
    "(default: ./spark-warehouse).",
)
@click.option("--spark-master", default=None, help="Spark master URL (default: local[*]).")
@click.option(
    "--spark-conf",
    multiple=True,
    metavar="KEY=VALUE",
    help="A Spark setting; repeat for several. Wins over [tool.medallion-ibis.spark-conf].",
)
@click.option(
    "--spark-stall-timeout",
    type=float,
    default=None,
    help="Seconds a Spark job may run no task before the build stops (default: 600).",
)
@click.option(
    "--spark-verbose",
    is_flag=True,
    default=None,
    help="Show Spark's own log messages (warnings and info), hidden by default.",
)
@click.option("--target-dir", default=None, help="Where run_results.json goes (default: ./target).")
@click.option(
    "--allow-shrink",
    is_flag=True,
    default=None,
    help="Publish even when a new version of a file has fewer than half the rows of its "
    "previous version, or --full-refresh keeps fewer than half the bronze rows it drops "
    "(default: refuse, exit 1).",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    default=None,
    help="Rebuild bronze from the files present, dropping the rows of earlier batches "
    "(default: append only the files whose content is new).",
)
@click.option(
    "--connect-timeout",
    default=None,
    metavar="SECONDS",
    help="Seconds PostgreSQL has to answer a new connection (default: 10).",
)
@click.option(
    "--lock-timeout",
    default=None,
    metavar="SECONDS",
    help="Seconds publishing waits on PostgreSQL for readers of a published table (default: 30).",
)
@click.option(
    "--wait",
    default=None,
    metavar="SECONDS",
    help="Seconds to wait for another build of the same warehouse to finish (default: 0, "
    "fail at once naming the build that holds the lock).",
)
@click.option(
    "--memory-limit",
    default=None,
    metavar="AMOUNT",
    help="Memory DuckDB may use before spilling to disk, e.g. 2GB (default: DuckDB's own, "
    "80% of RAM).",
)
def build_command(
    project_dir: Path, select: tuple[str, ...], exclude: tuple[str, ...], **flags: object
) -> None:
    """Load the sources, build silver and gold, check contracts, publish atomically.

    Exit codes: 0 published, 1 a model or contract failed (nothing published),
    2 the build could not run (bad arguments, missing file, database unreachable).

    Example:

        medallion-ibis build --backend postgres --pipeline retail --as-of 2024-12-31

        medallion-ibis build --select +gold_customer_lifetime_value --exclude layer:bronze
    """
    from rich.console import Console
    from rich.markup import escape

    from medallion_ibis.cli.progress import ConsoleProgress, print_summary
    from medallion_ibis.project import load_project
    from medallion_ibis.results import BuildRun, record_refused_settings
    from medallion_ibis.runner import Build
    from medallion_ibis.selection import select_nodes

    console = Console(highlight=False, soft_wrap=True)
    with reported():
        try:
            project = load_project(project_dir)
            settings = project.settings(
                {key.replace("_", "-"): value for key, value in flags.items()},
                warn=warn,
            )
            selection = select_nodes(project.select(settings.pipelines), select, exclude)
        except ConfigurationError as error:
            record_refused_settings(flags, str(error))
            raise
        where = describe_target(settings)
        console.print(f"Building on {escape(where)}")
        run = BuildRun(settings, where)
        with run.recorded():
            build = Build(settings, ConsoleProgress(console), project.pipelines, selection)
            run.result = build.result
            try:
                build.run()
                for notice in build.result.notices:
                    console.print(f"[yellow]Note[/]: {escape(notice)}", highlight=False)
            finally:
                print_summary(console, build.result, where)
