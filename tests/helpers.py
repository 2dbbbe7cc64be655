"""Test helpers: build a pipeline into a throwaway warehouse and read tables back."""

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeAlias

import ibis
import psycopg

from medallion_ibis.config import BackendName, Settings
from medallion_ibis.runner import BuildResult, build

Engine: TypeAlias = ibis.BaseBackend
"""An Ibis connection to one of the engines a test compares."""

REFERENCE_ENV = "MEDALLION_TEST_REFERENCE"
SHARED_REFERENCE = (
    Path(os.environ[REFERENCE_ENV])
    if os.environ.get(REFERENCE_ENV)
    else next(
        (
            folder / "shared" / "reference"
            for folder in Path(__file__).resolve().parents
            if (folder / "shared" / "reference").is_dir()
        ),
        Path(__file__).resolve().parents[2] / "shared" / "reference",
    )
)
"""The public reference data: ``$MEDALLION_TEST_REFERENCE``, else ``shared/reference`` beside
the checkout, looked up from the checkout upwards (so the copy of the tests that ``nox -s
mutants`` runs inside the checkout finds it too)."""


def build_into(
    seeds: Path,
    *,
    pipelines: Sequence[str],
    backend: BackendName = "duckdb",
    duckdb_path: Path | None = None,
    pg_url: str | None = None,
    as_of: date | None = None,
    full_refresh: bool = False,
) -> BuildResult:
    """Build ``pipelines`` from ``seeds`` into the given warehouse, quietly."""
    settings = Settings(
        backend=backend,
        pipelines=tuple(pipelines),
        seeds=seeds,
        as_of=as_of,
        duckdb_path=duckdb_path or Path("unused.duckdb"),
        pg_url=pg_url or "",
        full_refresh=full_refresh,
    )
    return build(settings)


def connect(*, duckdb_path: Path | None = None, pg_url: str | None = None) -> ibis.BaseBackend:
    """An Ibis connection to the warehouse a test built into."""
    if pg_url is not None:
        return ibis.connect(pg_url.replace("postgresql://", "postgres://", 1))
    assert duckdb_path is not None
    return ibis.duckdb.connect(str(duckdb_path))


def rows(
    con: ibis.BaseBackend, schema: str, table: str, *, drop: Sequence[str] = ()
) -> list[tuple[Any, ...]]:
    """All rows of a published table as sorted tuples (columns in table order), for exact
    comparisons; ``drop`` removes run-specific columns such as ``_gold_created_at``."""
    t = con.table(table, database=schema)
    kept = [name for name in t.columns if name not in drop]
    frame = t.select(*kept).to_pyarrow()
    return sorted(
        (tuple(record[name] for name in kept) for record in frame.to_pylist()),
        key=lambda row: tuple((value is None, str(value)) for value in row),
    )


@contextmanager
def fresh_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database on the test server, dropped afterwards (also when the block
    fails): conftest's per-test ``pg_url`` and module-scoped builds use it. Empty, or a copy
    of the database at URL ``template`` (which nobody may be connected to): copying a build
    is much faster than building again."""
    name = f"medallion_test_{uuid.uuid4().hex[:12]}"
    copy = "" if template is None else f' TEMPLATE "{template.rpartition("/")[2]}"'
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
    base, _, _ = server_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
