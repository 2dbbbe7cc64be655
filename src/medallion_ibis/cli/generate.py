"""``medallion-ibis generate``: write realistic, deterministic sample sources."""

from pathlib import Path

import click

from medallion_ibis.cli.errors import CouldNotRun
from medallion_ibis.scaffold import SAMPLE_SALES


@click.command("generate")
@click.argument("pipeline", type=click.Choice(list(SAMPLE_SALES)))
@click.option("--sales", type=click.IntRange(min=1), default=3000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("seeds"),
    show_default=True,
    help="Source folder to write into, the one `build --seeds` reads: files go to OUT/<pipeline>/.",
)
@click.option("--force", is_flag=True, help="Overwrite source files that already exist.")
def generate_command(pipeline: str, sales: int, seed: int, out: Path, force: bool) -> None:
    """Write PIPELINE's source files with SALES sales rows, including every defect the
    silver rules handle. The same seed writes the same bytes.

    Example:

        medallion-ibis generate retail --sales 1000000 --seed 7 --out /tmp/big
        medallion-ibis build --seeds /tmp/big --pipeline retail
    """
    from medallion_ibis.generate import write_crm_erp_seeds, write_retail_seeds
    from medallion_ibis.project import installed_pipelines

    sources = installed_pipelines()[pipeline].sources
    existing = [out / s.path for s in sources if (out / s.path).exists()]
    if existing and not force:
        raise CouldNotRun(
            f"{existing[0]} already exists ({len(existing)} of the files would be "
            "overwritten); pass --force to overwrite them"
        )
    writer = write_retail_seeds if pipeline == "retail" else write_crm_erp_seeds
    folder = out / pipeline
    try:
        written = writer(folder, sales=sales, seed=seed)
    except OSError as error:
        raise CouldNotRun(f"cannot write to {error.filename or folder}: {error.strerror}") from None
    for name, count in written.items():
        click.echo(f"{folder / name}: {count:,} rows")
