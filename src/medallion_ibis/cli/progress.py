"""dbt-style progress lines: ``3 of 9 OK silver.silver_sales_cleaned 2,000 rows in 0.12s``."""

from rich.console import Console
from rich.markup import escape

from medallion_ibis.redact import redact_text
from medallion_ibis.runner import BuildResult, Progress, StepResult


class ConsoleProgress(Progress):
    """Prints one line per finished step, coloured by outcome."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def step_finished(self, index: int, total: int, result: StepResult) -> None:
        if result.status == "success":
            rows = f"{result.rows:,} rows" if result.rows is not None else ""
            self.console.print(
                f"{index} of {total} [green]OK[/] {escape(result.node)} {rows} "
                f"in {result.seconds:.2f}s",
                highlight=False,
            )
        else:
            self.console.print(
                f"{index} of {total} [red]ERROR[/] {escape(result.node)} in {result.seconds:.2f}s",
                highlight=False,
            )


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
