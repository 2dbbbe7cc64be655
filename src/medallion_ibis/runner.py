"""Plan and execute a build: stage every table, check it, publish all or nothing."""

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Set
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import cast

import ibis.expr.types as ir

from medallion_ibis import runlog
from medallion_ibis.backends import Publication, Warehouse, open_warehouse, staged_name
from medallion_ibis.backends.base import LedgerRows
from medallion_ibis.batch_plan import BatchPlanner, refuse_shrunken
from medallion_ibis.batches import BATCHES_TABLE, SourceBatches, log_rows
from medallion_ibis.config import Settings
from medallion_ibis.dag import build_order
from medallion_ibis.errors import (
    BackendUnavailable,
    BuildInterrupted,
    ConfigurationError,
    MedallionError,
    ModelFailed,
)
from medallion_ibis.ingest import SourceFile, source_files, utf8_text
from medallion_ibis.model import Lineage, Model, Pipeline, RunContext, Source
from medallion_ibis.project import installed_pipelines, select_pipelines
from medallion_ibis.quality import check_contract
from medallion_ibis.redact import redact_text
from medallion_ibis.selection import Node


@dataclass(frozen=True)
class Step:
    """One table of the plan: a source to land or a model to build."""

    pipeline: Pipeline
    target: Source | Model

    @property
    def schema(self) -> str:
        return "bronze" if isinstance(self.target, Source) else self.target.layer

    @property
    def table(self) -> str:
        return self.target.table if isinstance(self.target, Source) else self.target.name

    @property
    def partition(self) -> tuple[str, str] | None:
        column = None if isinstance(self.target, Source) else self.target.partition_column
        return None if column is None else (column, self.pipeline.name)

    @property
    def node(self) -> str:
        """Display name: ``schema.table``, plus the pipeline for shared tables."""
        suffix = f"[{self.pipeline.name}]" if self.partition else ""
        return f"{self.schema}.{self.table}{suffix}"

    @property
    def staged(self) -> str:
        return staged_name(self.pipeline.name, self.table)

    @property
    def key(self) -> tuple[str, str]:
        return (self.pipeline.name, self.table)


@dataclass
class StepResult:
    """What one step did: written to run_results.json and printed as a progress line."""

    node: str
    status: str
    rows: int | None = None
    seconds: float = 0.0
    message: str = ""

    def outcome(self, published: bool) -> str:
        """The status to report once the run is over: a table built and checked is
        ``staged``, not ``success``, when the build then failed before publishing it."""
        return "staged" if self.status == "success" and not published else self.status


@dataclass
class BuildResult:
    """What a build did; ``published`` is true only when every table was swapped in."""

    run_id: str
    backend: str
    started_at: datetime
    as_of: dict[str, date] = field(default_factory=dict)
    planned: list[str] = field(default_factory=list)
    """Every step of the plan, by node name, in build order."""
    steps: list[StepResult] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """What publishing had to do that the user should hear about (a table replaced)."""
    published: bool = False
    seconds: float = 0.0

    @classmethod
    def starting_now(cls, backend: str, planned: list[str] | None = None) -> "BuildResult":
        """A new run, stamped with the current UTC second and a fresh run id."""
        started_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        return cls(_new_run_id(started_at), backend, started_at, planned=planned or [])


class Progress:
    """What a build tells its caller while it runs; the CLI prints, tests stay quiet."""

    def step_started(self, index: int, total: int, node: str) -> None:
        """A step begins."""

    def step_finished(self, index: int, total: int, result: StepResult) -> None:
        """A step ended, successfully or not."""

    def announce(self, message: str) -> None:
        """Something the user must hear before the build does it (a full refresh's drop)."""


def plan(pipelines: list[Pipeline]) -> list[Step]:
    """Every source, then every model in dependency order, pipeline by pipeline."""
    steps: list[Step] = []
    for pipeline in pipelines:
        steps.extend(Step(pipeline, source) for source in pipeline.sources)
        steps.extend(Step(pipeline, model) for model in build_order(pipeline))
    return steps


def _new_run_id(started_at: datetime) -> str:
    return f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


class Build:
    """One execution of a plan against one warehouse."""

    def __init__(
        self,
        settings: Settings,
        progress: Progress,
        pipelines: Mapping[str, Pipeline] | None = None,
        selection: Set[Node] | None = None,
    ) -> None:
        """Build the pipelines ``settings`` name among ``pipelines`` (a project's loaded
        pipelines; by default every installed one), only the ``selection`` when given: its
        other inputs are read from the published tables."""
        self.settings = settings
        self.progress = progress
        loaded = installed_pipelines() if pipelines is None else pipelines
        self.steps = [
            step
            for step in plan(select_pipelines(loaded, settings.pipelines))
            if selection is None or Node(*step.key) in selection
        ]
        self.result = BuildResult.starting_now(
            settings.backend, planned=[step.node for step in self.steps]
        )
        self.tables: dict[tuple[str, str], ir.Table] = {}
        self.files: dict[tuple[str, str], list[SourceFile]] = {}
        self.batches: dict[tuple[str, str], SourceBatches] = {}

    def run(self) -> BuildResult:
        """Execute the plan; raises a ``MedallionError`` after recording what happened."""
        clock = time.perf_counter()
        try:
            self._check_inputs()
            warehouse = open_warehouse(self.settings)
            with (
                cleanup(warehouse.close),
                explained(warehouse),
                warehouse.lock(self.settings.wait),
                self._failure_logged(warehouse),
            ):
                self._stage_and_publish(warehouse)
        except KeyboardInterrupt:
            raise BuildInterrupted("interrupted") from None
        finally:
            self.result.seconds = time.perf_counter() - clock
        return self.result

    def _check_inputs(self) -> None:
        """Fail before touching the database when a source matches no file or a file's header
        is wrong."""
        for step in self.steps:
            if isinstance(step.target, Source):
                self.files[step.key] = source_files(self.settings.seeds, step.target)

    def _stage_and_publish(self, warehouse: Warehouse) -> None:
        publications = [Publication(s.staged, s.schema, s.table, s.partition) for s in self.steps]
        warehouse.prepare(publications)
        with cleanup(warehouse.discard_staging):
            self._read_unselected_inputs(warehouse)
            self._plan_batches(warehouse)
            for index, step in enumerate(self.steps, start=1):
                self._run_step(warehouse, index, step)
            self.result.notices = warehouse.publish(
                [
                    Publication(s.staged, s.schema, s.table, s.partition, self._appends(s))
                    for s in self.steps
                ],
                self._run_log(self._quarantined()) + self._ledger(),
            )
            self.result.published = True

    def _appends(self, step: Step) -> bool:
        """Whether the step's table is published by appending: a source's bronze, unless
        this build rebuilds it."""
        plan = self.batches.get(step.key)
        return plan is not None and not plan.rebuild

    def _ledger(self) -> list[LedgerRows]:
        """The ``_medallion`` rows published with the tables: the batches this build loaded."""
        plans = [plan for plan in self.batches.values() if plan.new]
        if not plans:
            return []
        rows = log_rows(plans, self.result.run_id, self.result.started_at)
        return [LedgerRows(BATCHES_TABLE, rows)]

    def _plan_batches(self, warehouse: Warehouse) -> None:
        """Every source's batches, planned before anything is loaded (see ``batch_plan``)."""
        planner = BatchPlanner(warehouse, self.settings.full_refresh, self.progress.announce)
        for step in self.steps:
            if isinstance(step.target, Source):
                self.batches[step.key] = planner.plan(
                    step.pipeline.name, step.target, self.files[step.key]
                )

    def _quarantined(self) -> runlog.QuarantineCounts:
        """Rows per source and rule in each staged quarantine table this run built."""
        counts: runlog.QuarantineCounts = {}
        for step in self.steps:
            staged = self.tables[step.key]
            if isinstance(step.target, Model) and runlog.is_quarantine(staged):
                sources = {source.table for source in step.pipeline.sources}
                screened = [name for name in step.target.inputs if name in sources]
                counts.update(runlog.quarantine_counts(step.pipeline.name, screened, staged))
        return counts

    def _run_log(
        self, quarantined: runlog.QuarantineCounts, error: str | None = None
    ) -> list[LedgerRows]:
        """This run's rows of the ``_medallion`` run log (see ``runlog``)."""
        published = error is None
        return runlog.ledger_rows(
            run_id=self.result.run_id,
            pipelines=list(dict.fromkeys(step.pipeline.name for step in self.steps)),
            backend=self.result.backend,
            as_of=self.result.as_of,
            started_at=self.result.started_at,
            tables=[
                (
                    step.pipeline.name,
                    step.schema,
                    step.table,
                    done.outcome(published),
                    done.rows,
                    done.seconds,
                )
                for step, done in zip(self.steps, self.result.steps, strict=False)
            ],
            quarantined=quarantined,
            error=error,
        )

    @contextmanager
    def _failure_logged(self, warehouse: Warehouse) -> Iterator[None]:
        """A run that fails before publishing is logged as failed, in a transaction of its
        own that touches no published table; best effort (the connection may be what
        failed), and never in place of the error that stopped the run."""
        try:
            yield
        except BaseException as failure:
            if not self.result.published:
                with suppress(Exception):
                    warehouse.append_ledger(self._run_log({}, _sentence(warehouse, failure)))
            raise

    def _read_unselected_inputs(self, warehouse: Warehouse) -> None:
        """Tables the selected models read but this run does not build come from the last
        published build; one that was never published stops the run before any work."""
        building = {step.key for step in self.steps}
        never_published: list[str] = []
        for step in self.steps:
            if isinstance(step.target, Source):
                continue
            pipeline, needed = step.pipeline, list(step.target.inputs)
            rule = pipeline.default_as_of
            if step.target.needs_run and self.settings.as_of is None and rule is not None:
                needed.append(rule.model)
            for name in needed:
                key = (pipeline.name, name)
                if key in building or key in self.tables:
                    continue
                model = pipeline.models.get(name)
                schema = "bronze" if model is None else model.layer
                table = warehouse.published(schema, name)
                if table is None:
                    never_published.append(f"{schema}.{name}")
                    continue
                if model is not None and model.partition_column is not None:
                    table = table.filter(table[model.partition_column] == pipeline.name)
                self.tables[key] = table
        if never_published:
            raise ConfigurationError(
                f"{', '.join(sorted(set(never_published)))} (read by the selection) has never "
                "been published; add it to --select or run a full build first"
            )

    def _run_step(self, warehouse: Warehouse, index: int, step: Step) -> None:
        total = len(self.steps)
        self.progress.step_started(index, total, step.node)
        clock = time.perf_counter()
        result = StepResult(node=step.node, status="success")
        try:
            with self._failures_named(step, warehouse):
                result.rows = self._execute(warehouse, step)
                plan = self.batches.get(step.key)
                result.message = "" if plan is None else plan.summary()
        except MedallionError as error:
            result.status, result.message = "error", str(error)
            raise
        except KeyboardInterrupt:
            result.status, result.message = "error", "interrupted"
            raise
        finally:
            result.seconds = time.perf_counter() - clock
            self.result.steps.append(result)
            self.progress.step_finished(index, total, result)

    def _execute(self, warehouse: Warehouse, step: Step) -> int:
        key = (step.pipeline.name, step.table)
        if isinstance(step.target, Source):
            return self._land(warehouse, step, step.target)
        inputs = {name: self.tables[(step.pipeline.name, name)] for name in step.target.inputs}
        expr = step.target.build(inputs, lambda: self._context(step.pipeline))
        rows = warehouse.materialize(step.staged, expr)
        self.tables[key] = warehouse.staged(step.staged)
        if step.target.contract is not None:
            check_contract(step.node, step.target.contract, self.tables[key], rows)
        return rows

    def _land(self, warehouse: Warehouse, step: Step, source: Source) -> int:
        """Stage the source's new batches; silver then reads all of bronze: the published
        batches and these. Returns the rows of the new batches."""
        plan = self.batches[step.key]
        warehouse.stage_empty(step.staged, source)
        for batch in plan.new:
            lineage = Lineage(
                self.result.run_id, self.result.started_at, batch.file.name, batch.batch_id
            )
            with utf8_text(batch.file.path, source.encoding) as readable:
                plan.rows[batch.batch_id] = warehouse.load_source(
                    step.staged, readable, source, lineage
                )
        rows = sum(plan.rows.values())
        self._check_landed(warehouse, step, rows)
        if not self.settings.allow_shrink:
            refuse_shrunken(plan)
        staged = warehouse.staged(step.staged)
        published = None if plan.rebuild else warehouse.published(step.schema, step.table)
        if published is None:
            self.tables[step.key] = staged
        else:
            earlier = published.select(*staged.columns)
            if earlier.schema() != staged.schema():
                earlier = earlier.cast(staged.schema())
            self.tables[step.key] = earlier.union(staged)
        return rows

    def _check_landed(self, warehouse: Warehouse, step: Step, parsed: int) -> None:
        """Bronze holds exactly the parsed rows. An engine can lose them without an error
        (Spark executors that cannot see the files the driver wrote read nothing), and a
        build that went on would publish empty tables."""
        landed = int(warehouse.staged(step.staged).count().execute())
        if landed != parsed:
            raise BackendUnavailable(
                f"{step.node}: the source file has {parsed} rows but the engine stored "
                f"{landed}; nothing was published (on a Spark cluster, the warehouse and TMPDIR "
                "must be on storage that every executor can read)"
            )

    def _context(self, pipeline: Pipeline) -> RunContext:
        """The models' view of the run; the as-of date is settled once per pipeline, when a
        model first reads it."""

        def as_of() -> date:
            if pipeline.name not in self.result.as_of:
                self.result.as_of[pipeline.name] = self.settings.as_of or self._default_as_of(
                    pipeline
                )
            return self.result.as_of[pipeline.name]

        return RunContext(run_id=self.result.run_id, started_at=self.result.started_at, as_of=as_of)

    def _default_as_of(self, pipeline: Pipeline) -> date:
        rule = pipeline.default_as_of
        if rule is None:
            raise ConfigurationError(f"pipeline {pipeline.name} needs --as-of")
        value = rule.latest(self.tables[(pipeline.name, rule.model)]).to_pyarrow().as_py()
        if value is None:
            raise ConfigurationError(
                f"pipeline {pipeline.name} has no valid dated records to take the as-of date "
                "from; pass --as-of YYYY-MM-DD"
            )
        return value.date() if isinstance(value, datetime) else cast(date, value)

    @contextmanager
    def _failures_named(self, step: Step, warehouse: Warehouse) -> Iterator[None]:
        """Engine errors become a ``ModelFailed`` naming the step, with secrets masked, unless
        the warehouse explains them as its own (a lost connection, a missing privilege)."""
        try:
            yield
        except MedallionError:
            raise
        except Exception as error:
            explanation = warehouse.explain(error)
            if explanation is not None:
                raise explanation from error
            first_line = redact_text(str(error)).strip().splitlines()[0] if str(error) else ""
            raise ModelFailed(step.node, f"{type(error).__name__}: {first_line}") from error


@contextmanager
def cleanup(action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` after the block. When the block failed, its error is the one that
    matters: a cleanup failing too (on a connection that just died, say) must not replace it."""
    try:
        yield
    except BaseException:
        with suppress(Exception):
            action()
        raise
    action()


def _sentence(warehouse: Warehouse, failure: BaseException) -> str:
    """What the user is told about ``failure``, for the run log."""
    if isinstance(failure, KeyboardInterrupt):
        return "interrupted"
    if isinstance(failure, Exception) and not isinstance(failure, MedallionError):
        explanation = warehouse.explain(failure)
        if explanation is not None:
            return str(explanation)
        first_line = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
        return f"{type(failure).__name__}: {first_line}"
    return str(failure) or type(failure).__name__


@contextmanager
def explained(warehouse: Warehouse) -> Iterator[None]:
    """Engine errors outside any model (preparing, publishing) in the warehouse's words."""
    try:
        yield
    except MedallionError:
        raise
    except Exception as error:
        explanation = warehouse.explain(error)
        if explanation is None:
            raise
        raise explanation from error


def build(
    settings: Settings,
    progress: Progress | None = None,
    pipelines: Mapping[str, Pipeline] | None = None,
    selection: Set[Node] | None = None,
) -> BuildResult:
    """Build and publish the selected pipelines; see ``Build``."""
    return Build(settings, progress or Progress(), pipelines, selection).run()
