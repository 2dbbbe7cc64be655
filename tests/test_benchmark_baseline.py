"""The hand-written DuckDB baseline of the benchmark computes the build's retail gold tables and
quarantine, row for row, from the shipped sample seeds, and the oracle that says so can fail.

The baseline was written from the rules, not generated from the models, so agreement is a
second implementation checking the first (and keeps the benchmark's reference honest when a
rule changes)."""

import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from medallion_ibis.config import Settings
from medallion_ibis.runner import build

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import baseline

SEEDS = Path(__file__).parents[1] / "seeds"


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("baseline")
    built = folder / "build.duckdb"
    settings = Settings(
        pipelines=("retail",), seeds=SEEDS, duckdb_path=built, target_dir=folder / "target"
    )
    assert build(settings).published
    reference = folder / "baseline.duckdb"
    baseline.run_duckdb(SEEDS, reference, baseline.RunValues.now())
    return reference, built


def test_baseline_holds_the_builds_gold_rows_and_quarantine(databases: tuple[Path, Path]) -> None:
    reference, built = databases
    with duckdb.connect(str(reference), read_only=True) as con:
        quarantined = con.execute("SELECT count(*) FROM silver.quarantine").fetchone()
    assert quarantined is not None
    assert quarantined[0] > 0
    assert baseline.duckdb_differences(reference, built) == []


def test_oracle_sees_one_changed_cent(databases: tuple[Path, Path], tmp_path: Path) -> None:
    reference, built = databases
    changed = shutil.copy(reference, tmp_path / "changed.duckdb")
    with duckdb.connect(str(changed)) as con:
        con.execute(
            "UPDATE gold.gold_customer_lifetime_value SET avg_order_value = avg_order_value "
            "+ 0.01 WHERE customer_id = (SELECT min(customer_id) "
            "FROM gold.gold_customer_lifetime_value)"
        )
    found = baseline.duckdb_differences(Path(changed), built)
    assert [line.split(":")[0] for line in found] == ["gold.gold_customer_lifetime_value"] * 2
    assert "1 rows baseline only" in found[0]
    assert "1 rows build only" in found[1]


def test_blank_lines_between_records_are_refused(tmp_path: Path) -> None:
    """The baseline does not number lines past blank lines; it says so instead of guessing."""
    shutil.copytree(SEEDS / "retail", tmp_path / "retail")
    sales = tmp_path / "retail" / "raw_sales.csv"
    lines = sales.read_text().splitlines(keepends=True)
    sales.write_text("".join([*lines[:3], "\n", *lines[3:]]))
    with pytest.raises(baseline.BaselineRefused, match="blank lines"):
        baseline.retail_files(tmp_path)
