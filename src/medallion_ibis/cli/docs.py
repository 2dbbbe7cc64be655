"""``medallion-ibis docs generate`` and ``docs serve``.

The site builder (which loads Ibis to render SQL) is imported when a command runs, so that
``--help`` stays fast.
"""

from pathlib import Path

import click

from medallion_ibis.cli.errors import reported, warn
from medallion_ibis.cli.options import backend_option, project_dir_option, selection_options

SITE_FOLDER = "docs"


@click.group("docs")
def docs_command() -> None:
    """Documentation and lineage you can open in a browser."""


@docs_command.command("generate")
@click.option(
    "--target-dir",
    default=None,
    help="Where run_results.json is and docs/ goes (default: ./target).",
)
@click.option(
    "--pipeline",
    "pipelines",
    multiple=True,
    help="Name of a loaded pipeline to document; repeat for several (default: all).",
)
@selection_options
@project_dir_option
@backend_option
@click.option("--duckdb-path", default=None, help="DuckDB file to read row counts from.")
@click.option("--pg-url", default=None, help="PostgreSQL URL to read row counts from.")
@click.option(
    "--warehouse/--no-warehouse",
    default=True,
    show_default=True,
    help="Read row counts and quarantine rules from the warehouse when it is reachable.",
)
def generate_command(
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    warehouse: bool,
    project_dir: Path,
    **flags: object,
) -> None:
    """Write a static site to TARGET_DIR/docs: a page per table with its columns, contract
    checks, SQL and column lineage, a lineage graph per pipeline, and the last build's data
    quality. It opens from the file system and needs no network. --select / --exclude
    document only the tables they name.

    Example:

        medallion-ibis docs generate --pipeline retail && xdg-open target/docs/index.html
    """
    from medallion_ibis.docs import generate_site, warehouse_facts
    from medallion_ibis.project import load_project
    from medallion_ibis.results import RESULTS_FILE
    from medallion_ibis.selection import select_nodes

    with reported():
        project = load_project(project_dir)
        settings = project.settings(
            {key.replace("_", "-"): value for key, value in flags.items()}, warn=warn
        )
        pipelines = project.select(settings.pipelines)
        selected = select_nodes(pipelines, select, exclude)
        facts = warehouse_facts(settings, pipelines) if warehouse else None
        site = generate_site(
            pipelines,
            settings.target_dir / SITE_FOLDER,
            run_results=settings.target_dir / RESULTS_FILE,
            warehouse=facts,
            selected=selected,
        )
    if not (settings.target_dir / RESULTS_FILE).is_file():
        click.echo(f"No run results at {settings.target_dir / RESULTS_FILE}: no build to show.")
    if facts is not None and facts.note:
        click.echo(f"Warehouse {facts.where} not read: {facts.note}")
    click.echo(f"Wrote {len(site.pages)} pages to {site.root} in {site.seconds:.1f}s: {site.index}")


@docs_command.command("serve")
@click.option("--target-dir", default=None, help="Where docs/ was generated (default: ./target).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@project_dir_option
def serve_command(target_dir: str | None, port: int, project_dir: Path) -> None:
    """Serve the generated site on 127.0.0.1 until interrupted.

    Example:

        medallion-ibis docs serve --port 8080
    """
    from medallion_ibis.docs import site_server
    from medallion_ibis.project import read_project

    with reported():
        settings = read_project(project_dir).settings({"target-dir": target_dir}, warn=warn)
        server = site_server(settings.target_dir / SITE_FOLDER, port)
    host, bound = server.server_address[:2]
    click.echo(
        f"Serving {settings.target_dir / SITE_FOLDER} on http://{host!s}:{bound} (Ctrl+C stops)"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()
