"""``init`` writes a project that runs as written; ``ls`` describes every table of a project."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from medallion_ibis.cli import main

SEEDS = Path(__file__).parent.parent / "seeds"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("init") / "shop"
    result = run("init", str(folder), "--example", "minimal")
    assert result.exit_code == 0, result.output
    return folder


def test_init_writes_config_pipeline_sources_and_a_test(minimal: Path) -> None:
    written = {str(path.relative_to(minimal)) for path in minimal.rglob("*") if path.is_file()}
    assert {
        "medallion.toml",
        "pipelines/__init__.py",
        "pipelines/minimal/__init__.py",
        "seeds/minimal/orders.csv",
    } <= written
    assert 'load = ["pipelines.minimal:PIPELINE"]' in (minimal / "medallion.toml").read_text()


def test_the_minimal_project_builds_as_written(minimal: Path) -> None:
    result = run("build", "--project-dir", str(minimal))
    assert result.exit_code == 0, result.output
    assert "OK silver.quarantine[minimal] 3 rows" in result.output
    assert "OK gold.gold_daily_revenue 4 rows" in result.output
    assert (minimal / "medallion.duckdb").is_file()
    assert (minimal / "target" / "run_results.json").is_file()


@pytest.mark.parametrize("example", ["retail", "crm_erp"])
def test_example_sources_are_the_repository_seeds_byte_for_byte(
    tmp_path: Path, example: str
) -> None:
    assert run("init", str(tmp_path / "p"), "--example", example).exit_code == 0
    written = tmp_path / "p" / "seeds" / example
    expected = sorted(
        path.relative_to(SEEDS / example) for path in (SEEDS / example).rglob("*.csv")
    )
    assert sorted(path.relative_to(written) for path in written.rglob("*.csv")) == expected
    for name in expected:
        assert (written / name).read_bytes() == (SEEDS / example / name).read_bytes(), name


def test_init_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    refused = run("init", str(tmp_path))
    assert refused.exit_code == 2
    assert "not empty" in refused.output
    assert run("init", str(tmp_path), "--force").exit_code == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_ls_lists_every_source_and_model_as_json(minimal: Path) -> None:
    result = run("ls", "--project-dir", str(minimal), "--output", "json")
    assert result.exit_code == 0, result.output
    listed = {entry["name"]: entry for entry in json.loads(result.output)}
    assert list(listed) == ["bronze_orders", "silver_orders", "quarantine", "gold_daily_revenue"]
    gold = listed["gold_daily_revenue"]
    assert gold["pipeline"] == "minimal"
    assert gold["layer"] == "gold"
    assert gold["inputs"] == ["silver_orders"]
    assert gold["contract"] == ["ordered_on", "orders", "revenue", "_gold_created_at"]
    assert gold["description"].startswith("Orders and revenue per day")
    assert gold["defined_at"].startswith(str(minimal / "pipelines" / "minimal" / "__init__.py"))


def test_ls_follows_the_selection_and_prints_a_table(minimal: Path) -> None:
    result = run("ls", "--project-dir", str(minimal), "--select", "+gold_daily_revenue")
    assert result.exit_code == 0, result.output
    assert "gold_daily_revenue" in result.output
    assert "quarantine" not in result.output
    shipped = json.loads(run("ls", "--output", "json", "--select", "layer:gold").output)
    assert {(e["pipeline"], e["name"]) for e in shipped} == {
        ("retail", "gold_daily_sales_summary"),
        ("retail", "gold_customer_lifetime_value"),
        ("retail", "gold_product_performance"),
        ("crm_erp", "dim_customers"),
        ("crm_erp", "dim_products"),
        ("crm_erp", "fact_sales"),
    }


def test_the_test_module_init_writes_passes(tmp_path: Path) -> None:
    """The kit as a user meets it: pytest run in the new project, on its own pipeline."""
    assert run("init", str(tmp_path / "shop"), "--example", "minimal").exit_code == 0
    env = {key: value for key, value in os.environ.items() if not key.startswith("MEDALLION_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "shop",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
