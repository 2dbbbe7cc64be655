"""The PostgreSQL bronze load streams DuckDB's CSV into COPY: a failure on either side must
end the load with its own error, never a hang and never a part of the file passed off as
the whole; the per-batch lineage sent as column defaults must reach every row and stay on
no table afterwards."""

import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import psycopg
import pytest

from medallion_ibis.backends.base import STAGING_SCHEMA
from medallion_ibis.backends.postgres import PostgresWarehouse
from medallion_ibis.backends.postgres_copy import csv_stream
from medallion_ibis.errors import InputFileError
from medallion_ibis.examples.retail.sources import SALES
from medallion_ibis.model import Lineage

ROWS = 1_000_000
"""Enough sales rows (51 MB) that DuckDB sends some before it meets the last line: it reads
the file in 16 MB buffers."""
LINEAGE = Lineage("run-7", datetime(2026, 11, 28, 17, 30, 1, 250000), "retail/raw_sales.csv", 7)


def write_sales(path: Path, rows: int, last_line: str | None = None) -> Path:
    lines = [",".join(SALES.columns)]
    lines += [f"{number},7,3,Desk,Furniture,1,9.99,2024-01-02,1,Oslo" for number in range(rows)]
    lines += [] if last_line is None else [last_line]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_all(query: str, received: list[int]) -> None:
    """Read the query's stream to its end, noting the size of every chunk."""
    with csv_stream(duckdb.connect(), query) as rows:
        while chunk := rows.read1(1 << 20):
            received.append(len(chunk))


def refuse_after_the_first_chunk(query: str) -> None:
    """Fail on the reading side, as a COPY the server rejects would."""
    with csv_stream(duckdb.connect(), query) as rows:
        assert rows.read1(1 << 16)
        raise ValueError("COPY refused")


@pytest.fixture
def warehouse(pg_url: str) -> Iterator[PostgresWarehouse]:
    warehouse = PostgresWarehouse(pg_url)
    warehouse.prepare()
    warehouse.stage_empty("sales", SALES)
    yield warehouse
    warehouse.close()


def staged_rows(pg_url: str) -> int:
    with psycopg.connect(pg_url) as con:
        row = con.execute(f'SELECT count(*) FROM "{STAGING_SCHEMA}".sales').fetchone()
    assert row is not None
    return int(row[0])


def test_a_parse_error_after_rows_were_streamed_names_the_line_and_keeps_nothing(
    tmp_path: Path, warehouse: PostgresWarehouse, pg_url: str
) -> None:
    broken = write_sales(tmp_path / "sales.csv", ROWS, last_line="1,2,3")
    query = f"SELECT * FROM read_csv('{broken}', header = true, all_varchar = true)"
    received: list[int] = []
    with pytest.raises(duckdb.Error):
        read_all(query, received)
    assert sum(received) > 0, "the error came before any row was sent: not the case under test"

    with pytest.raises(InputFileError, match=rf"{broken}:{ROWS + 2}: .*Expected Number of Col"):
        warehouse.load_source("sales", broken, SALES, LINEAGE)
    assert staged_rows(pg_url) == 0


def test_the_reading_side_failing_stops_the_export_and_raises_its_own_error() -> None:
    query = "SELECT range AS n, md5(range::text) AS h FROM range(100_000_000)"
    with pytest.raises(ValueError, match="COPY refused"):
        refuse_after_the_first_chunk(query)
    exporters = [thread for thread in threading.enumerate() if thread.name.endswith("export")]
    assert exporters == []


def test_every_row_gets_the_batch_lineage_and_no_default_stays_behind(
    tmp_path: Path, warehouse: PostgresWarehouse, pg_url: str
) -> None:
    sales = write_sales(tmp_path / "sales.csv", 3)
    assert warehouse.load_source("sales", sales, SALES, LINEAGE) == 3
    with psycopg.connect(pg_url) as con:
        lineage = con.execute(
            f"""SELECT DISTINCT _source_file, _source_system, _loaded_at, _run_id, _batch_id
                FROM "{STAGING_SCHEMA}".sales"""
        ).fetchall()
        defaults = con.execute(
            """SELECT column_name FROM information_schema.columns
               WHERE table_schema = %s AND table_name = 'sales' AND column_default IS NOT NULL""",
            (STAGING_SCHEMA,),
        ).fetchall()
    assert lineage == [
        (LINEAGE.source_file, SALES.system, LINEAGE.loaded_at, LINEAGE.run_id, LINEAGE.batch_id)
    ]
    assert defaults == []


def refuse_named_pipes(path: object) -> None:
    raise PermissionError(1, "Operation not permitted", str(path))


@pytest.mark.parametrize("platform", ["no mkfifo", "file system refuses it"])
def test_without_named_pipes_the_load_goes_through_a_file_with_the_same_rows(
    tmp_path: Path,
    warehouse: PostgresWarehouse,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
) -> None:
    if platform == "no mkfifo":
        monkeypatch.delattr(os, "mkfifo")
    else:
        monkeypatch.setattr(os, "mkfifo", refuse_named_pipes)
    sales = write_sales(tmp_path / "sales.csv", 1_000)
    assert warehouse.load_source("sales", sales, SALES, LINEAGE) == 1_000
    with psycopg.connect(pg_url) as con:
        lines = con.execute(
            f'SELECT min(_row_number), max(_row_number) FROM "{STAGING_SCHEMA}".sales'
        ).fetchone()
    assert lines == (2, 1_001)


@pytest.mark.parametrize(("cores", "threads"), [(8, 7), (2, 1), (1, 1), (None, 1)])
def test_the_reader_leaves_a_core_to_the_servers_copy(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, cores: int | None, threads: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    warehouse = PostgresWarehouse(pg_url)
    try:
        setting = warehouse._reader.con.execute("SELECT current_setting('threads')").fetchone()
    finally:
        warehouse.close()
    assert setting == (threads,)
