"""The one-scan contract check agrees with pandera: it says "every row passes" exactly when
pandera's own validation of the rows passes, for each built-in check the contracts use, on
DuckDB and PostgreSQL, and leaves anything it cannot fold in to pandera."""

import subprocess
import sys
from typing import Any

import hypothesis.strategies as st
import ibis
import pandera.errors
import pandera.ibis as pa
import pytest
from helpers import Engine
from hypothesis import example, given

from medallion_ibis.contract_scan import every_row_passes
from medallion_ibis.contracts import INT, TEXT, column, table
from medallion_ibis.errors import ModelFailed
from medallion_ibis.quality import check_contract

CHECKS = {
    "int64": [
        pa.Check.ge(0),
        pa.Check.gt(0),
        pa.Check.le(3),
        pa.Check.lt(3),
        pa.Check.eq(1),
        pa.Check.ne(1),
        pa.Check.in_range(-1, 2),
        pa.Check.isin([0, 2]),
        pa.Check.notin([1]),
    ],
    "float64": [pa.Check.ge(0.5), pa.Check.le(1.5)],
    "string": [
        pa.Check.isin(["a", "bb"]),
        pa.Check.str_length(1, 2),
        pa.Check.str_length(2, 2),
        pa.Check.str_startswith("b"),
    ],
}
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "int64": st.none() | st.integers(-2, 4),
    # written as text and cast by the engine: a NaN in a memtable arrives as NULL
    "float64": st.none() | st.sampled_from(["0.0", "0.5", "1.0", "2.0", "NaN"]),
    "string": st.none() | st.sampled_from(["", "a", "bb", "ccc", "b"]),
}


@st.composite
def checked_columns(draw: st.DrawFn) -> tuple[str, pa.Column, list[Any]]:
    dtype = draw(st.sampled_from(sorted(CHECKS)))
    checks = draw(st.lists(st.sampled_from(CHECKS[dtype]), max_size=2, unique_by=repr))
    nullable = draw(st.booleans())
    values = draw(st.lists(VALUES[dtype], min_size=1, max_size=6))
    return dtype, pa.Column(ibis.dtype(dtype), checks=checks, nullable=nullable), values


def pandera_passes(contract: pa.DataFrameSchema, rows: ibis.Table) -> bool:
    try:
        contract.validate(rows, lazy=True)
    except pandera.errors.SchemaErrors:
        return False
    return True


@given(case=checked_columns())
@example(case=("float64", pa.Column(ibis.dtype("float64"), nullable=False), ["1.0", "NaN"]))
def test_the_scan_passes_a_table_exactly_when_pandera_does(
    engine: Engine, case: tuple[str, pa.Column, list[Any]]
) -> None:
    dtype, checked, values = case
    given_as = "string" if dtype == "float64" else dtype
    written = ibis.memtable({"x": values}, schema={"x": given_as})
    rows = engine.create_table("checked", written.select(x=written.x.cast(dtype)), overwrite=True)
    contract = pa.DataFrameSchema({"x": checked})

    assert every_row_passes(contract, rows) == pandera_passes(contract, rows)


def test_what_cannot_be_folded_into_the_scan_is_left_to_pandera(duck: ibis.BaseBackend) -> None:
    rows = duck.create_table("few", ibis.memtable({"x": [1, 2]}), overwrite=True)
    element_wise = pa.Check(lambda value: value > 0, element_wise=True)
    table_wide = pa.DataFrameSchema({"x": pa.Column(INT)}, checks=[pa.Check.ge(0)])

    assert every_row_passes(pa.DataFrameSchema({"x": pa.Column(INT)}), rows)
    assert not every_row_passes(pa.DataFrameSchema({"x": pa.Column(INT, element_wise)}), rows)
    assert not every_row_passes(table_wide, rows)
    assert not every_row_passes(pa.DataFrameSchema({"y": pa.Column(INT)}), rows)


def test_a_wrong_type_is_reported_by_pandera_not_by_the_scan(duck: ibis.BaseBackend) -> None:
    contract = table("typed", {"id": column(INT, at_least=1), "name": column(TEXT)})
    rows = duck.create_table("typed", ibis.memtable({"id": ["1"], "name": ["a"]}), overwrite=True)

    with pytest.raises(ModelFailed, match=r"column id: dtype\('int64'\) failed \(e.g. 'string'\)"):
        check_contract("silver.typed", contract, rows, 1)


def test_a_contract_declared_before_pandera_loaded_its_ibis_checks_is_scanned() -> None:
    """Contracts are declared at import, before pandera registers its ibis checks; their
    checks must still fold into the scan (a build once failed here with a KeyError)."""
    script = """
import ibis
from medallion_ibis.contracts import QUARANTINE
from medallion_ibis.contract_scan import every_row_passes
row = dict(pipeline="retail", source_table="bronze_sales", _source_file="f", _row_number=2,
           _row_hash="h", rule="missing_key", reason="r", _run_id="run", _batch_id=1)
con = ibis.duckdb.connect()
good = con.create_table("good", ibis.memtable([row]))
bad = con.create_table("bad", ibis.memtable([row | {"rule": "other"}]))
print(every_row_passes(QUARANTINE, good), every_row_passes(QUARANTINE, bad))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
