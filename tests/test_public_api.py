"""The public API is the whole contract with users: the shipped examples use nothing else."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import medallion_ibis

EXAMPLES = Path(medallion_ibis.__file__).parent / "examples"
PUBLIC_MODULES = {"medallion_ibis", "medallion_ibis.testing"}


def private_imports(source: str) -> list[str]:
    """The ``medallion_ibis`` modules other than the public ones that ``source`` imports."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            if node.module == "medallion_ibis":
                found.extend(
                    f"medallion_ibis.{alias.name}"
                    for alias in node.names
                    if alias.name not in medallion_ibis.__all__
                )
    return [
        module
        for module in found
        if module.split(".")[0] == "medallion_ibis" and module not in PUBLIC_MODULES
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from medallion_ibis import Pipeline, parse_int", []),
        ("from medallion_ibis.testing import run_pipeline", []),
        ("from . import contracts\nfrom .sources import PIPELINE", []),
        ("from medallion_ibis.quarantine import KeyScreen", ["medallion_ibis.quarantine"]),
        ("import medallion_ibis.runner", ["medallion_ibis.runner"]),
        ("from medallion_ibis import portable", ["medallion_ibis.portable"]),
    ],
)
def test_the_boundary_check_tells_public_from_private(source: str, expected: list[str]) -> None:
    assert private_imports(source) == expected


@pytest.mark.parametrize(
    "module", sorted(EXAMPLES.rglob("*.py")), ids=lambda path: str(path.relative_to(EXAMPLES))
)
def test_examples_import_only_the_public_api(module: Path) -> None:
    assert private_imports(module.read_text(encoding="utf-8")) == []


def test_all_lists_exactly_the_lazily_exported_names() -> None:
    assert set(medallion_ibis.__all__) == {"__version__", *medallion_ibis._MODULE_OF}


def test_every_public_name_resolves() -> None:
    for name in medallion_ibis.__all__:
        assert getattr(medallion_ibis, name) is not None, name


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = medallion_ibis.no_such_name


def test_importing_the_package_does_not_import_the_engine() -> None:
    """``medallion-ibis --help`` must stay fast: the public names load on first use."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import medallion_ibis, sys; print('ibis' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"
