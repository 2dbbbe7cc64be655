"""Publishing is all or nothing, replaces the previous build, keeps user views working, refuses
a concurrent build, and never prints a password. On DuckDB and on PostgreSQL alike."""

import dataclasses
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import psycopg
import pytest
from click.testing import CliRunner
from helpers import build_into, connect, fresh_database, rows
from retail_fixtures import write_seeds

from medallion_ibis.backends.base import STAGING_SCHEMA, Warehouse
from medallion_ibis.backends.duckdb import STAGED_IN_PLACE, DuckDBWarehouse
from medallion_ibis.backends.postgres import PostgresWarehouse
from medallion_ibis.cli import main
from medallion_ibis.config import BackendName
from medallion_ibis.errors import BackendUnavailable, ModelFailed
from medallion_ibis.examples.retail import PIPELINE
from medallion_ibis.runner import BuildResult

TABLES = [
    ("bronze", "bronze_sales"),
    ("bronze", "bronze_customers"),
    ("bronze", "bronze_products"),
    ("silver", "silver_sales_cleaned"),
    ("silver", "silver_customers_cleaned"),
    ("silver", "silver_products_cleaned"),
    ("silver", "quarantine"),
    ("gold", "gold_daily_sales_summary"),
    ("gold", "gold_customer_lifetime_value"),
    ("gold", "gold_product_performance"),
]
EXTRA_SALE = "1011,1,501,Laptop Pro,Electronics,1,1299.99,2024-01-20,101,New York\n"
"""A further laptop sale: product 501's revenue goes from 2599.98 to 3899.97."""


@dataclass(frozen=True)
class Target:
    backend: BackendName
    duckdb_path: Path
    pg_url: str | None

    def build(self, seeds: Path) -> BuildResult:
        return build_into(
            seeds,
            pipelines=["retail"],
            backend=self.backend,
            duckdb_path=self.duckdb_path,
            pg_url=self.pg_url,
        )

    def connect(self) -> ibis.BaseBackend:
        if self.backend == "postgres":
            return connect(pg_url=self.pg_url)
        return connect(duckdb_path=self.duckdb_path)

    def warehouse(self) -> Warehouse:
        if self.backend == "postgres":
            assert self.pg_url is not None
            return PostgresWarehouse(self.pg_url)
        return DuckDBWarehouse(self.duckdb_path)


@pytest.fixture(params=["duckdb", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """An empty warehouse of each engine."""
    if request.param == "postgres":
        return Target("postgres", tmp_path / "unused.duckdb", request.getfixturevalue("pg_url"))
    return Target("duckdb", tmp_path / "warehouse.duckdb", None)


def first_seeds_in(root: Path) -> Path:
    return write_seeds(root / "first")


def second_seeds_in(root: Path) -> Path:
    seeds = write_seeds(root / "second")
    sales = seeds / "retail" / "raw_sales.csv"
    sales.write_text(sales.read_text().rstrip("\n") + "\n" + EXTRA_SALE)
    return seeds


@pytest.fixture
def first_seeds(tmp_path: Path) -> Path:
    return first_seeds_in(tmp_path)


@pytest.fixture
def second_seeds(tmp_path: Path) -> Path:
    return second_seeds_in(tmp_path)


Published = tuple[Target, Path, dict[str, Any]]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def published(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Published]:
    """A warehouse holding one successful build of the reference data, its snapshot, and the
    seeds of a different second build. Tests using it must leave it unchanged."""
    root = tmp_path_factory.mktemp(f"published-{request.param}")
    with ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(fresh_database(request.getfixturevalue("pg_server_url")))
            built = Target("postgres", root / "unused.duckdb", url)
        else:
            built = Target("duckdb", root / "warehouse.duckdb", None)
        built.build(first_seeds_in(root))
        yield built, second_seeds_in(root), snapshot(built)


def snapshot(target: Target) -> dict[str, Any]:
    """Every published table, every column (run stamps included), plus the schemas present
    and the tables in each layer (a table staged in place and left behind would show)."""
    con = target.connect()
    try:
        tables: dict[str, Any] = {f"{s}.{t}": rows(con, s, t) for s, t in TABLES}
        tables["schemas"] = sorted(con.list_databases())
        tables["names"] = {s: sorted(con.list_tables(database=s)) for s, _ in TABLES}
        return tables
    finally:
        con.disconnect()


def revenue_of_501(target: Target, table_name: str) -> Any:
    con = target.connect()
    try:
        table = con.table(table_name, database="gold")
        [row] = (
            table.filter(table.product_id == 501).select("total_revenue").to_pyarrow().to_pylist()
        )
        return row["total_revenue"]
    finally:
        con.disconnect()


def failing_in_the_engine(original: Any) -> Any:
    """Builds a valid expression (the project check passes) that the engine cannot run."""

    def transform(*tables: ir.Table, run: Any) -> ir.Table:
        result: ir.Table = original(*tables, run=run)
        return result.mutate(product_id=ibis.literal("not a number").cast("int64"))

    return transform


def contract_breaking(original: Any) -> Any:
    def transform(*tables: ir.Table, run: Any) -> ir.Table:
        result: ir.Table = original(*tables, run=run)
        return result.mutate(total_revenue=-result.total_revenue)

    return transform


@pytest.mark.parametrize("failure", ["engine error", "contract violation"])
def test_a_failed_build_leaves_the_published_tables_exactly_as_they_were(
    published: Published, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    target, second_seeds, before = published
    last = PIPELINE.models["gold_product_performance"]  # built last, after everything else
    breaking = failing_in_the_engine if failure == "engine error" else contract_breaking
    broken = breaking(last.transform)
    monkeypatch.setitem(PIPELINE.models, last.name, dataclasses.replace(last, transform=broken))

    with pytest.raises(ModelFailed) as raised:
        target.build(second_seeds)

    assert raised.value.model == "gold.gold_product_performance"
    if failure == "contract violation":
        assert "contract violated" in str(raised.value)
        assert "total_revenue" in str(raised.value)
    assert snapshot(target) == before
    assert STAGING_SCHEMA not in before["schemas"]


def test_duckdb_drops_tables_a_killed_build_staged_in_place(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    path = tmp_path / "warehouse.duckdb"
    build_into(seeds, pipelines=["retail"], duckdb_path=path)
    left = DuckDBWarehouse(path)
    left._raw.execute(f'CREATE TABLE silver."{STAGED_IN_PLACE}retail__x" AS SELECT 1 AS x')
    left.close()

    build_into(seeds, pipelines=["retail"], duckdb_path=path)

    con = connect(duckdb_path=path)
    try:
        names = {s: con.list_tables(database=s) for s in ("bronze", "silver", "gold")}
    finally:
        con.disconnect()
    assert names == {
        "bronze": sorted(t for s, t in TABLES if s == "bronze"),
        "silver": sorted(t for s, t in TABLES if s == "silver"),
        "gold": sorted(t for s, t in TABLES if s == "gold"),
    }


def test_a_build_while_another_holds_the_lock_is_refused(published: Published) -> None:
    target, second_seeds, before = published
    holder = target.warehouse()
    try:
        with holder.lock(), pytest.raises(BackendUnavailable, match="another build"):
            target.build(second_seeds)
        with holder.lock():  # released with the block: it can be taken again
            pass
    finally:
        holder.close()
    assert snapshot(target) == before


def test_a_successful_build_replaces_the_tables_and_user_views_see_the_new_data(
    target: Target, first_seeds: Path, second_seeds: Path
) -> None:
    first = target.build(first_seeds)
    assert revenue_of_501(target, "gold_product_performance") == Decimal("2599.98")
    create_view = (
        "CREATE VIEW gold.best_sellers AS "
        "SELECT product_id, total_revenue FROM gold.gold_product_performance"
    )
    if target.backend == "postgres":
        assert target.pg_url is not None
        with psycopg.connect(target.pg_url, autocommit=True) as raw:
            raw.execute(create_view)
    else:
        con = target.connect()
        con.raw_sql(create_view)
        con.disconnect()

    second = target.build(second_seeds)

    assert second.published
    assert revenue_of_501(target, "gold_product_performance") == Decimal("3899.97")
    assert revenue_of_501(target, "best_sellers") == Decimal("3899.97")  # the view survived
    con = target.connect()
    try:
        # The grown sales file is a new batch: bronze keeps the first one's 10 rows beside it.
        assert con.table("bronze_sales", database="bronze").count().execute() == 10 + 11
        run_ids = {
            table: set(con.table(table, database=schema)._run_id.execute())
            for schema, table in TABLES
            if schema != "gold"  # no gold lineage
        }
        stamps = {
            table: set(con.table(table, database="gold")._gold_created_at.execute())
            for schema, table in TABLES
            if schema == "gold"
        }
        assert STAGING_SCHEMA not in con.list_databases()
    finally:
        con.disconnect()
    assert first.run_id != second.run_id
    # Rows carry the run that loaded their bronze line: silver sales all come from the new
    # batch (the latest wins), the first batch's sales lines are quarantined as superseded,
    # and customers and products, unchanged, were not loaded again.
    assert run_ids == {
        "bronze_sales": {first.run_id, second.run_id},
        "silver_sales_cleaned": {second.run_id},
        "quarantine": {first.run_id},
        "bronze_customers": {first.run_id},
        "bronze_products": {first.run_id},
        "silver_customers_cleaned": {first.run_id},
        "silver_products_cleaned": {first.run_id},
    }
    assert stamps == {table: {second.started_at} for table in stamps}


PASSWORD = "S3cr3t-Pa55w0rd"
UNREACHABLE = f"postgresql://alice:{PASSWORD}@127.0.0.1:1/warehouse"


@pytest.mark.parametrize("via", ["flag", "environment"])
def test_passwords_never_appear_in_cli_output(
    cli: CliRunner,
    tmp_path: Path,
    first_seeds: Path,
    monkeypatch: pytest.MonkeyPatch,
    via: str,
) -> None:
    arguments = [
        "build",
        "--backend",
        "postgres",
        "--pipeline",
        "retail",
        "--seeds",
        str(first_seeds),
    ]
    if via == "flag":
        arguments += ["--pg-url", UNREACHABLE]
    else:
        monkeypatch.setenv("MEDALLION_PG_URL", UNREACHABLE)
    result = cli.invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert "cannot connect to PostgreSQL" in result.output
    assert "alice:****@127.0.0.1:1" in result.output
    assert PASSWORD not in result.output
    run_results = (tmp_path / "target" / "run_results.json").read_text()
    assert PASSWORD not in run_results
