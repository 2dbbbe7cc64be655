"""Guards for the two pins in pyproject.toml (DESIGN.md, "Verified facts").

- duckdb < 2: ibis 12 reads results through ``DuckDBPyConnection.fetch_arrow_table``, which
  duckdb 2.0 removed; reading a named table back (``to_pyarrow``) breaks without it.
- sqlglot < 30.18: from 30.18 on, ibis 12's ``DROP TABLE`` is rendered without a name, so
  ``create_table(..., overwrite=True)`` fails on PostgreSQL.
"""

import tomllib
from importlib.metadata import version
from pathlib import Path

import duckdb
import ibis
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def requirements() -> dict[str, Requirement]:
    with PYPROJECT.open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    parsed = [Requirement(text) for text in dependencies]
    return {requirement.name: requirement for requirement in parsed}


def test_pyproject_pins_duckdb_below_2_and_sqlglot_below_30_18() -> None:
    pins = requirements()
    assert Version("2.0.0") not in pins["duckdb"].specifier
    assert Version("30.18.0") not in pins["sqlglot"].specifier
    assert Version("30.17.0") in pins["sqlglot"].specifier
    assert str(pins["ibis-framework"].specifier) == "==12.0.0"


@pytest.mark.parametrize("name", sorted(requirements()))
def test_installed_version_satisfies_pyproject(name: str) -> None:
    requirement = requirements()[name]
    installed = version(name)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{name} {installed} does not satisfy {requirement}"
    )


def test_duckdb_still_offers_fetch_arrow_table() -> None:
    assert hasattr(duckdb.DuckDBPyConnection, "fetch_arrow_table")


def test_ibis_duckdb_reads_a_named_table_back_to_arrow() -> None:
    con = ibis.duckdb.connect()
    con.create_table("pin_check", ibis.memtable({"x": [1, 2, 3]}))
    table = con.table("pin_check")  # schema lookup goes through fetch_arrow_table
    assert table.order_by("x").to_pyarrow().to_pydict() == {"x": [1, 2, 3]}
    con.disconnect()


def test_ibis_postgres_create_table_overwrite_replaces_an_existing_table(pg_url: str) -> None:
    con = ibis.connect(pg_url.replace("postgresql://", "postgres://", 1))
    try:
        con.create_table("pin_check", ibis.memtable({"x": [1, 2]}))
        con.create_table("pin_check", ibis.memtable({"y": ["a"]}), overwrite=True)
        assert con.table("pin_check").to_pyarrow().to_pydict() == {"y": ["a"]}
        # the replacement was renamed into place: no staging table is left behind
        assert [name for name in con.list_tables() if "memtable" not in name] == ["pin_check"]
    finally:
        con.disconnect()
