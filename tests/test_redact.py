"""No output, message or file ever holds a password, whatever the connection string's shape:
URLs are read with libpq's rules, and one libpq cannot read is shown only up to its user."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from retail_fixtures import write_seeds

from medallion_ibis.cli import main
from medallion_ibis.redact import MASK, redact_url

SECRET = "SecretX"
UNREACHABLE = "127.0.0.1:1"
"""Nothing listens on port 1: a connection is refused at once, whatever the password."""
SHAPES = {
    "unencoded-at": f"postgresql://u:p@ss{SECRET}@{UNREACHABLE}/db",
    "bad-percent-escape": f"postgresql://u:p%zz{SECRET}@{UNREACHABLE}/db",
    "unencoded-space": f"postgresql://u:pass {SECRET}@{UNREACHABLE}/db",
    "unencoded-slash": f"postgresql://u:pa/{SECRET}@{UNREACHABLE}/db",
    "query-string": f"postgresql://u@{UNREACHABLE}/db?password={SECRET}&sslmode=disable",
    "keyword-value": f"host=127.0.0.1 port=1 user=u password={SECRET} dbname=db",
    "keyword-value-quoted": f"host=127.0.0.1 port=1 user=u password='a {SECRET}' dbname=db",
    "percent-encoded": f"postgresql://u:p%40{SECRET}@{UNREACHABLE}/db",
    "plain": f"postgresql://u:{SECRET}@{UNREACHABLE}/db",
}


@pytest.mark.parametrize("url", SHAPES.values(), ids=SHAPES.keys())
def test_redact_url_never_shows_the_password(url: str) -> None:
    shown = redact_url(url)
    assert SECRET not in shown
    assert MASK in shown


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (SHAPES["unencoded-at"], f"postgresql://u:{MASK}"),
        (SHAPES["bad-percent-escape"], f"postgresql://u:{MASK}"),
        (SHAPES["query-string"], f"postgresql://u:{MASK}@{UNREACHABLE}/db?sslmode=disable"),
        (SHAPES["keyword-value"], f"user=u password={MASK} dbname=db host=127.0.0.1 port=1"),
        ("host=h password='unterminated", MASK),
        ("postgresql://alice@db/prod", "postgresql://alice@db/prod"),
    ],
)
def test_redact_url_keeps_what_is_safe_to_show(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize("url", SHAPES.values(), ids=SHAPES.keys())
def test_no_password_in_cli_output_or_run_results(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in os.environ if name.startswith("MEDALLION_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    seeds = write_seeds(tmp_path / "seeds")
    result = CliRunner().invoke(
        main,
        [
            *("build", "--backend", "postgres", "--pipeline", "retail"),
            *("--seeds", str(seeds), "--pg-url", url),
        ],
    )
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output
    assert "Traceback" not in result.output
    for written in tmp_path.rglob("*.json"):
        assert SECRET not in written.read_text()
