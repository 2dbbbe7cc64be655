"""dbt-style progress lines: ``3 of 9 OK silver.silver_sales_cleaned 2,000 rows in 0.12s``.

On a terminal, the running step is shown live with a spinner and its elapsed time (a 6 s
step on PostgreSQL is otherwise silent until it ends); elsewhere (CI logs, pipes) a plain
``START`` line is printed when a step begins, as dbt does.
"""

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress as LiveProgress
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from medallion_ibis.redact import redact_text
from medallion_ibis.runner import BuildResult, Progress, StepResult


class ConsoleProgress(Progress):
    """Prints one line per finished step, coloured by outcome, and shows the running one."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: LiveProgress | None = None

    def step_started(self, index: int, total: int, node: str) -> None:
        if not self.console.is_terminal:
            self.console.print(f"{index} of {total} START {escape(node)}", highlight=False)
            return
        self._live = LiveProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._live.add_task(f"{index} of {total} {escape(node)}", total=None)
        self._live.start()

    def step_finished(self, index: int, total: int, result: StepResult) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        if result.status == "success":
            rows = f"{result.rows:,} rows" if result.rows is not None else ""
            detail = f"; {escape(result.message)}" if result.message else ""
            self.console.print(
                f"{index} of {total} [green]OK[/] {escape(result.node)} {rows} "
                f"in {result.seconds:.2f}s{detail}",
                highlight=False,
            )
        else:
            self.console.print(
                f"{index} of {total} [red]ERROR[/] {escape(result.node)} in {result.seconds:.2f}s",
                highlight=False,
            )

    def announce(self, message: str) -> None:
        self.console.print(f"[yellow]Note[/]: {escape(message)}", highlight=False)


def print_summary(console: Console, result: BuildResult, where: str) -> None:
    """The closing lines: what was published where, and as of which dates."""
    as_of = ", ".join(f"{name} {day.isoformat()}" for name, day in result.as_of.items())
    if result.published:
        console.print(
            f"[green]Published[/] {len(result.steps)} tables to {escape(redact_text(where))} "
            f"in {result.seconds:.1f}s (as of: {as_of or 'n/a'}; run {result.run_id})",
            highlight=False,
        )
    else:
        console.print(
            "[red]Nothing was published[/]: the tables of the last successful build are unchanged.",
            highlight=False,
        )
