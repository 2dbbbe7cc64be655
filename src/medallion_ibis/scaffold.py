"""``init``: write a new, runnable project from one of the shipped examples.

The example's modules are copied from the installed package (they import only the public API
and each other, relatively, so they run unchanged as ``pipelines.<name>`` of the new project).
Sample sources come from the deterministic generators for ``retail`` and ``crm_erp`` — the
same bytes as this repository's ``seeds/`` — rather than CSV copies shipped in the wheel;
the minimal example's small CSV ships as package data.
"""

from collections.abc import Callable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from medallion_ibis.errors import ConfigurationError

EXAMPLES = ("retail", "crm_erp", "minimal")
SAMPLE_SALES = {"retail": 3000, "crm_erp": 5000}
"""Sales rows the repository's seeds were generated with (seed 42)."""
SAMPLE_SEED = 42

PROJECT_FILE = """\
# medallion-ibis project settings: flags > environment (MEDALLION_*) > this file > defaults.
# Relative paths resolve against this folder.
load = ["pipelines.{example}:PIPELINE"]
seeds = "seeds"
duckdb-path = "medallion.duckdb"
target-dir = "target"
"""
PYTEST_INI = "[pytest]\npythonpath = .\ntestpaths = tests\n"
TEST_MODULE = '''\
"""The {example} pipeline under medallion-ibis's testing kit: real builds on DuckDB.

Run with: pip install pytest hypothesis && pytest
"""

import csv
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from medallion_ibis.testing import assert_conserved, run_pipeline, source_rows

from pipelines.{example} import PIPELINE

SEEDS = Path(__file__).parent.parent / "seeds"
AS_OF = date(2024, 12, 31)


def sample_rows() -> dict[str, list[dict[str, str]]]:
    """The project's sample source files, as rows in memory."""
    rows = {{}}
    for source in PIPELINE.sources:
        with (SEEDS / source.path).open(newline="", encoding="utf-8") as handle:
            rows[source.table] = list(csv.DictReader(handle))
    return rows


def test_every_sample_row_lands_in_silver_or_quarantine() -> None:
    assert_conserved(run_pipeline(PIPELINE, sample_rows(), as_of=AS_OF), PIPELINE)


@settings(max_examples=5, deadline=None)  # each example is a whole build
@given(data=st.data())
def test_every_generated_row_lands_in_silver_or_quarantine(data: st.DataObject) -> None:
    rows = {{
        source.table: data.draw(source_rows(source, max_size=8), label=source.table)
        for source in PIPELINE.sources
    }}
    assert_conserved(run_pipeline(PIPELINE, rows, as_of=AS_OF), PIPELINE)
'''
GITIGNORE = "medallion.duckdb\nmedallion.duckdb.*\ntarget/\n__pycache__/\n"
PACKAGE_DOC = '"""This project\'s pipelines; medallion.toml\'s ``load`` names them."""\n'


def _example(example: str) -> Traversable:
    return files("medallion_ibis.examples").joinpath(example)


def _write_sample_sources(example: str, seeds: Path) -> None:
    if example == "minimal":
        folder = seeds / "minimal"
        folder.mkdir(parents=True, exist_ok=True)
        for data in _example(example).joinpath("seeds").iterdir():
            (folder / data.name).write_bytes(data.read_bytes())
        return
    from medallion_ibis.generate import write_crm_erp_seeds, write_retail_seeds

    writer: Callable[..., object] = (
        write_retail_seeds if example == "retail" else write_crm_erp_seeds
    )
    writer(seeds / example, sales=SAMPLE_SALES[example], seed=SAMPLE_SEED)


def init_project(folder: Path, example: str, *, force: bool = False) -> list[Path]:
    """Write a project running ``example`` into ``folder``; returns the files written.

    A folder that is not empty is refused unless ``force``: ``init`` must never overwrite
    someone's work by accident.
    """
    if example not in EXAMPLES:
        raise ConfigurationError(f"unknown example {example!r}; choose from {', '.join(EXAMPLES)}")
    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ConfigurationError(f"{folder} is not empty; pass --force to write into it anyway")
    package = folder / "pipelines" / example
    package.mkdir(parents=True, exist_ok=True)
    (folder / "pipelines" / "__init__.py").write_text(PACKAGE_DOC, encoding="utf-8")
    for module in _example(example).iterdir():
        if module.name.endswith(".py"):
            (package / module.name).write_text(module.read_text(encoding="utf-8"), "utf-8")
    (folder / "medallion.toml").write_text(PROJECT_FILE.format(example=example), "utf-8")
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (folder / "tests").mkdir(exist_ok=True)
    test_module = folder / "tests" / f"test_{example}.py"
    test_module.write_text(TEST_MODULE.format(example=example), encoding="utf-8")
    (folder / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    _write_sample_sources(example, folder / "seeds")
    return sorted(path for path in folder.rglob("*") if path.is_file())
