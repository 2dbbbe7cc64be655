"""Settings: flags > environment (MEDALLION_*) > pyproject [tool.medallion-ibis] > defaults;
bad values are refused with a sentence; secrets are masked wherever text leaves the program."""

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from medallion_ibis.cli import main
from medallion_ibis.config import DEFAULT_PG_URL, Settings, resolve_settings
from medallion_ibis.errors import ConfigurationError
from medallion_ibis.redact import MASK, redact_text, redact_url

PYPROJECT = """
[project]
name = "someone-elses-warehouse"

[tool.medallion-ibis]
backend = "postgres"
pipelines = ["retail"]
seeds = "py-seeds"
as-of = "2024-01-31"
duckdb-path = "py.duckdb"
pg-url = "postgresql://py@py-host/py"
target-dir = "py-target"
"""
ENVIRONMENT = {
    "MEDALLION_BACKEND": "duckdb",
    "MEDALLION_PIPELINES": "retail, crm_erp",
    "MEDALLION_AS_OF": "2024-02-29",
    "MEDALLION_PG_URL": "postgresql://env@env-host/env",
    "MEDALLION_SEEDS": "",  # empty: as if unset
    "OTHER_SEEDS": "not ours",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    return tmp_path


def test_defaults_apply_when_nothing_is_set(tmp_path: Path) -> None:
    settings = resolve_settings({}, environ={}, project_dir=tmp_path)
    assert settings == Settings()
    assert settings == Settings(
        backend="duckdb",
        pipelines=(),
        seeds=Path("seeds"),
        as_of=None,
        duckdb_path=Path("medallion.duckdb"),
        pg_url=DEFAULT_PG_URL,
        target_dir=Path("target"),
    )


def test_pyproject_overrides_defaults(project: Path) -> None:
    assert resolve_settings({}, environ={}, project_dir=project) == Settings(
        backend="postgres",
        pipelines=("retail",),
        seeds=Path("py-seeds"),
        as_of=date(2024, 1, 31),
        duckdb_path=Path("py.duckdb"),
        pg_url="postgresql://py@py-host/py",
        target_dir=Path("py-target"),
    )


def test_environment_overrides_pyproject(project: Path) -> None:
    assert resolve_settings({}, environ=ENVIRONMENT, project_dir=project) == Settings(
        backend="duckdb",
        pipelines=("retail", "crm_erp"),
        seeds=Path("py-seeds"),
        as_of=date(2024, 2, 29),
        duckdb_path=Path("py.duckdb"),
        pg_url="postgresql://env@env-host/env",
        target_dir=Path("py-target"),
    )


def test_flags_override_environment_and_unset_flags_do_not(project: Path) -> None:
    flags = {
        "backend": "postgres",
        "pipelines": (),
        "seeds": "flag-seeds",
        "as-of": "2024-03-01",
        "duckdb-path": None,
        "pg-url": None,
        "target-dir": "flag-target",
    }
    assert resolve_settings(flags, environ=ENVIRONMENT, project_dir=project) == Settings(
        backend="postgres",
        pipelines=("retail", "crm_erp"),
        seeds=Path("flag-seeds"),
        as_of=date(2024, 3, 1),
        duckdb_path=Path("py.duckdb"),
        pg_url="postgresql://env@env-host/env",
        target_dir=Path("flag-target"),
    )


@pytest.mark.parametrize("value", ["2024-13-01", "2023-02-29", "yesterday", "01/15/2024", ""])
def test_a_bad_as_of_date_is_a_configuration_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        resolve_settings({"as-of": value}, environ={}, project_dir=tmp_path)
    assert str(raised.value) == f"--as-of must be a date as YYYY-MM-DD, got {value!r}"


def test_an_unknown_backend_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigurationError, match=r"^MEDALLION_BACKEND must be one of duckdb, postgres"
    ):
        resolve_settings({}, environ={"MEDALLION_BACKEND": "oracle"}, project_dir=tmp_path)


@pytest.mark.parametrize(
    "arguments",
    [
        ["build", "--pipeline", "retail", "--as-of", "2024-13-01"],
        ["compile", "gold_customer_lifetime_value", "--as-of", "2024-13-01"],
    ],
    ids=["build", "compile"],
)
def test_cli_refuses_a_bad_as_of_with_exit_2(cli: CliRunner, arguments: list[str]) -> None:
    result = cli.invoke(main, arguments)
    assert result.exit_code == 2
    assert "--as-of must be a date as YYYY-MM-DD, got '2024-13-01'" in result.output
    assert "Traceback" not in result.output


def test_cli_refuses_a_bad_as_of_from_the_environment(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDALLION_AS_OF", "someday")
    result = cli.invoke(main, ["build", "--pipeline", "retail"])
    assert result.exit_code == 2
    assert "got 'someday'" in result.output


def test_cli_reads_pyproject_in_the_working_directory(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.medallion-ibis]\nseeds = "nowhere"\n')
    result = cli.invoke(main, ["build", "--pipeline", "retail", "--duckdb-path", "w.duckdb"])
    assert result.exit_code == 2
    assert str(Path("nowhere") / "retail" / "raw_sales.csv") in result.output
    assert "file not found" in result.output


# ---------------------------------------------------------------------------------------------
# redaction


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://alice:s3cr3t@db.example.com:5432/prod",
            f"postgresql://alice:{MASK}@db.example.com:5432/prod",
        ),
        ("postgresql://alice:p%40ss@db/prod", f"postgresql://alice:{MASK}@db/prod"),
        (
            "postgresql://alice:s3cr3t@db/prod?sslmode=require",
            f"postgresql://alice:{MASK}@db/prod?sslmode=require",
        ),
        ("postgresql://alice@db/prod", "postgresql://alice@db/prod"),
        ("postgresql://db/prod", "postgresql://db/prod"),
    ],
)
def test_redact_url_masks_the_password_and_keeps_the_rest(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_masks_urls_and_password_keywords_inside_messages() -> None:
    message = (
        'connection to "postgresql://bob:hunter2@10.0.0.7:5432/sales" failed; '
        "retry with host=10.0.0.7 password=hunter2 or PASSWORD = 'two words'"
    )
    redacted = redact_text(message)
    assert "hunter2" not in redacted
    assert "two words" not in redacted
    assert redacted == (
        f'connection to "postgresql://bob:{MASK}@10.0.0.7:5432/sales" failed; '
        f"retry with host=10.0.0.7 password={MASK} or PASSWORD = {MASK}"
    )


def test_redact_text_leaves_text_without_secrets_alone() -> None:
    text = "3 of 10 OK silver.silver_sales_cleaned 10 rows; see postgresql://alice@db/prod"
    assert redact_text(text) == text
