"""dbt's selection grammar over the loaded graph, and builds of a selection: only the selected
tables are rebuilt and published, the rest are read from (and left as) the published ones."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import connect, rows

from medallion_ibis.cli import main
from medallion_ibis.config import Settings
from medallion_ibis.errors import ConfigurationError
from medallion_ibis.project import installed_pipelines
from medallion_ibis.runner import BuildResult, build
from medallion_ibis.selection import Node, select_nodes

SEEDS = Path(__file__).parent.parent / "seeds"
PIPELINES = installed_pipelines()
GOLD = [
    ("retail", "gold_daily_sales_summary"),
    ("retail", "gold_customer_lifetime_value"),
    ("retail", "gold_product_performance"),
    ("crm_erp", "dim_customers"),
    ("crm_erp", "dim_products"),
    ("crm_erp", "fact_sales"),
]


def names(select: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> set[str]:
    nodes = select_nodes(PIPELINES.values(), select, exclude)
    assert nodes is not None
    return {str(node) for node in nodes}


def test_a_name_selects_that_table_only() -> None:
    assert names(("gold_customer_lifetime_value",)) == {"retail.gold_customer_lifetime_value"}


def test_plus_before_a_name_adds_its_ancestors() -> None:
    assert names(("+gold_customer_lifetime_value",)) == {
        "retail.gold_customer_lifetime_value",
        "retail.silver_sales_cleaned",
        "retail.silver_customers_cleaned",
        "retail.bronze_sales",
        "retail.bronze_customers",
    }
    assert names(("1+gold_customer_lifetime_value",)) == {
        "retail.gold_customer_lifetime_value",
        "retail.silver_sales_cleaned",
        "retail.silver_customers_cleaned",
    }


def test_plus_after_a_name_adds_its_descendants() -> None:
    assert names(("silver_products_cleaned+",)) == {
        "retail.silver_products_cleaned",
        "retail.gold_product_performance",
    }
    assert names(("source:bronze_products+1",)) == {
        "retail.bronze_products",
        "retail.silver_products_cleaned",
        "retail.quarantine",
    }


def test_methods_select_by_layer_pipeline_and_source() -> None:
    assert names(("layer:gold",)) == {f"{p}.{t}" for p, t in GOLD}
    assert names(("pipeline:crm_erp",)) == {
        str(Node("crm_erp", name))
        for name in [*(s.table for s in PIPELINES["crm_erp"].sources), *PIPELINES["crm_erp"].models]
    }
    assert names(("source:bronze_sales",)) == {"retail.bronze_sales"}


def test_a_shared_name_selects_it_in_every_pipeline_unless_qualified() -> None:
    assert names(("quarantine",)) == {"retail.quarantine", "crm_erp.quarantine"}
    assert names(("crm_erp.quarantine",)) == {"crm_erp.quarantine"}


def test_several_selectors_are_a_union_and_exclude_removes() -> None:
    assert names(("dim_customers fact_sales",)) == {"crm_erp.dim_customers", "crm_erp.fact_sales"}
    assert names(("layer:gold",), ("pipeline:crm_erp",)) == {f"{p}.{t}" for p, t in GOLD[:3]}
    assert select_nodes(PIPELINES.values()) is None


@pytest.mark.parametrize("selector", ["gold_nope", "layer:platinum", "colour:red", "a+b+c"])
def test_a_selector_that_matches_nothing_is_an_error(selector: str) -> None:
    with pytest.raises(ConfigurationError):
        select_nodes(PIPELINES.values(), (selector,))


@dataclass
class Warehouse:
    path: Path

    def build(self, *select: str) -> BuildResult:
        settings = Settings(seeds=SEEDS, duckdb_path=self.path)
        return build(
            settings, pipelines=PIPELINES, selection=select_nodes(PIPELINES.values(), select)
        )

    def gold_stamps(self) -> dict[str, Any]:
        con = connect(duckdb_path=self.path)
        try:
            return {
                table: con.table(table, database="gold")._gold_created_at.max().execute()
                for _, table in GOLD
            }
        finally:
            con.disconnect()

    def rows(self, schema: str, table: str, drop: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
        con = connect(duckdb_path=self.path)
        try:
            return rows(con, schema, table, drop=drop)
        finally:
            con.disconnect()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    built = Warehouse(tmp_path_factory.mktemp("selection") / "w.duckdb")
    assert built.build().published
    return built


def ran(result: BuildResult) -> set[str]:
    return {step.node for step in result.steps}


def test_selecting_one_gold_table_rebuilds_only_that_table(warehouse: Warehouse) -> None:
    before = warehouse.gold_stamps()
    result = warehouse.build("gold_customer_lifetime_value")
    assert result.published
    assert ran(result) == {"gold.gold_customer_lifetime_value"}
    after = warehouse.gold_stamps()
    assert after["gold_customer_lifetime_value"] > before["gold_customer_lifetime_value"]
    assert {t: s for t, s in after.items() if t != "gold_customer_lifetime_value"} == {
        t: s for t, s in before.items() if t != "gold_customer_lifetime_value"
    }


def test_plus_name_rebuilds_its_upstream_too(warehouse: Warehouse) -> None:
    before = warehouse.gold_stamps()
    result = warehouse.build("+gold_customer_lifetime_value")
    assert ran(result) == {
        "bronze.bronze_sales",
        "bronze.bronze_customers",
        "silver.silver_sales_cleaned",
        "silver.silver_customers_cleaned",
        "gold.gold_customer_lifetime_value",
    }
    after = warehouse.gold_stamps()
    assert after["gold_daily_sales_summary"] == before["gold_daily_sales_summary"]
    assert after["fact_sales"] == before["fact_sales"]


def test_layer_silver_rebuilds_silver_and_keeps_quarantine_rows(warehouse: Warehouse) -> None:
    # _run_id follows the bronze load a row came from, which an earlier test may have redone
    quarantine = warehouse.rows("silver", "quarantine", drop=("_run_id",))
    before = warehouse.gold_stamps()
    result = warehouse.build("layer:silver")
    silver = {
        f"silver.{name}" + (f"[{p.name}]" if name == "quarantine" else "")
        for p in PIPELINES.values()
        for name, model in p.models.items()
        if model.layer == "silver"
    }
    assert ran(result) == silver
    assert warehouse.gold_stamps() == before
    assert warehouse.rows("silver", "quarantine", drop=("_run_id",)) == quarantine


def test_pipeline_selects_every_table_of_that_pipeline(warehouse: Warehouse) -> None:
    before = warehouse.gold_stamps()
    result = warehouse.build("pipeline:crm_erp")
    assert len(ran(result)) == len(PIPELINES["crm_erp"].sources) + len(PIPELINES["crm_erp"].models)
    after = warehouse.gold_stamps()
    for pipeline, table in GOLD:
        assert (after[table] > before[table]) == (pipeline == "crm_erp"), table


def test_an_input_that_was_never_published_stops_the_build_with_exit_2(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"silver\.silver_sales_cleaned"):
        Warehouse(tmp_path / "empty.duckdb").build("gold_customer_lifetime_value")
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--seeds",
            str(SEEDS),
            "--duckdb-path",
            str(tmp_path / "cli.duckdb"),
            "--target-dir",
            str(tmp_path / "target"),
            "--select",
            "gold_customer_lifetime_value",
        ],
    )
    assert result.exit_code == 2
    assert "has never been published" in result.output


def test_compile_prints_every_selected_model() -> None:
    result = CliRunner().invoke(
        main, ["compile", "--select", "layer:gold", "--as-of", "2024-01-01"]
    )
    assert result.exit_code == 0, result.output
    headers = [line for line in result.output.splitlines() if line.startswith("-- ")]
    assert sorted(headers) == sorted(f"-- {p}.{t}" for p, t in GOLD)
