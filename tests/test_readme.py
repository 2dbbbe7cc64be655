"""The README's "Write your own pipeline" snippet builds as printed, so the README cannot rot."""

import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from medallion_ibis.cli import main

README = Path(__file__).parent.parent / "README.md"
ORDERS_CSV = (
    "order_id,amount,ordered_on\n"
    "1,19.90,2024-03-01\n"
    "2,5.00,2024-03-01\n"
    ",7.25,2024-03-02\n"
    "3,120.50,2024-03-02\n"
    "3,121.50,2024-03-02\n"
)


def section_blocks(heading: str) -> dict[str, list[str]]:
    """The fenced code blocks of one README section, by language."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    blocks: dict[str, list[str]] = {}
    for language, body in re.findall(r"```(\w+)\n(.*?)```", text[start:end], re.S):
        blocks.setdefault(language, []).append(body)
    return blocks


def test_the_snippet_builds_ls_and_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = section_blocks("Write your own pipeline")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "orders.py").write_text(blocks["python"][0])
    (tmp_path / "medallion.toml").write_text(blocks["toml"][0])
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "orders.csv").write_text(ORDERS_CSV)
    monkeypatch.chdir(tmp_path)

    built = CliRunner().invoke(main, ["build"])
    assert built.exit_code == 0, built.output
    with duckdb.connect(str(tmp_path / "medallion.duckdb"), read_only=True) as con:
        revenue = con.sql(
            "SELECT ordered_on::TEXT, revenue FROM gold.gold_daily_revenue"
        ).fetchall()
        rules = con.sql("SELECT _row_number, rule FROM silver.quarantine ORDER BY 1").fetchall()
    assert sorted((day, str(amount)) for day, amount in revenue) == [
        ("2024-03-01", "24.90"),
        ("2024-03-02", "121.50"),
    ]
    assert rules == [(4, "missing_key"), (5, "duplicate_key")]
    assert CliRunner().invoke(main, ["ls"]).exit_code == 0
    compiled = CliRunner().invoke(main, ["compile", "gold_daily_revenue"])
    assert compiled.exit_code == 0, compiled.output


def test_the_testing_snippet_is_valid_python() -> None:
    [snippet] = [
        block for block in section_blocks("Write your own pipeline")["python"] if "testing" in block
    ]
    compile(snippet, "README.md", "exec")
