"""Options shared by several commands, defined once."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from medallion_ibis.config import BACKENDS

F = TypeVar("F", bound=Callable[..., Any])


def backend_option(function: F) -> F:
    return click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default=None,
        help="Engine to build on (default: duckdb; env MEDALLION_BACKEND).",
    )(function)


def as_of_option(function: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        metavar="YYYY-MM-DD",
        default=None,
        help="Date that 'days since' rules count to (default: each pipeline's latest valid "
        "transaction date).",
    )(function)


def project_dir_option(function: F) -> F:
    return click.option(
        "--project-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Folder holding medallion.toml (or pyproject.toml [tool.medallion-ibis]).",
    )(function)


def selection_options(function: F) -> F:
    """dbt's ``--select`` / ``--exclude`` (``-s``), repeatable or space-separated."""
    function = click.option(
        "--exclude",
        multiple=True,
        metavar="SELECTOR",
        help="Leave out what SELECTOR names; same grammar as --select.",
    )(function)
    return click.option(
        "--select",
        "-s",
        multiple=True,
        metavar="SELECTOR",
        help="Only these tables: name, +name (and upstream), name+ (and downstream), "
        "2+name, layer:gold, pipeline:retail, source:bronze_sales. Repeat for a union.",
    )(function)
