"""Library failures become one plain sentence and the exit code the failure calls for;
ignored settings become one warning line on stderr."""

from collections.abc import Iterator
from contextlib import contextmanager

import click

from medallion_ibis.errors import MedallionError
from medallion_ibis.redact import redact_text


class BuildFailed(click.ClickException):
    """A model or a contract failed: exit code 1, as in dbt."""

    exit_code = 1


class CouldNotRun(click.ClickException):
    """Bad arguments, a missing file, an unreachable database: exit code 2, as in dbt."""

    exit_code = 2


@contextmanager
def reported() -> Iterator[None]:
    """Turn a ``MedallionError`` raised inside the block into the matching ClickException."""
    try:
        yield
    except MedallionError as error:
        failure = BuildFailed if error.exit_code == 1 else CouldNotRun
        raise failure(redact_text(str(error))) from None


def warn(message: str) -> None:
    """A setting that is ignored, as a ``Warning:`` line on stderr (stdout stays data)."""
    from rich.console import Console  # imported on use: ``--help`` must not pay for it
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[yellow]Warning:[/] {escape(message)}"
    )
