"""A staged table on PostgreSQL is made by one CREATE TABLE … AS, and is still the table the
expression's schema describes: its types, and NOT NULL where Ibis knows a column never is."""

from collections.abc import Iterator

import ibis
import psycopg
import pytest

from medallion_ibis.backends.base import STAGING_SCHEMA
from medallion_ibis.backends.postgres import PostgresWarehouse


@pytest.fixture
def warehouse(pg_url: str) -> Iterator[PostgresWarehouse]:
    warehouse = PostgresWarehouse(pg_url)
    warehouse.prepare()
    yield warehouse
    warehouse.close()


def test_the_staged_table_has_the_schemas_types_and_not_nulls(
    warehouse: PostgresWarehouse, pg_url: str
) -> None:
    rows = ibis.memtable(
        {"id": [1, 2, 3], "amount": ["1.50", "2", None]},
        schema={"id": "!int64", "amount": "string"},
    )
    built = rows.select(
        "id",
        amount=rows.amount.cast("decimal(38, 2)"),
        day=ibis.date(2024, 1, 2),
        small=ibis.literal(7, type="int16"),
    )

    assert warehouse.materialize("typed", built) == 3
    with psycopg.connect(pg_url) as con:
        columns = con.execute(
            """SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable
               FROM information_schema.columns WHERE table_schema = %s AND table_name = 'typed'
               ORDER BY ordinal_position""",
            (STAGING_SCHEMA,),
        ).fetchall()
    assert columns == [
        ("id", "bigint", 64, 0, "NO"),
        ("amount", "numeric", 38, 2, "YES"),
        ("day", "date", None, None, "YES"),
        ("small", "smallint", 16, 0, "YES"),
    ]
