"""Bronze holds exactly the rows the parser read: an engine that loses rows silently (Spark
executors that cannot see the driver's files read none) stops the build before publishing."""

from pathlib import Path
from typing import Any

import pytest
from helpers import build_into, connect
from retail_fixtures import write_seeds

from medallion_ibis.backends.base import Warehouse
from medallion_ibis.backends.duckdb import DuckDBWarehouse
from medallion_ibis.backends.postgres import PostgresWarehouse
from medallion_ibis.config import BackendName
from medallion_ibis.errors import BackendUnavailable
from medallion_ibis.model import Lineage, Source


def losing_rows(original: Any) -> Any:
    """``load_source`` as an engine that stores fewer rows than it was given."""

    def load_source(
        self: Warehouse, staged: str, path: Path, source: Source, lineage: Lineage
    ) -> int:
        parsed: int = original(self, staged, path, source, lineage)
        table = self.staged(staged).op()  # wherever the engine stages it
        self.con.truncate_table(table.name, database=table.namespace.database)
        return parsed

    return load_source


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_a_bronze_table_missing_parsed_rows_stops_the_build_before_publishing(
    backend: BackendName,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    engine = DuckDBWarehouse if backend == "duckdb" else PostgresWarehouse
    monkeypatch.setattr(engine, "load_source", losing_rows(engine.load_source))
    pg_url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    duckdb_path = tmp_path / "warehouse.duckdb"
    with pytest.raises(BackendUnavailable) as raised:
        build_into(
            write_seeds(tmp_path / "seeds"),
            pipelines=["retail"],
            backend=backend,
            duckdb_path=duckdb_path,
            pg_url=pg_url,
        )
    assert str(raised.value).startswith(
        "bronze.bronze_sales: the source file has 10 rows but the engine stored 0; "
        "nothing was published"
    )
    con = connect(duckdb_path=duckdb_path, pg_url=pg_url)
    try:
        assert "bronze" not in con.list_databases() or not con.list_tables(database="gold")
    finally:
        con.disconnect()
