"""``medallion-ibis build``."""

import click
from rich.console import Console

from medallion_ibis.cli.errors import reported
from medallion_ibis.cli.options import as_of_option, backend_option
from medallion_ibis.cli.progress import ConsoleProgress, print_summary
from medallion_ibis.config import Settings, resolve_settings
from medallion_ibis.pipelines import PIPELINES
from medallion_ibis.redact import redact_url
from medallion_ibis.results import write_results
from medallion_ibis.runner import Build

ALL = "all"


def describe_target(settings: Settings) -> str:
    if settings.backend == "duckdb":
        return f"duckdb ({settings.duckdb_path})"
    if settings.backend == "pyspark":
        return f"pyspark ({settings.spark_master}, {settings.spark_warehouse})"
    return f"postgres ({redact_url(settings.pg_url)})"


@click.command("build")
@backend_option
@click.option(
    "--pipeline",
    "pipelines",
    multiple=True,
    type=click.Choice([*PIPELINES, ALL]),
    help="Pipeline to build; repeat for several (default: all).",
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
def build_command(**flags: object) -> None:
    """Load the sources, build silver and gold, check contracts, publish atomically.

    Exit codes: 0 published, 1 a model or contract failed (nothing published),
    2 the build could not run (bad arguments, missing file, database unreachable).

    Example:

        medallion-ibis build --backend postgres --pipeline retail --as-of 2024-12-31
    """
    pipelines = flags.pop("pipelines")
    flags["pipelines"] = () if ALL in pipelines else pipelines  # type: ignore[operator]
    console = Console(highlight=False, soft_wrap=True)
    with reported():
        settings = resolve_settings({key.replace("_", "-"): value for key, value in flags.items()})
        console.print(f"Building on {describe_target(settings)}")
        build = Build(settings, ConsoleProgress(console))
        try:
            build.run()
        finally:
            print_summary(console, build.result, describe_target(settings))
            write_results(build.result, settings.target_dir)
