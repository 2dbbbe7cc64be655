"""The build command around the library: settings read and checked before anything runs,
warnings for settings that are ignored, run_results.json describing the latest invocation,
progress lines, and ``generate`` writing the folder ``build --seeds`` reads."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from retail_fixtures import write_seeds
from rich.console import Console

from medallion_ibis.cli import main
from medallion_ibis.cli.progress import ConsoleProgress
from medallion_ibis.examples.retail.sources import PRODUCTS, SALES
from medallion_ibis.runner import StepResult


def build(cli: CliRunner, *arguments: str) -> Result:
    return cli.invoke(main, ["build", "--pipeline", "retail", *arguments])


def results(folder: Path = Path("target")) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / "run_results.json").read_text())
    return document


# ---------------------------------------------------------------------------------------------
# settings


def test_medallion_pipelines_all_means_every_pipeline(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDALLION_PIPELINES", "all")
    monkeypatch.setenv("MEDALLION_SEEDS", "nowhere")
    result = cli.invoke(main, ["build"])
    assert result.exit_code == 2, result.output
    assert "unknown pipeline" not in result.output
    assert "file not found" in result.output


def test_a_bad_as_of_from_the_environment_is_named_as_the_variable(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDALLION_AS_OF", "someday")
    result = build(cli)
    assert result.exit_code == 2
    assert "MEDALLION_AS_OF must be a date as YYYY-MM-DD, got 'someday'" in result.output


@pytest.mark.parametrize("value", ["20241231", "2024-W01-1", "2024-W01", "2024-366"])
def test_only_calendar_dates_are_accepted(cli: CliRunner, value: str) -> None:
    result = build(cli, "--as-of", value)
    assert result.exit_code == 2
    assert f"--as-of must be a date as YYYY-MM-DD, got {value!r}" in result.output


def test_unknown_variables_and_keys_are_warned_about_with_the_close_name(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEDALLION_SEED", "nowhere")
    (tmp_path / "pyproject.toml").write_text('[tool.medallion-ibis]\nduckdb_path = "x.duckdb"\n')
    result = build(cli, "--seeds", "missing")
    assert "unknown environment variable MEDALLION_SEED is ignored" in result.output
    assert "(did you mean MEDALLION_SEEDS?)" in result.output
    assert "unknown key 'duckdb_path'" in result.output
    assert "(did you mean duckdb-path?)" in result.output


def test_pg_url_without_the_postgres_backend_is_warned_about(cli: CliRunner) -> None:
    result = build(cli, "--pg-url", "postgresql://u@h/db", "--seeds", "missing")
    assert "--pg-url is ignored: the build runs on duckdb (add --backend postgres)" in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[tool.medallion-ibis\nseeds = 'x'\n", "pyproject.toml: not valid TOML"),
        ("[tool.medallion-ibis]\nseeds = 5\n", "seeds in "),
        ("[tool.medallion-ibis]\npipelines = 3\n", "pipelines in "),
    ],
    ids=["malformed", "number-for-folder", "number-for-pipelines"],
)
def test_a_bad_pyproject_is_one_sentence_and_exit_2(
    cli: CliRunner, tmp_path: Path, content: str, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(content)
    result = build(cli)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("flag", "path", "expected"),
    [
        ("--duckdb-path", ":memory:", "would keep nothing"),
        ("--duckdb-path", "/dev/null/w.duckdb", "/dev/null is not a folder"),
        ("--duckdb-path", "/sys/w.duckdb", "cannot write in /sys"),
        ("--target-dir", "a-file", "a-file is not a folder"),
        ("--target-dir", "/sys/target", "cannot write in /sys"),
    ],
)
def test_an_unusable_output_path_fails_before_anything_is_built(
    cli: CliRunner, tmp_path: Path, flag: str, path: str, expected: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    seeds = write_seeds(tmp_path / "seeds")
    result = build(cli, "--seeds", str(seeds), flag, path)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Building on" not in result.output
    assert not (tmp_path / "medallion.duckdb").exists()


# ---------------------------------------------------------------------------------------------
# run_results.json


def test_results_of_a_failed_run_replace_those_of_a_successful_one(
    cli: CliRunner, tmp_path: Path
) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    assert build(cli, "--seeds", str(seeds)).exit_code == 0
    assert results()["status"] == "success"
    (seeds / PRODUCTS.path).unlink()
    result = build(cli, "--seeds", str(seeds))
    assert result.exit_code == 2
    document = results()
    assert document["status"] == "error"
    assert document["published"] is False
    assert "file not found" in document["error"]
    assert {entry["status"] for entry in document["results"]} == {"skipped"}
    assert len(document["results"]) == 10


def test_steps_built_before_a_failure_say_they_were_not_published(
    cli: CliRunner, tmp_path: Path
) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    sales = seeds / SALES.path
    lines = sales.read_text().splitlines()
    lines[3] += ",surplus"
    sales.write_text("\n".join(lines) + "\n")
    result = build(cli, "--seeds", str(seeds))
    assert result.exit_code == 2
    document = results()
    statuses = [entry["status"] for entry in document["results"]]
    assert statuses[0] == "error"
    assert set(statuses[1:]) == {"skipped"}
    assert ":4:" in document["error"]


def test_an_unknown_pipeline_is_recorded_with_its_reason(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDALLION_PIPELINES", "retial")
    result = cli.invoke(main, ["build"])
    assert result.exit_code == 2
    assert "unknown pipeline retial" in results()["error"]


def test_refused_settings_replace_the_last_results_with_the_reason(
    cli: CliRunner, tmp_path: Path
) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    assert build(cli, "--seeds", str(seeds)).exit_code == 0
    result = build(cli, "--seeds", str(seeds), "--as-of", "20241231")
    assert result.exit_code == 2
    document = results()
    assert document["status"] == "error"
    assert document["results"] == []
    assert "--as-of must be a date as YYYY-MM-DD" in document["error"]


# ---------------------------------------------------------------------------------------------
# progress


def test_without_a_terminal_each_step_prints_a_start_and_an_end_line(
    cli: CliRunner, tmp_path: Path
) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    result = build(cli, "--seeds", str(seeds))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "1 of 10 START bronze.bronze_sales" in lines
    start = lines.index("1 of 10 START bronze.bronze_sales")
    assert lines[start + 1].startswith("1 of 10 OK bronze.bronze_sales ")


# ---------------------------------------------------------------------------------------------
# generate


def test_generate_out_is_the_folder_build_seeds_reads(cli: CliRunner, tmp_path: Path) -> None:
    generated = cli.invoke(main, ["generate", "retail", "--sales", "50", "--out", "src"])
    assert generated.exit_code == 0, generated.output
    assert (tmp_path / "src" / SALES.path).is_file()
    built = build(cli, "--seeds", "src")
    assert built.exit_code == 0, built.output


def test_generate_crm_erp_writes_under_its_pipeline_folder(cli: CliRunner, tmp_path: Path) -> None:
    generated = cli.invoke(main, ["generate", "crm_erp", "--sales", "50", "--out", "src"])
    assert generated.exit_code == 0, generated.output
    assert (tmp_path / "src" / "crm_erp" / "source_crm" / "cust_info.csv").is_file()


def test_generate_refuses_to_overwrite_without_force(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(main, ["generate", "retail", "--sales", "50", "--out", "s"]).exit_code == 0
    sales = tmp_path / "s" / SALES.path
    sales.write_text("mine\n")
    again = cli.invoke(main, ["generate", "retail", "--sales", "50", "--out", "s"])
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert "--force" in again.output
    assert sales.read_text() == "mine\n"
    forced = cli.invoke(main, ["generate", "retail", "--sales", "50", "--out", "s", "--force"])
    assert forced.exit_code == 0
    assert sales.read_text() != "mine\n"


def test_generate_into_an_unwritable_folder_is_one_sentence(cli: CliRunner) -> None:
    result = cli.invoke(main, ["generate", "retail", "--sales", "50", "--out", "/sys/seeds"])
    assert result.exit_code == 2
    assert "cannot write to /sys/seeds" in result.output
    assert "Traceback" not in result.output


def test_on_a_terminal_the_running_step_is_shown_live_and_then_replaced(tmp_path: Path) -> None:
    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=100)
    progress = ConsoleProgress(console)
    progress.step_started(1, 2, "bronze.bronze_sales")
    progress.step_finished(1, 2, StepResult("bronze.bronze_sales", "success", 3, 0.2))
    text = output.getvalue()
    assert "1 of 2 bronze.bronze_sales" in text  # the live line, with spinner and clock
    assert "0:00:00" in text
    assert "START" not in text
    assert text.rstrip().endswith("1 of 2 \x1b[32mOK\x1b[0m bronze.bronze_sales 3 rows in 0.20s")
