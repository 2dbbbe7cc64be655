"""``medallion-ibis generate``: write realistic, deterministic sample sources."""

from pathlib import Path

import click

PIPELINES = ("retail", "crm_erp")


@click.command("generate")
@click.argument("pipeline", type=click.Choice(PIPELINES))
@click.option("--sales", type=click.IntRange(min=1), default=3000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default: ./seeds/<pipeline>).",
)
def generate_command(pipeline: str, sales: int, seed: int, out: Path | None) -> None:
    """Write PIPELINE's source files with SALES sales rows, including every defect the
    silver rules handle. The same seed writes the same bytes.

    Example:

        medallion-ibis generate retail --sales 1000000 --seed 7 --out /tmp/big/retail
    """
    from medallion_ibis.generate import write_crm_erp_seeds, write_retail_seeds

    writer = write_retail_seeds if pipeline == "retail" else write_crm_erp_seeds
    folder = out or Path("seeds") / pipeline
    written = writer(folder, sales=sales, seed=seed)
    for name, count in written.items():
        click.echo(f"{folder / name}: {count:,} rows")
