"""What a pipeline is made of: sources (CSV → bronze) and models (Ibis functions).

A model is declared beside its business logic with the ``@pipeline.model`` decorator, so the
function, its inputs and its contract are read together, like a dbt model and its YAML.
"""

import codecs
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal, TypeAlias

import ibis
import ibis.expr.types as ir
import pandera.ibis as pa

Layer = Literal["bronze", "silver", "gold"]
Transform = Callable[..., ir.Table]


@dataclass(frozen=True)
class Location:
    """Where in a user's code something was declared, for error messages: ``file:line``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @classmethod
    def of_function(cls, function: Callable[..., object]) -> "Location":
        code = getattr(function, "__code__", None)
        if code is None:
            return cls("<unknown>", 0)
        return cls(code.co_filename, code.co_firstlineno)


_ENGINE_ROOM = Path(__file__).parent
_EXAMPLES = _ENGINE_ROOM / "examples"


def _is_user_code(filename: str) -> bool:
    """Frames of the declaring code: not generated (``<string>``), not this package's engine
    room; the shipped examples count as user code, since that is what they are."""
    if filename.startswith("<"):
        return False
    path = Path(filename)
    return not path.is_relative_to(_ENGINE_ROOM) or path.is_relative_to(_EXAMPLES)


def caller_location() -> Location:
    """The first frame outside the package: the line that declared a pipeline or source."""
    frame = sys._getframe(1)
    while frame.f_back is not None and not _is_user_code(frame.f_code.co_filename):
        frame = frame.f_back
    return Location(frame.f_code.co_filename, frame.f_lineno)


@dataclass(frozen=True)
class Lineage:
    """What every bronze row records about the load that brought it in."""

    run_id: str
    loaded_at: datetime
    source_file: str
    """The file the row was read from, relative to the seeds folder (``_source_file``)."""
    batch_id: int
    """The batch the file was loaded as (``_batch_id``): one per file and content."""


AsOf: TypeAlias = date | ir.DateValue
"""The as-of date: a day, or (in SQL compiled without a date) the query that finds it."""


class RunContext:
    """Values fixed for one build, so that every model of the run agrees on them.

    ``as_of`` replaces the wall clock in every "days since" rule: a rebuild of the same input
    gives the same gold tables. ``started_at`` stamps every gold row of the run, and its day,
    ``today``, bounds the dates a real record can carry.

    The build settles the as-of date only when a model first reads it, from the model the
    pipeline's ``AsOfRule`` names; that model may read ``today`` but not ``as_of``.
    """

    def __init__(self, run_id: str, started_at: datetime, as_of: AsOf | Callable[[], AsOf]):
        self.run_id = run_id
        self.started_at = started_at
        self._as_of = as_of

    @property
    def as_of(self) -> ir.DateValue:
        """The as-of date as a value to compare dates with."""
        value = self._as_of if isinstance(self._as_of, date | ir.Value) else self._as_of()
        return ibis.literal(value, type="date") if isinstance(value, date) else value

    @property
    def today(self) -> date:
        """The day the build runs (UTC)."""
        return self.started_at.date()

    @property
    def latest_possible_date(self) -> date:
        """The latest date a real record can carry: the day the build runs, plus one day of
        grace because a sale made this morning in a time zone ahead of UTC is already dated
        tomorrow. A later date is a typo or a placeholder (9999-12-31), never a sale."""
        return self.today + timedelta(days=1)

    def stamp(self) -> ir.TimestampScalar:
        """The run's timestamp as a literal: one value in every gold table of a build."""
        return ibis.literal(self.started_at, type="timestamp")


@dataclass(frozen=True)
class Source:
    """CSV files the pipeline reads, landed as one text-only, append-only bronze table.

    ``path`` is relative to the seeds folder and names one file (``shop/orders.csv``), a glob
    (``shop/orders_*.csv``, ``shop/orders/**/*.csv``) or a folder (every ``*.csv`` directly in
    it). Every matching file must carry exactly the header ``columns``; no matching file at all
    stops the build. Each file is loaded once, as a batch identified by the SHA-256 of its
    bytes: a build appends only files whose content is new, so a daily drop adds a batch and a
    corrected file (same name, new bytes) adds another. Files new in one build become batches
    in name order, so name drops to sort by time (``orders_2024-06-30.csv``). When a key is
    repeated across batches, silver keeps the record of the latest batch (see ``KeyScreen``).

    ``system`` is recorded in every bronze row's ``_source_system``. ``encoding`` is the
    files' text encoding (``"utf-8"``, ``"latin-1"``, ``"cp1252"``, ...; any encoding in which
    ASCII is ASCII): bronze holds UTF-8 text whatever it is, and a byte that is not valid in
    it stops the build naming file and line.

    Example::

        ORDERS = Source("bronze_orders", "shop/orders_*.csv", ("order_id", "amount"), "shop",
                        encoding="cp1252")
    """

    table: str
    path: str
    columns: tuple[str, ...]
    system: str
    encoding: str = "utf-8"
    defined_at: Location = field(default_factory=caller_location, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not is_ascii_compatible(self.encoding):
            raise ValueError(
                f"source {self.table}: encoding {self.encoding!r} is not a text encoding that "
                "keeps ASCII as ASCII (utf-8, latin-1, cp1252, ...)"
            )


def is_ascii_compatible(encoding: str) -> bool:
    """Whether ``encoding`` is known and writes the CSV syntax (commas, quotes, line ends) as
    ASCII bytes, so files in it can be checked and numbered line by line."""
    try:
        codecs.lookup(encoding)
        syntax = ',"\r\n abcXYZ019'
        return syntax.encode(encoding) == syntax.encode("ascii")
    except (LookupError, UnicodeError):
        return False


@dataclass(frozen=True)
class Model:
    """A silver or gold table defined by an Ibis function of its input tables."""

    name: str
    layer: Layer
    inputs: tuple[str, ...]
    transform: Transform
    contract: pa.DataFrameSchema | None
    description: str
    partition_column: str | None = None
    """Set for tables shared by pipelines (quarantine): a build replaces only its own rows."""

    @property
    def defined_at(self) -> Location:
        """Where the model's function is written (its decorator line)."""
        return Location.of_function(self.transform)

    @property
    def needs_run(self) -> bool:
        """Whether the transform reads the run's context (and so the as-of date)."""
        return "run" in inspect.signature(self.transform).parameters

    def build(self, tables: dict[str, ir.Table], run: Callable[[], RunContext]) -> ir.Table:
        """The model's expression over already-built input tables.

        ``run`` is asked for the run's context only when the transform declares a ``run``
        parameter: a rule that does not depend on the as-of date says so in its signature,
        and the build does not have to settle the date before it.
        """
        inputs = [tables[name] for name in self.inputs]
        if self.needs_run:
            return self.transform(*inputs, run=run())
        return self.transform(*inputs)


@dataclass(frozen=True)
class AsOfRule:
    """How a pipeline picks its as-of date when none is given: a scalar over one of its own
    models, read from the table the run has just built (no second pass over the sources)."""

    model: str
    latest: Callable[[ir.Table], ir.Scalar]


@dataclass
class Pipeline:
    """A named set of sources and models, built and published together.

    Models are registered with the ``model`` decorator; a project's ``medallion.toml`` names
    the module attribute holding the pipeline (``load = ["pipelines.orders:PIPELINE"]``).

    Example::

        PIPELINE = Pipeline("orders", sources=(ORDERS,), description="Shop orders.")

        @PIPELINE.model(layer="gold", inputs=("silver_orders",))
        def gold_daily_revenue(silver_orders: ir.Table, *, run: RunContext) -> ir.Table:
            return silver_orders.group_by("ordered_on").aggregate(revenue=_.amount.sum())
    """

    name: str
    sources: tuple[Source, ...]
    description: str = ""
    default_as_of: AsOfRule | None = None
    models: dict[str, Model] = field(default_factory=dict)
    defined_at: Location = field(default_factory=caller_location, compare=False, repr=False)

    def model(
        self,
        *,
        layer: Layer,
        inputs: tuple[str, ...],
        contract: pa.DataFrameSchema | None = None,
        partition_column: str | None = None,
    ) -> Callable[[Transform], Transform]:
        """Register the decorated function as a model named after the function.

        Its parameters receive the ``inputs`` tables, in order; a keyword-only ``run``
        parameter receives the ``RunContext``. The ``contract`` (``table(...)``) is checked in
        the database before anything is published; ``partition_column`` marks a table shared
        by pipelines (the quarantine), of which a build replaces only its own rows.
        """

        def register(transform: Transform) -> Transform:
            self.models[transform.__name__] = Model(
                name=transform.__name__,
                layer=layer,
                inputs=inputs,
                transform=transform,
                contract=contract,
                description=(transform.__doc__ or "").strip().splitlines()[0]
                if transform.__doc__
                else "",
                partition_column=partition_column,
            )
            return transform

        return register

    def source(self, table: str) -> Source:
        """The source landing in bronze table ``table``."""
        return next(source for source in self.sources if source.table == table)
