"""Acceptance from a user's seat: the wheel, installed into a fresh virtual environment, run in
a folder outside this repository (no clone, no editable install).

One venv for the module: building the wheel and installing it (dependencies from uv's cache,
which the test session's own install has warmed) is the slow part.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from helpers import connect, rows

REPOSITORY = Path(__file__).resolve().parents[1]
RUN_COLUMNS = ("_gold_created_at", "_loaded_at", "_run_id")
USER_PIPELINE = '''
"""A user's own pipeline: customers' order totals."""

import ibis.expr.types as ir
from ibis import _

from medallion_ibis import (INT, MONEY, QUARANTINE, TEXT, KeyScreen, Pipeline, Source,
                            column, conform, parse_decimal, parse_int, table, title_case,
                            with_lineage)

ORDERS = Source("bronze_shop_orders", "shop/orders.csv", ("order_id", "customer", "amount"), "shop")
PIPELINE = Pipeline("shop", sources=(ORDERS,))
KEYS = KeyScreen(ORDERS.table, required=("order_id",), integer=("order_id",), key=("order_id",))
SILVER = table("silver_shop_orders", {"order_id": column(INT),
               "customer": column(TEXT, nullable=True), "amount": column(MONEY, nullable=True)},
               unique=["order_id"], lineage=True)
TOTALS = table("gold_customer_totals", {"customer": column(TEXT, nullable=True),
               "orders": column(INT), "spent": column(MONEY, nullable=True)}, unique=["customer"])


@PIPELINE.model(layer="silver", inputs=(ORDERS.table,), contract=SILVER)
def silver_shop_orders(bronze_shop_orders: ir.Table) -> ir.Table:
    typed = with_lineage(KEYS.accepted(bronze_shop_orders), order_id=parse_int(_.order_id),
                         customer=title_case(_.customer), amount=parse_decimal(_.amount))
    return conform(typed, SILVER)


@PIPELINE.model(layer="silver", inputs=(ORDERS.table,), contract=QUARANTINE,
                partition_column="pipeline")
def quarantine(bronze_shop_orders: ir.Table) -> ir.Table:
    return KEYS.rejected(bronze_shop_orders, PIPELINE.name)


@PIPELINE.model(layer="gold", inputs=("silver_shop_orders",), contract=TOTALS)
def gold_customer_totals(silver_shop_orders: ir.Table) -> ir.Table:
    """Orders and spend per customer."""
    totals = silver_shop_orders.group_by("customer").aggregate(orders=_.count(),
                                                               spent=_.amount.sum())
    return conform(totals.mutate(spent=_.spent.cast(MONEY)), TOTALS)
'''
USER_ORDERS = (
    "order_id,customer,amount\n"
    "1,ada lovelace,10.50\n"
    "2, GRACE hopper ,3.25\n"
    "3,ada lovelace,abc\n"
    ",nobody,1.00\n"
    '4,"smith, jo",7.00\n'
    "2,grace hopper,3.30\n"
    "5,zoë,0.05\n"
)


@dataclass(frozen=True)
class Installed:
    """The fresh venv holding only the wheel and its dependencies."""

    bin: Path
    home: Path

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MEDALLION_", "PYTHON", "VIRTUAL_ENV"))
        }
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            [str(self.bin / "medallion-ibis"), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert found, "tests/test_wheel.py needs uv (it is in the 'test' extra)"
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    home = tmp_path_factory.mktemp("wheel")
    assert not home.is_relative_to(REPOSITORY)
    subprocess.run(
        [uv(), "build", "--wheel", "--out-dir", str(home / "dist"), str(REPOSITORY)],
        check=True,
        capture_output=True,
    )
    [wheel] = (home / "dist").glob("medallion_ibis-*.whl")
    subprocess.run([uv(), "venv", "-q", "-p", sys.executable, str(home / "venv")], check=True)
    subprocess.run(
        [uv(), "pip", "install", "-q", "-p", str(home / "venv" / "bin" / "python"), str(wheel)],
        check=True,
    )
    return Installed(home / "venv" / "bin", home)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_wheel_does_not_import_from_the_repository(installed: Installed) -> None:
    probe = subprocess.run(
        [
            str(installed.bin / "python"),
            "-c",
            "import medallion_ibis; print(medallion_ibis.__file__)",
        ],
        cwd=installed.home,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "site-packages" in probe.stdout
    assert not Path(probe.stdout.strip()).is_relative_to(REPOSITORY)


def test_init_retail_then_build_publishes_the_retail_gold_tables(installed: Installed) -> None:
    ok(installed.run("init", "shop", "--example", "retail", cwd=installed.home))
    shop = installed.home / "shop"
    output = ok(installed.run("build", cwd=shop))
    assert "Published 10 tables" in output
    with duckdb.connect(str(shop / "medallion.duckdb"), read_only=True) as con:
        for table in (
            "gold_daily_sales_summary",
            "gold_customer_lifetime_value",
            "gold_product_performance",
        ):
            [(count,)] = con.sql(f"SELECT count(*) FROM gold.{table}").fetchall()
            assert count > 0, table


def test_a_users_pipeline_builds_on_duckdb_and_postgres_alike(
    installed: Installed, pg_url: str
) -> None:
    ok(installed.run("init", "mine", "--example", "minimal", cwd=installed.home))
    mine = installed.home / "mine"
    (mine / "pipelines" / "shop.py").write_text(textwrap.dedent(USER_PIPELINE))
    (mine / "seeds" / "shop").mkdir()
    (mine / "seeds" / "shop" / "orders.csv").write_text(USER_ORDERS)
    settings = (mine / "medallion.toml").read_text()
    (mine / "medallion.toml").write_text(
        settings.replace(
            'load = ["pipelines.minimal:PIPELINE"]', 'load = ["pipelines.shop:PIPELINE"]'
        )
    )

    ok(installed.run("build", cwd=mine))
    ok(installed.run("build", "--backend", "postgres", "--pg-url", pg_url, cwd=mine))
    duck, pg = connect(duckdb_path=mine / "medallion.duckdb"), connect(pg_url=pg_url)
    try:
        for schema, table in (
            ("bronze", "bronze_shop_orders"),
            ("silver", "silver_shop_orders"),
            ("silver", "quarantine"),
            ("gold", "gold_customer_totals"),
        ):
            assert rows(duck, schema, table, drop=RUN_COLUMNS) == rows(
                pg, schema, table, drop=RUN_COLUMNS
            ), table
        totals = rows(duck, "gold", "gold_customer_totals", drop=RUN_COLUMNS)
        assert [(name, orders, str(spent)) for name, orders, spent in totals] == [
            ("Ada Lovelace", 2, "10.50"),
            ("Grace Hopper", 1, "3.30"),
            ("Smith, Jo", 1, "7.00"),
            ("Zoë", 1, "0.05"),
        ]
    finally:
        duck.disconnect()
        pg.disconnect()

    listed = json.loads(ok(installed.run("ls", "--output", "json", cwd=mine)))
    assert [entry["name"] for entry in listed] == [
        "bronze_shop_orders",
        "silver_shop_orders",
        "quarantine",
        "gold_customer_totals",
    ]
    assert "GROUP BY" in ok(installed.run("compile", "gold_customer_totals", cwd=mine))
