"""The run log in ``_medallion``: one row per run, per table built and per quarantine rule,
written with the publish; a failed run logged as failed without touching published tables.
On DuckDB and PostgreSQL, one successful and one failed build per engine."""

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pytest
from helpers import connect, fresh_database, rows
from retail_fixtures import write_seeds

from medallion_ibis.backends.base import METADATA_SCHEMA, Warehouse
from medallion_ibis.backends.duckdb import DuckDBWarehouse
from medallion_ibis.config import BackendName, Settings
from medallion_ibis.contracts import QUARANTINE_RULES
from medallion_ibis.errors import ConfigurationError, SourceShrank
from medallion_ibis.runner import Build, BuildResult, Progress, build
from medallion_ibis.selection import Node

SALES = "retail/raw_sales.csv"
BAD_SALES = (
    "1001,9,501,Laptop Pro,Electronics,1,1299.99,2024-01-20,101,New York\n"
    ",1,501,Laptop Pro,Electronics,1,1299.99,2024-01-20,101,Boston\n"
)
"""A repeated transaction id (the earlier line is quarantined) and a sale without one."""
SCREENED = ("bronze_customers", "bronze_products", "bronze_sales")


@dataclass(frozen=True)
class Logged:
    """A warehouse after one published build and one failed one."""

    con: ibis.BaseBackend
    published: BuildResult
    failed: BuildResult
    failure: str
    gold_before: list[tuple[Any, ...]]


def settings_for(backend: BackendName, seeds: Path, root: Path, url: str) -> Settings:
    return Settings(
        backend=backend,
        pipelines=("retail",),
        seeds=seeds,
        duckdb_path=root / "warehouse.duckdb",
        pg_url=url,
    )


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def logged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Logged]:
    root = tmp_path_factory.mktemp(f"runlog-{request.param}")
    with ExitStack() as stack:
        url = ""
        if request.param == "postgres":
            url = stack.enter_context(fresh_database(request.getfixturevalue("pg_server_url")))
        seeds = write_seeds(root / "good")
        sales = seeds / SALES
        sales.write_text(sales.read_text().rstrip("\n") + "\n" + BAD_SALES)
        published = build(settings_for(request.param, seeds, root, url))
        con = connect(duckdb_path=root / "warehouse.duckdb", pg_url=url or None)
        stack.callback(con.disconnect)
        gold_before = rows(con, "gold", "gold_daily_sales_summary")
        shrunk = write_seeds(root / "shrunk")
        lines = (shrunk / SALES).read_text().splitlines(keepends=True)
        (shrunk / SALES).write_text("".join(lines[:2]))
        failing = settings_for(request.param, shrunk, root, url)
        runner = Build(failing, Progress())
        with pytest.raises(SourceShrank) as stopped:
            runner.run()
        yield Logged(con, published, runner.result, str(stopped.value), gold_before)


def records(con: ibis.BaseBackend, table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        con.table(table, database=METADATA_SCHEMA).to_pyarrow().to_pylist()
    )
    return found


def test_one_row_per_run_success_then_error(logged: Logged) -> None:
    runs = sorted(records(logged.con, "runs"), key=lambda run: run["started_at"])
    assert [(run["run_id"], run["status"]) for run in runs] == [
        (logged.published.run_id, "success"),
        (logged.failed.run_id, "error"),
    ]
    first, second = runs
    assert first["pipelines"] == "retail"
    assert first["backend"] == logged.published.backend
    assert json.loads(first["as_of"]) == {"retail": logged.published.as_of["retail"].isoformat()}
    assert first["started_at"] == logged.published.started_at
    assert first["finished_at"] >= first["started_at"]
    assert first["message"] is None
    assert second["message"] == logged.failure
    assert "--allow-shrink" in second["message"]


def test_one_row_per_table_built_with_its_rows(logged: Logged) -> None:
    tables = records(logged.con, "run_tables")
    published = [
        (f"{t['table_schema']}.{t['table_name']}", t["status"], t["rows"])
        for t in tables
        if t["run_id"] == logged.published.run_id
    ]
    expected = [
        (step.node.removesuffix("[retail]"), "success", step.rows)
        for step in logged.published.steps
    ]
    assert sorted(published) == sorted(expected)
    assert len(published) == 10


def test_a_failed_run_logs_the_tables_it_got_to(logged: Logged) -> None:
    """Bronze sales is the first step and the one that failed; nothing after it ran."""
    failed = [
        (t["table_name"], t["status"])
        for t in records(logged.con, "run_tables")
        if t["run_id"] == logged.failed.run_id
    ]
    assert failed == [("bronze_sales", "error")]


def test_quality_counts_every_rule_of_every_screened_source(logged: Logged) -> None:
    quality = {
        (q["source_table"], q["rule"]): q["rows"]
        for q in records(logged.con, "quality")
        if q["run_id"] == logged.published.run_id
    }
    assert set(quality) == {(source, rule) for source in SCREENED for rule in QUARANTINE_RULES}
    quarantine = logged.con.table("quarantine", database="silver")
    counted = quarantine.group_by(["source_table", "rule"]).aggregate(n=quarantine.count())
    expected = {(r["source_table"], r["rule"]): r["n"] for r in counted.to_pyarrow().to_pylist()}
    assert {key: n for key, n in quality.items() if n} == expected
    assert expected[("bronze_sales", "duplicate_key")] == 1
    assert expected[("bronze_sales", "missing_key")] == 1


def test_the_failed_run_left_published_tables_alone(logged: Logged) -> None:
    assert not logged.failed.published
    assert rows(logged.con, "gold", "gold_daily_sales_summary") == logged.gold_before
    assert [q for q in records(logged.con, "quality") if q["run_id"] == logged.failed.run_id] == []


def unpublished_selection(tmp_path: Path) -> Build:
    """A build of one gold table whose inputs were never published: it stops right after
    preparing the warehouse, inside the run."""
    settings = settings_for("duckdb", write_seeds(tmp_path / "seeds"), tmp_path, "")
    return Build(settings, Progress(), selection={Node("retail", "gold_product_performance")})


def test_a_run_stopped_inside_the_warehouse_is_logged(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="never been published") as stopped:
        unpublished_selection(tmp_path).run()
    con = connect(duckdb_path=tmp_path / "warehouse.duckdb")
    try:
        [run] = records(con, "runs")
    finally:
        con.disconnect()
    assert (run["status"], run["message"]) == ("error", str(stopped.value))


def test_a_failing_log_never_hides_the_error_that_stopped_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Warehouse, ledger: object) -> None:
        raise RuntimeError("the run log is broken")

    monkeypatch.setattr(DuckDBWarehouse, "append_ledger", broken)
    with pytest.raises(ConfigurationError, match="never been published"):
        unpublished_selection(tmp_path).run()
