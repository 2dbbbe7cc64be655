"""A rebuild keeps what users attached to the published tables: grants, owner, indexes,
comments, constraints, and foreign keys pointing at them. What cannot be kept stops the build
with a sentence, and a table whose columns changed is replaced with what it carried re-applied.
"""

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import ibis.expr.types as ir
import psycopg
import pytest
from helpers import build_into, fresh_database
from retail_fixtures import write_seeds

from medallion_ibis.errors import PublishBlocked, PublishRejected
from medallion_ibis.examples.retail import PIPELINE
from medallion_ibis.runner import BuildResult

CLV = "gold.gold_customer_lifetime_value"


def build_pg(seeds: Path, pg_url: str) -> BuildResult:
    return build_into(seeds, pipelines=["retail"], backend="postgres", pg_url=pg_url)


def one(pg_url: str, query: str, *params: Any) -> Any:
    with psycopg.connect(pg_url, autocommit=True) as con:
        row = con.execute(query, params).fetchone()
    return None if row is None else row[0]


def run(pg_url: str, *statements: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        for statement in statements:
            con.execute(statement)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    return write_seeds(tmp_path / "seeds")


@pytest.fixture(scope="module")
def first_build(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding one published retail build of the reference seeds, made once for
    the module: each test changes its own copy."""
    seeds = write_seeds(tmp_path_factory.mktemp("first") / "seeds")
    with fresh_database(pg_server_url) as url:
        assert build_pg(seeds, url).published
        yield url


@pytest.fixture
def built(first_build: str, pg_server_url: str) -> Iterator[str]:
    """A database of its own holding the published build; the batch log names the seed files
    relative to the seeds folder, so rebuilding from ``seeds`` finds them already loaded."""
    with fresh_database(pg_server_url, template=first_build) as url:
        yield url


@pytest.fixture
def role(built: str) -> Iterator[str]:
    """A role of the cluster (roles are not per database), dropped after the test."""
    name = f"reporting_{uuid.uuid4().hex[:8]}"
    run(built, f"CREATE ROLE {name}")
    yield name
    run(built, f"DROP OWNED BY {name}", f"DROP ROLE {name}")


def test_grants_owner_indexes_comments_and_constraints_survive_a_rebuild(
    built: str, role: str, seeds: Path
) -> None:
    run(
        built,
        f"GRANT SELECT ON {CLV} TO {role}",
        f"CREATE INDEX clv_by_customer ON {CLV} (customer_id)",
        f"COMMENT ON TABLE {CLV} IS 'customer value, one row per customer'",
        f"COMMENT ON COLUMN {CLV}.total_spent IS 'in dollars'",
        f"ALTER TABLE {CLV} ADD CONSTRAINT clv_key PRIMARY KEY (customer_id)",
        f"ALTER TABLE {CLV} OWNER TO {role}",
    )
    oid_before = one(built, "SELECT %s::regclass::oid", CLV)

    result = build_pg(seeds, built)

    assert result.published
    assert one(built, "SELECT has_table_privilege(%s, %s, 'SELECT')", role, CLV)
    assert (
        one(built, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s::regclass", CLV)
        == role
    )
    assert one(built, "SELECT to_regclass('gold.clv_by_customer') IS NOT NULL")
    assert one(built, "SELECT obj_description(%s::regclass, 'pg_class')", CLV) == (
        "customer value, one row per customer"
    )
    assert (
        one(
            built,
            "SELECT col_description(%s::regclass, attnum) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = 'total_spent'",
            CLV,
            CLV,
        )
        == "in dollars"
    )
    assert one(built, "SELECT count(*) FROM pg_constraint WHERE conname = 'clv_key'") == 1
    assert one(built, "SELECT %s::regclass::oid", CLV) == oid_before  # refilled, not replaced
    assert one(built, f"SELECT count(*) FROM {CLV}") > 0
    assert one(built, f"SELECT count(DISTINCT _gold_created_at) FROM {CLV}") == 1
    assert result.notices == []


def test_a_table_nobody_touched_is_moved_into_place_without_copying(
    built: str, seeds: Path
) -> None:
    oid_before = one(built, "SELECT %s::regclass::oid", CLV)
    build_pg(seeds, built)
    assert one(built, "SELECT %s::regclass::oid", CLV) != oid_before


def user_table_referencing_customers(pg_url: str, *, deferrable: bool) -> None:
    run(
        pg_url,
        f"ALTER TABLE {CLV} ADD CONSTRAINT clv_key PRIMARY KEY (customer_id)",
        "CREATE TABLE public.campaign (customer_id bigint REFERENCES "
        f"{CLV} (customer_id) {'DEFERRABLE' if deferrable else ''})",
        f"INSERT INTO public.campaign SELECT customer_id FROM {CLV} LIMIT 2",
    )


def test_a_foreign_key_that_cannot_be_deferred_stops_the_build_with_a_sentence(
    built: str, seeds: Path
) -> None:
    user_table_referencing_customers(built, deferrable=False)
    stamp_before = one(built, f"SELECT max(_gold_created_at) FROM {CLV}")

    with pytest.raises(PublishBlocked) as raised:
        build_pg(seeds, built)

    message = str(raised.value)
    assert "gold.gold_customer_lifetime_value is referenced by foreign key" in message
    assert "public.campaign" in message
    assert "DEFERRABLE" in message
    assert raised.value.exit_code == 2
    assert one(built, f"SELECT max(_gold_created_at) FROM {CLV}") == stamp_before


def test_a_deferrable_foreign_key_is_checked_against_the_new_rows_and_kept(
    built: str, seeds: Path
) -> None:
    user_table_referencing_customers(built, deferrable=True)

    result = build_pg(seeds, built)

    assert result.published
    assert one(built, "SELECT count(*) FROM public.campaign") == 2
    assert one(built, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == 1


def test_new_rows_that_orphan_a_referencing_row_are_not_published(
    built: str, tmp_path: Path
) -> None:
    user_table_referencing_customers(built, deferrable=True)
    run(built, "INSERT INTO public.campaign VALUES (1)")  # customer 1 buys a laptop in the seeds
    stamp_before = one(built, f"SELECT max(_gold_created_at) FROM {CLV}")
    without_customer_1 = write_seeds(tmp_path / "without-1")
    sales = without_customer_1 / "retail" / "raw_sales.csv"
    lines = sales.read_text().splitlines(keepends=True)
    sales.write_text("".join(line for line in lines if line.split(",")[1] != "1"))

    # Bronze keeps customer 1's earlier sales unless a full refresh drops them.
    with pytest.raises(PublishRejected, match="nothing was published") as raised:
        build_into(
            without_customer_1,
            pipelines=["retail"],
            backend="postgres",
            pg_url=built,
            full_refresh=True,
        )

    assert raised.value.exit_code == 1
    assert one(built, f"SELECT max(_gold_created_at) FROM {CLV}") == stamp_before


def with_an_extra_column(original: Any) -> Any:
    def transform(*tables: ir.Table, run: Any) -> ir.Table:
        result: ir.Table = original(*tables, run=run)
        return result.mutate(loyalty_points=result.total_transactions * 10).drop("purchase_days")

    return transform


@pytest.fixture
def changed_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    model = PIPELINE.models["gold_customer_lifetime_value"]
    changed = dataclasses.replace(
        model, transform=with_an_extra_column(model.transform), contract=None
    )
    monkeypatch.setitem(PIPELINE.models, model.name, changed)


def test_a_table_whose_columns_changed_is_replaced_with_what_it_carried(
    built: str, role: str, seeds: Path, changed_columns: None
) -> None:
    run(
        built,
        f"GRANT SELECT ON {CLV} TO {role}",
        f"CREATE INDEX clv_by_customer ON {CLV} (customer_id)",
        f"CREATE INDEX clv_by_days ON {CLV} (purchase_days)",
        f"COMMENT ON TABLE {CLV} IS 'customer value'",
        f"COMMENT ON COLUMN {CLV}.purchase_days IS 'going away'",
    )

    result = build_pg(seeds, built)

    assert result.published
    [notice] = result.notices
    assert notice.startswith(
        "gold.gold_customer_lifetime_value: columns changed (+loyalty_points, -purchase_days)"
    )
    assert "gold.clv_by_days" in notice
    assert "removed column purchase_days" in notice
    assert one(built, "SELECT has_table_privilege(%s, %s, 'SELECT')", role, CLV)
    assert one(built, "SELECT to_regclass('gold.clv_by_customer') IS NOT NULL")
    assert one(built, "SELECT to_regclass('gold.clv_by_days') IS NULL")
    assert one(built, "SELECT obj_description(%s::regclass, 'pg_class')", CLV) == "customer value"
    assert one(built, f"SELECT count(loyalty_points) FROM {CLV}") > 0


def test_a_view_on_a_table_whose_columns_changed_stops_the_build(
    built: str, seeds: Path, changed_columns: None
) -> None:
    run(built, f"CREATE VIEW public.spend AS SELECT customer_id, total_spent FROM {CLV}")

    with pytest.raises(PublishBlocked, match=r"columns changed.*view spend depends on"):
        build_pg(seeds, built)

    assert one(built, "SELECT to_regclass('public.spend') IS NOT NULL")


def test_duckdb_keeps_comments_and_indexes_and_reapplies_comments_after_a_column_change(
    seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "warehouse.duckdb"
    build_into(seeds, pipelines=["retail"], duckdb_path=path)
    with duckdb.connect(str(path)) as con:
        con.execute(f"COMMENT ON TABLE {CLV} IS 'customer value'")
        con.execute(f"COMMENT ON COLUMN {CLV}.total_spent IS 'in dollars'")
        con.execute(f"CREATE INDEX clv_by_customer ON {CLV} (customer_id)")

    def described() -> tuple[Any, ...]:
        with duckdb.connect(str(path)) as con:
            return (
                con.execute(
                    "SELECT comment FROM duckdb_tables() WHERE table_name = ?",
                    ["gold_customer_lifetime_value"],
                ).fetchall(),
                con.execute(
                    "SELECT comment FROM duckdb_columns() WHERE column_name = 'total_spent' "
                    "AND table_name = ?",
                    ["gold_customer_lifetime_value"],
                ).fetchall(),
                con.execute(
                    "SELECT index_name FROM duckdb_indexes() WHERE table_name = ?",
                    ["gold_customer_lifetime_value"],
                ).fetchall(),
            )

    build_into(seeds, pipelines=["retail"], duckdb_path=path)
    assert described() == (
        [("customer value",)],
        [("in dollars",)],
        [("clv_by_customer",)],
    )

    model = PIPELINE.models["gold_customer_lifetime_value"]
    changed = dataclasses.replace(
        model, transform=with_an_extra_column(model.transform), contract=None
    )
    monkeypatch.setitem(PIPELINE.models, model.name, changed)
    result = build_into(seeds, pipelines=["retail"], duckdb_path=path)

    assert result.notices[0].startswith("gold.gold_customer_lifetime_value: columns changed")
    assert described()[:2] == ([("customer value",)], [("in dollars",)])
