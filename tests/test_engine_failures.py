"""Failures of the server, the account or the feed end in one sentence and the right exit code,
never in a traceback or a hang: no answer, a lock held too long, a missing privilege, a killed
connection, a source that lost most of its rows."""

import dataclasses
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import psycopg
import pytest
from click.testing import CliRunner, Result
from helpers import build_into
from retail_fixtures import write_seeds

from medallion_ibis.cli import main
from medallion_ibis.config import Settings
from medallion_ibis.errors import SourceShrank
from medallion_ibis.examples.retail import PIPELINE
from medallion_ibis.runner import build

CLV = "gold.gold_customer_lifetime_value"
SALES_HEADER = (
    "transaction_id,customer_id,product_id,product_name,category,quantity,unit_price,"
    "transaction_date,sales_rep_id,store_location\n"
)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    return write_seeds(tmp_path / "seeds")


def build_cli(cli: CliRunner, seeds: Path, *arguments: str) -> Result:
    return cli.invoke(main, ["build", "--pipeline", "retail", "--seeds", str(seeds), *arguments])


def one_sentence(result: Result) -> str:
    """The error line of a failed build: one line, no traceback."""
    assert "Traceback" not in result.output
    [error] = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    return error


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on which something accepts TCP connections and never says a word (for at most
    30 seconds, so a missing timeout fails the test instead of hanging it)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)
    accepted: list[socket.socket] = []

    def accept() -> None:
        try:
            while True:
                connection, _ = listener.accept()
                accepted.append(connection)
        except OSError:
            return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in accepted:
        connection.close()
    thread.join(timeout=5)


def test_a_server_that_never_answers_is_given_up_on_after_the_connect_timeout(
    cli: CliRunner, seeds: Path, silent_server: int
) -> None:
    url = f"postgresql://etl:secret@127.0.0.1:{silent_server}/warehouse"
    result = build_cli(
        cli, seeds, "--backend", "postgres", "--pg-url", url, "--connect-timeout", "2"
    )

    assert result.exit_code == 2, result.output
    assert one_sentence(result) == (
        f"Error: cannot connect to PostgreSQL at postgresql://etl:****@127.0.0.1:{silent_server}"
        "/warehouse: no answer within 2s (connect-timeout); is the host and port a PostgreSQL "
        "server?"
    )


@pytest.fixture
def published_pg(seeds: Path, pg_url: str) -> str:
    build_into(seeds, pipelines=["retail"], backend="postgres", pg_url=pg_url)
    return pg_url


def test_publishing_behind_a_long_reader_gives_up_after_the_lock_timeout(
    cli: CliRunner, seeds: Path, published_pg: str
) -> None:
    reader = psycopg.connect(published_pg)
    closer = threading.Timer(60, reader.close)  # a missing timeout fails, it does not hang
    closer.start()
    try:
        reader.execute(f"SELECT count(*) FROM {CLV}").fetchone()  # holds ACCESS SHARE
        stamp = reader.execute(f"SELECT max(_gold_created_at) FROM {CLV}").fetchone()
        result = build_cli(
            cli, seeds, "--backend", "postgres", "--pg-url", published_pg, "--lock-timeout", "1"
        )
        reader.rollback()
    finally:
        closer.cancel()
        reader.close()

    assert result.exit_code == 2, result.output
    assert one_sentence(result) == (
        f"Error: publishing waited more than 1s (lock-timeout) for other sessions to release "
        f"{CLV}: a long query or an open transaction holds it; nothing was published, retry "
        "when it has finished"
    )
    with psycopg.connect(published_pg) as con:
        assert con.execute(f"SELECT max(_gold_created_at) FROM {CLV}").fetchone() == stamp


@pytest.fixture
def user_without_create(pg_url: str) -> Iterator[str]:
    """A login role that may connect but not create schemas; its URL."""
    name = f"reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {name} LOGIN")
    base, _, database = pg_url.rpartition("/")
    yield base.replace("postgres@", f"{name}@", 1) + "/" + database
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"DROP OWNED BY {name}")
        admin.execute(f"DROP ROLE {name}")


def test_a_user_without_create_gets_a_sentence_naming_the_privilege(
    cli: CliRunner, seeds: Path, user_without_create: str
) -> None:
    result = build_cli(cli, seeds, "--backend", "postgres", "--pg-url", user_without_create)

    assert result.exit_code == 2, result.output
    error = one_sentence(result)
    assert error.startswith("Error: PostgreSQL user reader_")
    assert "lacks a privilege the build needs (permission denied for database" in error
    assert "it needs CREATE on the database" in error


def killing_every_other_session(pg_url: str, original: Any) -> Any:
    """A model that, while the build runs, has an administrator end the build's sessions."""

    def transform(*tables: ir.Table, run: Any) -> ir.Table:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        result: ir.Table = original(*tables, run=run)
        return result

    return transform


def test_a_connection_killed_mid_build_is_reported_as_such(
    cli: CliRunner, seeds: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = PIPELINE.models["gold_customer_lifetime_value"]
    killer = killing_every_other_session(pg_url, model.transform)
    monkeypatch.setitem(PIPELINE.models, model.name, dataclasses.replace(model, transform=killer))

    result = build_cli(cli, seeds, "--backend", "postgres", "--pg-url", pg_url)

    assert result.exit_code == 2, result.output
    error = one_sentence(result)
    assert error.startswith(
        f"Error: lost the connection to PostgreSQL at {pg_url} during the build"
    )
    assert error.endswith("; nothing was published")


def empty_sales(seeds: Path) -> Path:
    (seeds / "retail" / "raw_sales.csv").write_text(SALES_HEADER)
    return seeds


def test_a_new_version_of_a_file_that_lost_most_of_its_rows_is_not_published(
    cli: CliRunner, seeds: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    build_into(seeds, pipelines=["retail"], duckdb_path=warehouse)

    result = build_cli(
        cli, empty_sales(seeds), "--duckdb-path", str(warehouse), "--as-of", "2024-01-31"
    )

    assert result.exit_code == 1, result.output
    assert one_sentence(result) == (
        f"Error: {seeds / 'retail' / 'raw_sales.csv'} has 0 rows but its previous version "
        "(batch 1) had 10: a file that lost more than half its rows is probably a broken "
        "export, so nothing was published; if the data really shrank, build again with "
        "--allow-shrink"
    )
    again = build_cli(
        cli,
        seeds,
        "--duckdb-path",
        str(warehouse),
        "--as-of",
        "2024-01-31",
        "--allow-shrink",
    )
    assert again.exit_code == 0, again.output
    assert "Published 10 tables" in again.output


def test_allow_shrink_publishes_a_source_that_really_shrank(seeds: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    build_into(seeds, pipelines=["retail"], duckdb_path=warehouse)
    sales = seeds / "retail" / "raw_sales.csv"
    lines = sales.read_text().splitlines(keepends=True)
    sales.write_text("".join(lines[:5]))  # 4 of 10 rows: fewer than half
    settings = Settings(pipelines=("retail",), seeds=seeds, duckdb_path=warehouse)

    with pytest.raises(
        SourceShrank, match=r"has 4 rows but its previous version \(batch 1\) had 10"
    ):
        build(settings)
    result = build(dataclasses.replace(settings, allow_shrink=True))

    assert result.published
    assert [step.rows for step in result.steps if step.node == "bronze.bronze_sales"] == [4]


def test_half_the_rows_is_not_a_shrink(seeds: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    build_into(seeds, pipelines=["retail"], duckdb_path=warehouse)
    sales = seeds / "retail" / "raw_sales.csv"
    sales.write_text("".join(sales.read_text().splitlines(keepends=True)[:6]))  # 5 of 10

    assert build_into(seeds, pipelines=["retail"], duckdb_path=warehouse).published


def test_an_empty_first_feed_without_as_of_asks_for_it(cli: CliRunner, seeds: Path) -> None:
    result = build_cli(cli, empty_sales(seeds))

    assert result.exit_code == 2, result.output
    assert one_sentence(result) == (
        "Error: pipeline retail has no valid dated records to take the as-of date from; pass "
        "--as-of YYYY-MM-DD"
    )
