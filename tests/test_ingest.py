"""CSV → bronze: values kept as text exactly as received, lineage on every row, and files that
cannot be read are refused with the file and line named (exit code 2 from the CLI)."""

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pytest
from click.testing import CliRunner
from helpers import build_into, connect, fresh_database
from retail_fixtures import (
    REFERENCE_RETAIL,
    read_csv_rows,
    table_records,
    write_seeds,
)

from medallion_ibis import ingest
from medallion_ibis.cli import main
from medallion_ibis.errors import InputFileError
from medallion_ibis.examples.retail.sources import CUSTOMERS, PRODUCTS, SALES
from medallion_ibis.ingest import explain_csv_error, utf8_text
from medallion_ibis.runner import BuildResult

FIELD_SEPARATOR = "\x1f"
TRICKY_SALES = (
    '2001,1,501,"Laptop, ""Pro""",Electronics,1,10.00,2024-01-20,,  Boston  \n'
    '2002,2,502,Café Crème,Électronique,1,5,2024-01-20,102,"Zürich"\n'
    '2003,3,503,"a,b",c,1,5,2024-01-20,103,x\n'
    '2004,3,503,a,"b,c",1,5,2024-01-20,103,x\n'
    # a quoted line break, last so that record numbers and file lines still agree
    '2005,4,504,"two\nlines",Furniture,1,5,2024-01-20,104,Denver\n'
)


def tricky_seeds(root: Path) -> Path:
    """The reference files, with awkward but valid CSV appended to the sales file."""
    seeds = write_seeds(root)
    sales = seeds / SALES.path
    reference = sales.read_text(encoding="utf-8")
    sales.write_text(reference.rstrip("\n") + "\n" + TRICKY_SALES, encoding="utf-8")
    return seeds


Tables = dict[str, list[dict[str, Any]]]
Built = tuple[BuildResult, Tables]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tricky_seeds(tmp_path_factory.mktemp("ingest") / "seeds")


@pytest.fixture(scope="module")
def module_pg_url(pg_server_url: str) -> Iterator[str]:
    with fresh_database(pg_server_url) as url:
        yield url


def bronze_of(con: ibis.BaseBackend) -> Tables:
    """Bronze rows by table in file order; each table's column types under ``"<table>:types"``."""
    tables: Tables = {}
    for source in (SALES, CUSTOMERS, PRODUCTS):
        rows = table_records(con, "bronze", source.table)
        tables[source.table] = sorted(rows, key=lambda row: row["_row_number"])
        schema = con.table(source.table, database="bronze").schema()
        tables[f"{source.table}:types"] = [{name: str(schema[name]) for name in schema}]
    con.disconnect()
    return tables


@pytest.fixture(scope="module")
def duck_bronze(seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    path = tmp_path_factory.mktemp("ingest-duck") / "warehouse.duckdb"
    result = build_into(seeds, pipelines=["retail"], duckdb_path=path)
    return result, bronze_of(connect(duckdb_path=path))


@pytest.fixture(scope="module")
def pg_bronze(seeds: Path, module_pg_url: str) -> Built:
    result = build_into(seeds, pipelines=["retail"], backend="postgres", pg_url=module_pg_url)
    return result, bronze_of(connect(pg_url=module_pg_url))


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(
    request: pytest.FixtureRequest,
) -> Built:
    fixture = "duck_bronze" if request.param == "duckdb" else "pg_bronze"
    value: Built = request.getfixturevalue(fixture)
    return value


@pytest.mark.parametrize("source", [SALES, CUSTOMERS, PRODUCTS], ids=lambda s: s.table)
def test_bronze_holds_every_value_as_the_csv_module_reads_it(
    built: Built, seeds: Path, source: Any
) -> None:
    """Text exactly as received (no trimming, no case change); an empty field is NULL."""
    _, tables = built
    expected = [
        [value if value != "" else None for value in row]
        for row in read_csv_rows(seeds / source.path)
    ]
    loaded = [[row[column] for column in source.columns] for row in tables[source.table]]
    assert loaded == expected
    [types] = tables[f"{source.table}:types"]
    assert {column: types[column] for column in source.columns} == dict.fromkeys(
        source.columns, "string"
    )


def test_awkward_values_arrive_unchanged(
    built: Built,
) -> None:
    _, tables = built
    sales = {row["transaction_id"]: row for row in tables["bronze_sales"]}
    assert sales["1010"]["product_name"] == 'Monitor 24"'  # a bare quote in an unquoted field
    assert sales["2001"]["product_name"] == 'Laptop, "Pro"'
    assert sales["2001"]["store_location"] == "  Boston  "
    assert sales["2001"]["sales_rep_id"] is None
    assert (sales["2002"]["product_name"], sales["2002"]["store_location"]) == (
        "Café Crème",
        "Zürich",
    )
    assert sales["2005"]["product_name"] == "two\nlines"
    products = {row["product_id"]: row for row in tables["bronze_products"]}
    assert products["508"]["product_name"] == 'Monitor 24"'


def test_lineage_columns_name_the_file_line_run_and_load_time(
    built: Built,
) -> None:
    result, tables = built
    for source in (SALES, CUSTOMERS, PRODUCTS):
        rows = tables[source.table]
        assert [row["_row_number"] for row in rows] == list(range(2, 2 + len(rows)))
        assert {
            (row["_source_file"], row["_source_system"], row["_run_id"], row["_loaded_at"])
            for row in rows
        } == {(source.path, "retail_pos", result.run_id, result.started_at)}
    first_sale = tables["bronze_sales"][0]
    assert (first_sale["_row_number"], first_sale["transaction_id"]) == (2, "1001")


def test_row_hash_is_the_md5_of_the_values_joined_by_a_unit_separator(
    built: Built,
) -> None:
    _, tables = built
    for source in (SALES, CUSTOMERS, PRODUCTS):
        for row in tables[source.table]:
            text = FIELD_SEPARATOR.join(row[column] or "" for column in source.columns)
            assert row["_row_hash"] == hashlib.md5(text.encode("utf-8")).hexdigest(), row
    hashes = {row["transaction_id"]: row["_row_hash"] for row in tables["bronze_sales"]}
    assert hashes["2003"] != hashes["2004"]


def test_duckdb_and_postgres_land_identical_bronze_rows_and_hashes(
    duck_bronze: Built,
    pg_bronze: Built,
) -> None:
    def comparable(tables: Tables) -> Tables:
        return {
            name: [
                {k: v for k, v in row.items() if k not in ("_run_id", "_loaded_at")} for row in rows
            ]
            for name, rows in tables.items()
        }

    assert comparable(duck_bronze[1]) == comparable(pg_bronze[1])


# ---------------------------------------------------------------------------------------------
# files that cannot be read


def test_a_missing_file_is_refused_before_the_warehouse_is_touched(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    missing = seeds / PRODUCTS.path
    missing.unlink()
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(InputFileError) as raised:
        build_into(seeds, pipelines=["retail"], duckdb_path=warehouse)
    assert str(missing) in str(raised.value)
    assert "file not found" in str(raised.value)
    assert not warehouse.exists()


def test_a_wrong_header_names_the_missing_and_unexpected_columns(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    sales = seeds / SALES.path
    sales.write_text(sales.read_text().replace(",quantity,", ",qty,", 1))
    with pytest.raises(InputFileError) as raised:
        build_into(seeds, pipelines=["retail"], duckdb_path=tmp_path / "w.duckdb")
    message = str(raised.value)
    assert f"{sales}:1" in message
    assert "missing: quantity" in message
    assert "unexpected: qty" in message


def test_a_header_in_another_order_is_refused(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    customers = seeds / CUSTOMERS.path
    lines = customers.read_text().splitlines()
    lines[0] = lines[0].replace("first_name,last_name", "last_name,first_name")
    customers.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match="same names in another order"):
        build_into(seeds, pipelines=["retail"], duckdb_path=tmp_path / "w.duckdb")


def seeds_with_long_row(root: Path) -> Path:
    """Reference files where file line 4 of the sales carries an eleventh field."""
    seeds = write_seeds(root)
    sales = seeds / SALES.path
    lines = sales.read_text().splitlines()
    lines[3] += ",surplus"
    sales.write_text("\n".join(lines) + "\n")
    return seeds


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_a_row_with_too_many_fields_is_refused_naming_file_and_line(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    seeds = seeds_with_long_row(tmp_path / "seeds")
    pg_url = request.getfixturevalue("module_pg_url") if backend == "postgres" else None
    with pytest.raises(InputFileError) as raised:
        build_into(
            seeds,
            pipelines=["retail"],
            backend="postgres" if backend == "postgres" else "duckdb",
            duckdb_path=tmp_path / "w.duckdb",
            pg_url=pg_url,
        )
    message = str(raised.value)
    assert message.startswith(f"{seeds / SALES.path}:4: ")
    assert "surplus" in message
    assert "\n" not in message  # one sentence, not DuckDB's multi-paragraph report


def test_a_row_with_too_few_fields_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    products = seeds / PRODUCTS.path
    lines = products.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0]
    products.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match=rf"^{products}:3: "):
        build_into(seeds, pipelines=["retail"], duckdb_path=tmp_path / "w.duckdb")


def test_a_csv_error_without_a_line_is_reported_by_its_first_line_naming_the_file() -> None:
    error = duckdb.InvalidInputException(
        "Invalid Input Error: unterminated quote at the end of the file\n\nPossible Solution: ..."
    )
    explained = explain_csv_error(Path("seeds/retail/raw_sales.csv"), error)
    assert str(explained) == (
        "seeds/retail/raw_sales.csv: cannot be read as CSV: "
        "Invalid Input Error: unterminated quote at the end of the file"
    )


def break_missing(seeds: Path) -> str:
    (seeds / PRODUCTS.path).unlink()
    return "file not found"


def break_header(seeds: Path) -> str:
    sales = seeds / SALES.path
    sales.write_text(sales.read_text().replace("store_location", "store", 1))
    return "missing: store_location; unexpected: store"


def break_row(seeds: Path) -> str:
    seeds_with_long_row(seeds.parent / "long")
    (seeds / SALES.path).write_bytes((seeds.parent / "long" / SALES.path).read_bytes())
    return f"{seeds / SALES.path}:4:"


@pytest.mark.parametrize("breakage", [break_missing, break_header, break_row])
def test_unreadable_input_exits_2_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, breakage: Any
) -> None:
    for name in [name for name in os.environ if name.startswith("MEDALLION_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    seeds = write_seeds(tmp_path / "seeds")
    expected = breakage(seeds)
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--pipeline",
            "retail",
            "--seeds",
            str(seeds),
            "--duckdb-path",
            str(tmp_path / "w.duckdb"),
            "--target-dir",
            str(tmp_path / "target"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_reference_files_are_what_the_suite_expects() -> None:
    """Guard for the assertions above: the bare quote is really unquoted in the file."""
    assert 'Monitor 24",' in (REFERENCE_RETAIL / "raw_sales.csv").read_text()
    assert '508,Monitor 24",' in (REFERENCE_RETAIL / "raw_products.csv").read_text()


def test_a_utf8_file_is_read_in_place(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_bytes("a,b\nCafé,1\n".encode())
    for spelling in ("utf-8", "UTF8"):
        with utf8_text(path, spelling) as readable:
            assert readable == path


@pytest.mark.parametrize(
    ("encoding", "chunk_bytes"),
    [("cp1252", 1 << 24), ("cp1252", 3), ("euc-jp", 3)],
    ids=["cp1252", "cp1252-small-chunks", "euc-jp-characters-across-chunks"],
)
def test_another_encoding_is_read_through_a_utf8_copy_with_the_same_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str, chunk_bytes: int
) -> None:
    """Line ends stay as they were (CRLF and LF), so the copy's line numbers are the file's;
    with small chunks, a two-byte character is split between two reads."""
    monkeypatch.setattr(ingest, "_SCAN_BYTES", chunk_bytes)
    text = (
        "name,city\r\nJosé,Sète\r\nLéa,Zürich\n" if encoding == "cp1252" else "名前,町\n山田,東京\n"
    )
    path = tmp_path / "customers.csv"
    path.write_bytes(text.encode(encoding))
    with utf8_text(path, encoding) as readable:
        assert readable != path
        assert readable.read_bytes() == text.encode("utf-8")
    assert not readable.exists()


def test_another_encoding_is_decoded_a_bounded_chunk_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays bounded whatever the file's size: no read takes more than _SCAN_BYTES."""
    monkeypatch.setattr(ingest, "_SCAN_BYTES", 4)
    text = "name,city\r\nJosé,Sète\r\n"
    path = tmp_path / "customers.csv"
    path.write_bytes(text.encode("cp1252"))
    pieces = list(ingest._decoded(path, "cp1252"))
    assert "".join(pieces) == text
    assert max(len(piece) for piece in pieces) == 4  # one byte a character in cp1252


def test_the_utf8_copy_does_not_depend_on_the_locale(tmp_path: Path) -> None:
    """Written as UTF-8 even where the locale's encoding is ASCII (C, with Python's coercion
    to UTF-8 turned off), in a process of its own that imports this same package."""
    path = tmp_path / "customers.csv"
    text = "name,city\nJosé,Sète\n"
    path.write_bytes(text.encode("cp1252"))
    script = (
        "import locale, sys\n"
        "from pathlib import Path\n"
        "from medallion_ibis.ingest import utf8_text\n"
        "assert locale.getpreferredencoding(False) != 'UTF-8'\n"
        "with utf8_text(Path(sys.argv[1]), 'cp1252') as copy:\n"
        "    sys.stdout.buffer.write(copy.read_bytes())\n"
    )
    ascii_locale = {"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    env = {**os.environ, **ascii_locale, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], env=env, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == text.encode("utf-8")


@pytest.mark.parametrize(
    ("problem", "said"),
    [
        (
            "The CSV Parser state machine reached an invalid state.",
            "The CSV Parser state machine reached an invalid state",
        ),
        ("Value too long for column X.", "Value too long for column X"),
        ("...a value cut short", "...a value cut short"),
    ],
)
def test_only_a_full_stop_at_the_end_of_duckdbs_problem_is_dropped(
    tmp_path: Path, problem: str, said: str
) -> None:
    sales = tmp_path / "sales.csv"
    sales.write_text("a,b\n1,2\n3,4\n")
    error = duckdb.InvalidInputException(
        f"Invalid Input Error: CSV Error on Line: 3\nOriginal Line: 3,4\n{problem}\n\n"
        "Possible fixes:\n* ..."
    )
    assert str(explain_csv_error(sales, error)).endswith(f":3: {said} in line '3,4'")
