"""Which files a source reads: its ``path`` names a file, a glob or a folder; the files come in
name order, only regular files count, and finding none says which source and what was looked
for. Each file's header must be exactly the source's columns, and the sentence refusing one
says what differs."""

from pathlib import Path

import pytest

from medallion_ibis.errors import InputFileError
from medallion_ibis.ingest import SourceFile, source_files
from medallion_ibis.model import Source

HEADER = b"key,text\n"
MONTHS_AS_WRITTEN = (3, 1, 6, 2, 5, 4)


def pairs(path: str) -> Source:
    return Source(table="pairs", path=path, columns=("key", "text"), system="test")


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A folder of monthly exports written out of name order (one more line each month), a
    file that is not CSV and a folder whose name ends in ``.csv`` (not a file, so never read);
    and a folder of drafts that holds no CSV file."""
    exports = tmp_path / "exports"
    exports.mkdir()
    for month in MONTHS_AS_WRITTEN:
        (exports / f"2024-{month:02}.csv").write_bytes(HEADER + b"k,v\n" * month)
    (exports / "notes.txt").write_bytes(b"not an export\n")
    (exports / "old.csv").mkdir()
    (exports / "old.csv" / "z.csv").write_bytes(HEADER)
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    (drafts / "notes.txt").write_bytes(HEADER)
    return tmp_path


def expected_exports(seeds: Path) -> list[SourceFile]:
    return [
        SourceFile(seeds / "exports" / name, f"exports/{name}", len(HEADER) + 4 * month)
        for month in sorted(MONTHS_AS_WRITTEN)
        for name in [f"2024-{month:02}.csv"]
    ]


def test_a_folder_reads_its_csv_files_in_name_order(seeds: Path) -> None:
    assert source_files(seeds, pairs("exports")) == expected_exports(seeds)


def test_a_glob_reads_the_matching_files_in_name_order(seeds: Path) -> None:
    assert source_files(seeds, pairs("exports/*.csv")) == expected_exports(seeds)


def test_a_file_path_reads_that_file(seeds: Path) -> None:
    [only] = source_files(seeds, pairs("exports/2024-02.csv"))
    assert only == expected_exports(seeds)[1]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("drafts", "drafts: no *.csv file in this folder"),
        ("exports/*.tsv", "exports/*.tsv: no file matches this pattern"),
        ("exports/2024-XII.csv", "exports/2024-XII.csv: file not found"),
    ],
)
def test_finding_no_file_names_the_source_and_what_was_looked_for(
    seeds: Path, path: str, expected: str
) -> None:
    with pytest.raises(InputFileError) as raised:
        source_files(seeds, pairs(path))
    assert str(raised.value) == f"{seeds / expected} (source pairs of test)"


ORDERS = Source(table="orders", path="orders.csv", columns=("id", "amount", "day"), system="shop")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("id,amount,id,day,amount", "header names 'amount', 'id' more than once"),
        (
            "id,amt,day,note",
            "header does not match orders: expected columns id, amount, day; "
            "missing: amount; unexpected: amt, note",
        ),
        (
            "id",
            "header does not match orders: expected columns id, amount, day; "
            "missing: amount, day; unexpected: none",
        ),
        (
            "id,amount,day,note,ref",
            "header does not match orders: expected columns id, amount, day; "
            "missing: none; unexpected: note, ref",
        ),
        (
            "day,id,amount",
            "header does not match orders: expected columns id, amount, day; "
            "missing: none; unexpected: none; same names in another order",
        ),
    ],
    ids=["repeated-names", "renamed-and-extra", "missing-only", "extra-only", "reordered"],
)
def test_a_header_unlike_the_source_is_refused_saying_what_differs(
    tmp_path: Path, header: str, expected: str
) -> None:
    path = tmp_path / ORDERS.path
    path.write_text(f"{header}\n1,2.50,2024-01-01\n")
    with pytest.raises(InputFileError) as raised:
        source_files(tmp_path, ORDERS)
    assert str(raised.value) == f"{path}:1: {expected}"


def test_a_utf8_header_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    """Spreadsheet exports often do; the mark is not part of the first column's name."""
    path = tmp_path / ORDERS.path
    path.write_bytes(b"\xef\xbb\xbfid,amount,day\n1,2.50,2024-01-01\n")
    assert [found.path for found in source_files(tmp_path, ORDERS)] == [path]


def test_a_header_is_read_in_the_declared_encoding(tmp_path: Path) -> None:
    """Not as UTF-8: in Latin-1, 'é' is one byte that UTF-8 cannot decode."""
    cafes = Source("cafes", "cafes.csv", columns=("id", "café"), system="shop", encoding="latin-1")
    path = tmp_path / cafes.path
    path.write_bytes("id,café\n1,Zürich\n".encode("latin-1"))
    assert [found.path for found in source_files(tmp_path, cafes)] == [path]
