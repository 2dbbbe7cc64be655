"""A contract's whole-row key is checked by grouping, and a repeated key is reported with the
offending rows, alongside every other violated check."""

import ibis
import pytest

from medallion_ibis.contracts import INT, TEXT, column, table
from medallion_ibis.errors import ModelFailed
from medallion_ibis.quality import check_contract

KEYED = table(
    "keyed",
    {"id": column(INT), "name": column(TEXT, one_of=("a", "b"))},
    unique=["id"],
)


def check(rows: dict[str, list[object]]) -> None:
    con = ibis.duckdb.connect()
    staged = con.create_table(
        "keyed", ibis.memtable(rows, schema={"id": "int64", "name": "string"})
    )
    check_contract("silver.keyed", KEYED, staged, len(rows["id"]))


def test_a_unique_key_passes() -> None:
    check({"id": [1, 2, 3], "name": ["a", "b", "a"]})


def test_a_repeated_key_is_reported_with_its_rows_and_other_failures() -> None:
    with pytest.raises(ModelFailed) as raised:
        check({"id": [1, 2, 2, 3], "name": ["a", "b", "b", "c"]})

    assert str(raised.value).splitlines()[1:] == [
        "  - column name: isin(['a', 'b']) failed (e.g. 'c')",
        "  - table: multiple_fields_uniqueness failed "
        "(e.g. {'id': 2, 'name': 'b'}, {'id': 2, 'name': 'b'})",
    ]
