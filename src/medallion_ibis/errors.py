"""The failures a build can report, split by who has to act on them.

The split drives the CLI's exit codes, which follow dbt's convention so that schedulers can
tell "the data broke a rule" (1) from "the build could not even start" (2).
"""


class MedallionError(Exception):
    """Base class: every expected failure carries a sentence a user can act on."""

    exit_code = 2


class ConfigurationError(MedallionError):
    """Bad arguments, settings or a missing pipeline: nothing was attempted."""


class InputFileError(MedallionError):
    """A source file is missing or malformed; the message names the file, line and column."""


class BackendUnavailable(MedallionError):
    """The database could not be reached or locked; the message never contains a password."""


class ModelFailed(MedallionError):
    """A model's expression failed in the engine, or its output broke the model's contract."""

    exit_code = 1

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(f"{model}: {detail}")
        self.model = model
        self.detail = detail


class PublishBlocked(MedallionError):
    """Something in the warehouse, not in the data, keeps the build from publishing: a foreign
    key that cannot be deferred, a view on a table whose columns changed, a lock held too long.
    """


class SourceShrank(MedallionError):
    """A source has far fewer rows than the published bronze table: probably a broken export,
    which would replace good gold tables with near-empty ones."""

    exit_code = 1


class PublishRejected(MedallionError):
    """The new rows break a constraint users keep on a published table (a primary key, a
    foreign key pointing at it): the data broke a rule, so nothing is published."""

    exit_code = 1


class BuildInterrupted(MedallionError):
    """The user stopped the build (Ctrl-C); what was published before it is kept."""
