"""Files DuckDB cannot parse, or whose header is wrong, are refused with one sentence naming
the file, the line and the problem (exit code 2), never a traceback or DuckDB's report."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import build_into
from retail_fixtures import write_seeds

from medallion_ibis import ingest
from medallion_ibis.cli import main
from medallion_ibis.errors import InputFileError
from medallion_ibis.examples.retail.sources import SALES
from medallion_ibis.ingest import utf8_text

Breakage = Callable[[Path], str]
"""Damages the sales file in place; returns what the message must contain."""


def lines_of(sales: Path) -> list[bytes]:
    return sales.read_bytes().split(b"\n")


def latin1_in_the_header(sales: Path) -> str:
    """The column counts characters: the two-byte "å" before the bad byte is one."""
    header = sales.read_bytes().split(b"\n", 1)[0].decode()
    renamed = header.replace("transaction_id", "trånsaction_id", 1).encode()
    broken = renamed.replace(b"store_location", b"store_l\xe9cation", 1)
    sales.write_bytes(sales.read_bytes().replace(header.encode(), broken, 1))
    column = header.index("store_location") + len("store_l") + 1
    return f"{sales}:1: not UTF-8 (byte 0xe9 at column {column}); re-export the file as UTF-8"


def huge_field(sales: Path) -> str:
    lines = lines_of(sales)
    lines[4] = lines[4].replace(b",", b"," + b"x" * (50 << 20) + b",", 1)
    sales.write_bytes(b"\n".join(lines))
    return (
        f"{sales}:5: a record longer than 2 MB; an unterminated quote, or a value too large "
        "for a source file"
    )


def unterminated_quote(sales: Path) -> str:
    lines = lines_of(sales)
    lines[3] = lines[3].replace(b",", b',"oops', 1)
    sales.write_bytes(b"\n".join(lines))
    return f"{sales}:4: Expected Number of Columns: 10 Found: 8 (the record runs over 8 lines"


def short_record_over_two_lines(sales: Path) -> str:
    lines = lines_of(sales)
    lines[3] = b'9,"a\nb",3'
    sales.write_bytes(b"\n".join(lines))
    return f"{sales}:4: Expected Number of Columns: 10 Found: 3 (the record runs over 2 lines"


def broken_quoted_field(sales: Path) -> str:
    lines = lines_of(sales)
    lines[3] = lines[3].replace(b",", b',"x"y', 1)
    sales.write_bytes(b"\n".join(lines))
    return f"{sales}:4: a quoted value is not closed properly (unterminated quote) in line"


def mixed_line_endings(sales: Path) -> str:
    lines = lines_of(sales)
    sales.write_bytes(b"\r\n".join(lines[:5]) + b"\r\n" + b"\n".join(lines[5:]))
    return (
        f"{sales}:6: mixed line endings (this line and line 1 end differently, CRLF and LF); "
        "convert the file to one kind"
    )


def zero_bytes(sales: Path) -> str:
    sales.write_bytes(b"")
    return f"{sales}: empty file"


def duplicate_header_name(sales: Path) -> str:
    sales.write_bytes(sales.read_bytes().replace(b"category", b"quantity", 1))
    return f"{sales}:1: header names 'quantity' more than once"


def trailing_comma(sales: Path) -> str:
    sales.write_bytes(b",\n".join(line for line in lines_of(sales) if line) + b",\n")
    return f"{sales}:1: header has an empty column name (column 11); a trailing comma"


@pytest.mark.parametrize(
    "breakage",
    [
        latin1_in_the_header,
        huge_field,
        unterminated_quote,
        short_record_over_two_lines,
        broken_quoted_field,
        mixed_line_endings,
        zero_bytes,
        duplicate_header_name,
        trailing_comma,
    ],
)
def test_unreadable_file_is_one_sentence_naming_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, breakage: Breakage
) -> None:
    for name in [name for name in os.environ if name.startswith("MEDALLION_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    seeds = write_seeds(tmp_path / "seeds")
    expected = breakage(seeds / SALES.path)
    result = CliRunner().invoke(
        main, ["build", "--pipeline", "retail", "--seeds", str(seeds)], catch_exceptions=False
    )
    assert result.exit_code == 2, result.output
    [message] = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert expected in message, message
    assert len(message) < 400, message


@pytest.mark.parametrize(
    "chunk_bytes",
    [10, 15, 19, 1 << 24],
    ids=["a-line-a-chunk", "line-across-chunks", "line-break-opens-a-chunk", "one-chunk"],
)
def test_a_byte_not_in_the_declared_encoding_names_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    """Found while transcoding, a chunk at a time: with 10-byte chunks each line is a chunk
    and the bad one the third; with 15 it starts in the middle of the second chunk, after a
    line that began in the first; with 19 the second chunk opens with the line break before
    it."""
    monkeypatch.setattr(ingest, "_SCAN_BYTES", chunk_bytes)
    path = tmp_path / "customers.csv"
    # 0x81 has no character in Windows-1252.
    path.write_bytes(b"name,city\nAnn,Paris\nBob,Ber\x81lin\n")
    with pytest.raises(InputFileError) as raised, utf8_text(path, "cp1252"):
        pass
    assert str(raised.value) == (
        f"{path}:3: not valid cp1252 (byte 0x81 at column 8); is the source's encoding right?"
    )


def test_an_error_about_the_transcoded_copy_names_the_original_file(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes("name,city\nJosé,Sète\n".encode("cp1252"))
    with pytest.raises(InputFileError) as raised, utf8_text(path, "cp1252") as copy:
        raise InputFileError(f"{copy}:2: a problem DuckDB found in the copy")
    assert str(raised.value) == f"{path}:2: a problem DuckDB found in the copy"


def test_the_line_named_too_long_is_the_first_over_the_limit(tmp_path: Path) -> None:
    """A line of exactly the limit (its line break included) still fits; none over is "?"."""
    path = tmp_path / "sales.csv"
    path.write_bytes(b"a,b\n" + b"x" * 9 + b"\n" + b"y" * 10 + b"\n")
    assert ingest._first_line_longer_than(path, 10) == 3
    assert ingest._first_line_longer_than(path, 11) == "?"


def test_a_character_cut_off_at_the_end_of_the_file_is_refused(tmp_path: Path) -> None:
    """The last byte opens a two-byte EUC-JP character that never ends: it is not dropped."""
    path = tmp_path / "customers.csv"
    path.write_bytes("名前,町\n山田,東京\n".encode("euc-jp") + "東".encode("euc-jp")[:1])
    with (
        pytest.raises(InputFileError, match=rf"^{path}:3: the file ends inside a character"),
        utf8_text(path, "euc-jp"),
    ):
        pass


def test_a_byte_that_is_not_utf8_in_a_data_line_names_its_line_and_column(
    tmp_path: Path,
) -> None:
    sales = write_seeds(tmp_path / "seeds") / SALES.path
    lines = lines_of(sales)
    lines[6] = lines[6].replace(b",", b",\xff", 1)
    sales.write_bytes(b"\n".join(lines))
    column = lines[6].index(b"\xff") + 1
    with pytest.raises(
        InputFileError, match=rf"^{sales}:7: not UTF-8 \(byte 0xff at column {column}\)"
    ):
        build_into(sales.parents[1], pipelines=["retail"], duckdb_path=tmp_path / "w.duckdb")
