"""Shared fixtures: a real PostgreSQL database per test, DuckDB files, reference data."""

import os
from collections.abc import Iterator
from pathlib import Path

import ibis
import psycopg
import pytest
from click.testing import CliRunner
from helpers import REFERENCE_ENV, SHARED_REFERENCE, Engine, fresh_database
from hypothesis import HealthCheck, settings

from medallion_ibis.config import DEFAULT_PG_URL

REFERENCE = SHARED_REFERENCE
SEEDS = Path(__file__).resolve().parents[1] / "seeds"

# ci is derandomized: every run draws the same examples, so a CI failure reproduces locally
# with HYPOTHESIS_PROFILE=ci. thorough stays random, to keep finding new ones.
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "dev", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Hypothesis derandomizes by itself when it sees CI=true; thorough says it stays random.
settings.register_profile(
    "thorough",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=False,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


SLOWEST_MODULES = (
    "test_retail_properties.py",
    "test_faults.py",
    "test_docs.py",
    "test_engine_failures.py",
)
"""Started first (measured: 45–85 s each on 2 workers). pytest-xdist hands whole modules to
the workers in collection order, and the slowest one, collected late, kept one worker busy
alone at the end of the run."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {name: rank for rank, name in enumerate(SLOWEST_MODULES)}
    items.sort(key=lambda item: first.get(item.path.name, len(first)))


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The test server; unreachable is a failure with instructions, never a silent skip."""
    url = os.environ.get("MEDALLION_TEST_PG_URL", DEFAULT_PG_URL)
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL tests need a server: none answered at MEDALLION_TEST_PG_URL={url} "
            f"({error}). Start one (on the dev machines: pg_ctlcluster "
            "--skip-systemctl-redirect $(ls /etc/postgresql) main start) or point "
            "MEDALLION_TEST_PG_URL at a server where this user may CREATE DATABASE."
        )
    return url


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test."""
    with fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture
def duckdb_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    assert REFERENCE.is_dir(), (
        f"reference data missing at {REFERENCE}: clone next to shared/, or set "
        f"{REFERENCE_ENV} to the folder holding retail/ and crm_erp/"
    )
    return REFERENCE


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner in an empty folder, with no MEDALLION_* variable of the caller's shell."""
    for name in [name for name in os.environ if name.startswith("MEDALLION_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """One connection per module and engine: an in-memory DuckDB, or a fresh PostgreSQL
    database, for tests that compare what a helper computes on each engine."""
    if request.param == "duckdb":
        con = ibis.duckdb.connect()
        yield con
        con.disconnect()
        return
    server_url = request.getfixturevalue("pg_server_url")
    with fresh_database(server_url) as url:
        con = ibis.connect(url.replace("postgresql://", "postgres://", 1))
        yield con
        con.disconnect()


@pytest.fixture(scope="module")
def duck() -> Iterator[ibis.BaseBackend]:
    """An in-memory DuckDB shared by a module's tests of rules over stand-in tables."""
    con = ibis.duckdb.connect()
    yield con
    con.disconnect()
