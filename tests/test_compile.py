"""Every model of every pipeline compiles for every supported dialect.

``compile_model`` goes through the dialect's compiler, which raises on anything it cannot
express (``ibis.to_sql`` would only warn), so this is a cheap gate against dialect drift.
"""

from datetime import date

import pytest
from click.testing import CliRunner

from medallion_ibis.cli import main
from medallion_ibis.compile import COMPILERS, compile_model
from medallion_ibis.errors import ConfigurationError
from medallion_ibis.project import installed_pipelines

AS_OF = date(2024, 1, 19)
PIPELINES = installed_pipelines()
MODELS = [
    f"{pipeline.name}.{model}" for pipeline in PIPELINES.values() for model in pipeline.models
]
RETAIL_MODELS = {
    "silver_sales_cleaned",
    "silver_customers_cleaned",
    "silver_products_cleaned",
    "quarantine",
    "gold_daily_sales_summary",
    "gold_customer_lifetime_value",
    "gold_product_performance",
}


def test_the_supported_dialects_are_duckdb_and_postgres() -> None:
    assert set(COMPILERS) == {"duckdb", "postgres"}


def test_the_retail_pipeline_registers_its_seven_models() -> None:
    assert set(PIPELINES["retail"].models) == RETAIL_MODELS


@pytest.mark.parametrize("dialect", sorted(COMPILERS))
@pytest.mark.parametrize("model", MODELS)
def test_every_model_compiles(model: str, dialect: str) -> None:
    sql = compile_model(model, dialect, AS_OF, PIPELINES.values())
    assert sql.lstrip().upper().startswith(("SELECT", "WITH"))
    pipeline, _, name = model.partition(".")
    for upstream in PIPELINES[pipeline].models[name].inputs:
        assert upstream in sql


@pytest.mark.parametrize("dialect", sorted(COMPILERS))
def test_only_models_with_days_since_rules_depend_on_the_as_of_date(dialect: str) -> None:
    def differs(model: str) -> bool:
        name = f"retail.{model}"
        return compile_model(name, dialect, AS_OF, PIPELINES.values()) != compile_model(
            name, dialect, date(2024, 2, 1), PIPELINES.values()
        )

    # _gold_created_at also follows the run, so gold tables differ in any case; silver must not
    assert differs("silver_customers_cleaned")
    assert not differs("silver_sales_cleaned")
    assert not differs("silver_products_cleaned")


def test_an_unknown_model_is_a_configuration_error_listing_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"retail\.gold_product_performance"):
        compile_model("gold_nonexistent", "duckdb", AS_OF, PIPELINES.values())


def test_cli_compile_prints_the_sql(cli: CliRunner) -> None:
    result = cli.invoke(
        main,
        [
            "compile",
            "gold_customer_lifetime_value",
            "--dialect",
            "postgres",
            "--as-of",
            "2024-01-19",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == compile_model(
            "retail.gold_customer_lifetime_value", "postgres", AS_OF, PIPELINES.values()
        )
        + "\n"
    )
    assert '"silver"."silver_sales_cleaned"' in result.output


def test_cli_compile_of_an_unknown_model_exits_2(cli: CliRunner) -> None:
    result = cli.invoke(main, ["compile", "gold_nonexistent"])
    assert result.exit_code == 2
    assert "no model named 'gold_nonexistent'" in result.output
