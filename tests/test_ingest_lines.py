"""``_row_number`` is the physical line a record starts on, whatever the file's shape: blank
lines between records, blank lines inside quoted values, CRLF line ends. And bytes no engine
can store (NUL) are refused the same way on every engine, naming file and line."""

from datetime import datetime
from pathlib import Path

import ibis
import pytest
from helpers import build_into
from retail_fixtures import write_seeds

from medallion_ibis.errors import InputFileError
from medallion_ibis.examples.retail.sources import SALES
from medallion_ibis.ingest import (
    CSV_ERRORS,
    bronze_schema,
    explain_csv_error,
    read_source,
    scan_raw_lines,
)
from medallion_ibis.model import Lineage, Source

PAIR = Source(table="pairs", path="pairs.csv", columns=("key", "text"), system="test")
LINEAGE = Lineage(run_id="run", loaded_at=datetime(2024, 1, 1), source_file=PAIR.path, batch_id=1)


def line_numbers(tmp_path: Path, content: bytes) -> dict[str, int]:
    """Each record's key → its ``_row_number``, read as every engine reads it."""
    path = tmp_path / PAIR.path
    path.write_bytes(content)
    con = ibis.duckdb.connect()
    rows = read_source(con, path, PAIR, LINEAGE).to_pyarrow().to_pylist()
    return {row["key"]: row["_row_number"] for row in rows}


@pytest.mark.parametrize(
    "content", [b"key,text\na,1\n", b"key,text\n\na,1\n"], ids=["no-blank-line", "a-blank-line"]
)
def test_the_rows_read_have_the_bronze_columns_and_types(tmp_path: Path, content: bytes) -> None:
    """Every engine's bronze table is made from this expression: its schema is the contract
    (a batch id typed by its value, say int8, would differ from one batch to the next)."""
    path = tmp_path / PAIR.path
    path.write_bytes(content)
    rows = read_source(ibis.duckdb.connect(), path, PAIR, LINEAGE)
    assert rows.schema() == bronze_schema(PAIR)


def test_blank_lines_between_records_are_counted(tmp_path: Path) -> None:
    content = b"key,text\n\na,1\n\nb,2\n\nc,3\n\nd,4\n"
    assert line_numbers(tmp_path, content) == {"a": 3, "b": 5, "c": 7, "d": 9}


def test_several_blank_lines_in_a_row_and_at_the_end(tmp_path: Path) -> None:
    content = b"key,text\n\n\n\na,1\nb,2\n\n\nc,3\n\n\n"
    assert line_numbers(tmp_path, content) == {"a": 5, "b": 6, "c": 9}


def test_blank_lines_inside_quoted_values_are_part_of_the_record(tmp_path: Path) -> None:
    content = b'key,text\na,"x\n\ny"\n\nb,"\n\n\nz"\nc,3\n\nd,"p\n"\ne,5\n'
    # a: 2-4; blank 5; b: 6-9; c: 10; blank 11; d: 12-13; e: 14
    assert line_numbers(tmp_path, content) == {"a": 2, "b": 6, "c": 10, "d": 12, "e": 14}


def test_blank_lines_only_inside_quoted_values_shift_nothing(tmp_path: Path) -> None:
    content = b'key,text\na,"x\n\ny"\nb,2\nc,"\n\n"\nd,4\n'
    # a: 2-4; b: 5; c: 6-8; d: 9
    assert line_numbers(tmp_path, content) == {"a": 2, "b": 5, "c": 6, "d": 9}


def test_a_record_whose_first_value_opens_with_a_blank_line(tmp_path: Path) -> None:
    content = b'key,text\n"\n\na",1\n\nb,2\n'
    # "\n\na": 2-4; blank 5; b: 6
    assert line_numbers(tmp_path, content) == {"\n\na": 2, "b": 6}


def test_crlf_blank_lines_are_counted(tmp_path: Path) -> None:
    content = b'key,text\r\n\r\na,1\r\nb,"two\r\n\r\nlines"\r\n\r\nc,3\r\n'
    assert line_numbers(tmp_path, content) == {"a": 3, "b": 4, "c": 8}


def test_a_file_without_blank_lines_keeps_counting_quoted_line_breaks(tmp_path: Path) -> None:
    content = b'key,text\na,"one\ntwo"\nb,2\nc,"x\ny\nz"\nd,4\n'
    assert line_numbers(tmp_path, content) == {"a": 2, "b": 4, "c": 5, "d": 8}


@pytest.mark.parametrize(
    "content",
    [
        b'key,text\na,"1\n\n2"\nb,2\n\nc,3,X\n',
        b'key,text\n\na,"one\ntwo"\n\n\nc,3,X\nd,4\n',
        b'key,text\r\na,"one\r\ntwo"\r\nc,3,X\r\n',
        b"key,text\na,1\nc,3,X\nc,3,X\n",
    ],
    ids=[
        "quoted-line-breaks-before",
        "blank-lines-and-quoted-line-breaks-before",
        "crlf-and-quoted-line-breaks-before",
        "the-same-bad-line-twice",
    ],
)
def test_an_error_names_the_physical_line(tmp_path: Path, content: bytes) -> None:
    """DuckDB's own line number leaves out line breaks inside quoted values; the line is found
    by its text (only the line end stripped: the text itself ends in a letter), and of two
    equal bad lines the first is named."""
    path = tmp_path / PAIR.path
    path.write_bytes(content)
    lines = [line.removesuffix(b"\r") for line in content.split(b"\n")]
    expected = lines.index(b"c,3,X") + 1
    with pytest.raises(InputFileError, match=rf"^{path}:{expected}: .* in line 'c,3,X'$"):
        build_table(path)


def build_table(path: Path) -> None:
    """Land ``path`` as a bronze table on DuckDB, as the DuckDB backend does."""
    con = ibis.duckdb.connect()
    try:
        con.create_table("bronze", read_source(con, path, PAIR, LINEAGE))
    except CSV_ERRORS as error:
        raise explain_csv_error(path, error) from None


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_a_bad_row_after_blank_lines_is_an_input_error_on_every_engine(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    seeds = write_seeds(tmp_path / "seeds")
    sales = seeds / SALES.path
    lines = sales.read_text().splitlines()
    lines[2] += "\n"
    lines[4] += ",surplus"
    sales.write_text("\n".join(lines) + "\n")
    pg_url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    with pytest.raises(InputFileError, match=rf"^{sales}:6: .*surplus"):
        build_into(
            seeds,
            pipelines=["retail"],
            backend="postgres" if backend == "postgres" else "duckdb",
            duckdb_path=tmp_path / "w.duckdb",
            pg_url=pg_url,
        )


def seeds_with_nul(root: Path) -> Path:
    """Reference retail files whose sales line 3 carries a NUL byte inside a product name."""
    seeds = write_seeds(root)
    sales = seeds / SALES.path
    lines = sales.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b",", b"\x00X,", 4).replace(b"\x00X,", b",", 3)
    sales.write_bytes(b"\n".join(lines))
    assert sales.read_bytes().count(b"\x00") == 1
    return seeds


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_a_nul_byte_is_refused_naming_file_and_line_on_every_engine(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    seeds = seeds_with_nul(tmp_path / "seeds")
    pg_url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    with pytest.raises(InputFileError) as raised:
        build_into(
            seeds,
            pipelines=["retail"],
            backend="postgres" if backend == "postgres" else "duckdb",
            duckdb_path=tmp_path / "w.duckdb",
            pg_url=pg_url,
        )
    message = str(raised.value)
    assert message.startswith(f"{seeds / SALES.path}:3: ")
    assert "NUL" in message


def test_of_several_nul_bytes_the_first_is_named(tmp_path: Path) -> None:
    path = tmp_path / PAIR.path
    path.write_bytes(b"key,text\na,1\nb,\x00\nc,3\nd,\x00\n")
    with pytest.raises(InputFileError) as raised:
        scan_raw_lines(path)
    assert str(raised.value) == (
        f"{path}:3: contains a NUL byte (\\x00), which no database can store as text; "
        "remove it from the file"
    )


def test_an_empty_file_has_no_empty_lines_and_a_one_byte_file_is_scanned(tmp_path: Path) -> None:
    """An empty file cannot be memory-mapped, so it is answered before; one byte can be."""
    path = tmp_path / PAIR.path
    path.write_bytes(b"")
    assert scan_raw_lines(path) == []
    path.write_bytes(b"\x00")
    with pytest.raises(InputFileError, match=rf"^{path}:1: contains a NUL byte"):
        scan_raw_lines(path)


def test_an_error_quotes_the_record_with_its_leading_and_trailing_spaces(tmp_path: Path) -> None:
    """Only line breaks around DuckDB's quote of the record are dropped: spaces are part of the
    line, and the line is found in the file by its exact text."""
    path = tmp_path / PAIR.path
    path.write_bytes(b'key,text\na,"1\n\n2"\nb,2\n\n c,3,x \nd,4\n')
    with pytest.raises(InputFileError, match=rf"^{path}:7: .* in line ' c,3,x '$"):
        build_table(path)


LONG_LINE = "c,3," + "x" * 76
"""A bad record of 80 characters, the longest shown whole."""


@pytest.mark.parametrize(
    ("bad_lines", "shown"),
    [
        (["XL,3,MAX"], "XL,3,MAX"),
        (['b,"x ', "y", 'z",3'], 'b,"x '),
        ([LONG_LINE], LONG_LINE),
        ([LONG_LINE + "x"], LONG_LINE[:77] + "..."),
    ],
    ids=["letters-at-both-ends", "three-lines-with-a-space", "80-characters", "81-characters"],
)
@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_an_error_quotes_the_first_line_of_the_record(
    tmp_path: Path, bad_lines: list[str], shown: str, line_end: str
) -> None:
    """Exactly as in the file, without its line end, cut to 77 characters and "..." past 80."""
    path = tmp_path / PAIR.path
    lines = ["key,text", "a,1", *bad_lines, "d,4", ""]
    path.write_bytes(line_end.join(lines).encode())
    with pytest.raises(InputFileError) as raised:
        build_table(path)
    assert str(raised.value).startswith(f"{path}:3: ")
    assert str(raised.value).endswith(f" in line {shown!r}")
