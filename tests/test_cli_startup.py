"""``medallion-ibis --help`` answers without loading the engines: a command imports Ibis,
DuckDB, pandera or pyarrow only when it runs (that is what keeps start-up near 0.1 s)."""

import json
import subprocess
import sys

import pytest

HEAVY_MODULES = ("ibis", "duckdb", "pandera", "pyarrow", "pandas", "psycopg", "sqlglot")

LOADED_AFTER = """
import contextlib, io, json, sys
from medallion_ibis.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


def modules_loaded_by(*arguments: str) -> list[str]:
    """The heavy modules present after the CLI handled ``arguments``, in a fresh interpreter."""
    script = LOADED_AFTER.format(heavy=HEAVY_MODULES)
    completed = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "arguments",
    [("--help",), ("build", "--help"), ("docs", "generate", "--help"), ("generate", "--help")],
)
def test_help_imports_no_engine(arguments: tuple[str, ...]) -> None:
    assert modules_loaded_by(*arguments) == []


def test_the_check_sees_an_engine_when_one_is_loaded() -> None:
    """The subprocess check itself can fail: ``ls`` reads the pipelines, which use Ibis."""
    assert "ibis" in modules_loaded_by("ls", "--project-dir", ".")
