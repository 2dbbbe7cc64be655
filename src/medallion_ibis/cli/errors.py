"""Library failures become one plain sentence and the exit code the failure calls for."""

from collections.abc import Iterator
from contextlib import contextmanager

import click

from medallion_ibis.errors import MedallionError
from medallion_ibis.redact import redact_text


class CommandFailed(click.ClickException):
    """A ClickException whose exit code follows the failure (1: a model; 2: could not run)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(redact_text(message))
        self.exit_code = exit_code


@contextmanager
def reported() -> Iterator[None]:
    """Turn a ``MedallionError`` raised inside the block into a ``CommandFailed``."""
    try:
        yield
    except MedallionError as error:
        raise CommandFailed(str(error), error.exit_code) from None
