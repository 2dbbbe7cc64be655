"""Loading a user's project: its settings file, its pipelines, and the mistakes in its code,
each stopped before any database work with a sentence naming the user's file and line."""

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from medallion_ibis.cli import main
from medallion_ibis.errors import ConfigurationError
from medallion_ibis.project import installed_pipelines, load_project

ORDERS = '''
import ibis.expr.types as ir
from ibis import _

from medallion_ibis import INT, KeyScreen, Pipeline, Source, column, parse_int, table

ORDERS = Source("bronze_orders", "orders.csv", columns=("order_id", "amount"), system="shop")
PIPELINE = Pipeline("orders", sources=(ORDERS,), description="Shop orders.")
KEYS = KeyScreen(ORDERS.table, required=("order_id",), integer=("order_id",), key=("order_id",))


@PIPELINE.model(layer="silver", inputs=(ORDERS.table,),
                contract=table("silver_orders", {"order_id": column(INT)}))
def silver_orders(bronze_orders: ir.Table) -> ir.Table:
    """One row per order."""
    return KEYS.accepted(bronze_orders).select(order_id=parse_int(_.order_id))
'''


def write_project(
    root: Path, module: str = ORDERS, load: str = "pipelines.orders:PIPELINE"
) -> Path:
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    (root / "pipelines" / "orders.py").write_text(textwrap.dedent(module))
    (root / "medallion.toml").write_text(f'load = ["{load}"]\nseeds = "data"\n')
    return root


def line_of(path: Path, text: str) -> int:
    """The 1-based line of ``path`` that holds ``text``."""
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_a_project_loads_its_pipelines_by_import_path_without_being_installed(
    tmp_path: Path,
) -> None:
    project = load_project(write_project(tmp_path))
    assert list(project.pipelines) == ["orders"]
    assert list(project.pipelines["orders"].models) == ["silver_orders"]
    assert project.config_file == tmp_path / "medallion.toml"


def test_relative_paths_in_the_project_file_resolve_against_the_project_folder(
    tmp_path: Path,
) -> None:
    project = load_project(write_project(tmp_path))
    settings = project.settings({}, environ={})
    assert settings.seeds == tmp_path / "data"
    assert settings.duckdb_path == tmp_path / "medallion.duckdb"  # a default, also rebased
    flagged = project.settings({"duckdb-path": "here.duckdb"}, environ={"MEDALLION_SEEDS": "s"})
    assert (flagged.duckdb_path, flagged.seeds) == (Path("here.duckdb"), Path("s"))


def test_pyproject_table_works_like_medallion_toml(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "medallion.toml").unlink()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.medallion-ibis]\nload = ["pipelines.orders:PIPELINE"]\n'
    )
    assert list(load_project(tmp_path).pipelines) == ["orders"]


def test_two_projects_in_one_process_do_not_share_modules(tmp_path: Path) -> None:
    first = load_project(write_project(tmp_path / "a"))
    second = load_project(
        write_project(tmp_path / "b", ORDERS.replace('Pipeline("orders"', 'Pipeline("sales"'))
    )
    assert list(first.pipelines) == ["orders"]
    assert list(second.pipelines) == ["sales"]


def test_a_regular_package_of_one_project_does_not_shadow_the_next(tmp_path: Path) -> None:
    first = write_project(tmp_path / "a")
    (first / "pipelines" / "__init__.py").write_text("")
    assert list(load_project(first).pipelines) == ["orders"]
    second = write_project(
        tmp_path / "b",
        ORDERS.replace('Pipeline("orders"', 'Pipeline("sales"'),
        "pipelines.orders:PIPELINE",
    )
    (second / "pipelines" / "orders.py").rename(second / "pipelines" / "sales.py")
    (second / "medallion.toml").write_text('load = ["pipelines.sales:PIPELINE"]\n')
    assert list(load_project(second).pipelines) == ["sales"]


def test_without_load_every_registered_pipeline_is_loaded(tmp_path: Path) -> None:
    assert list(load_project(tmp_path).pipelines) == ["crm_erp", "retail"]
    assert list(installed_pipelines()) == ["crm_erp", "retail"]


def test_bare_names_load_registered_pipelines(tmp_path: Path) -> None:
    (tmp_path / "medallion.toml").write_text('load = ["retail"]\n')
    assert list(load_project(tmp_path).pipelines) == ["retail"]


def failure(root: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_project(root)
    return str(caught.value)


def test_a_module_that_cannot_be_imported_names_the_project_file_line(tmp_path: Path) -> None:
    write_project(tmp_path, load="pipelines.missing:PIPELINE")
    message = failure(tmp_path)
    assert f"{tmp_path / 'medallion.toml'}:1:" in message
    assert "no module named 'pipelines.missing'" in message


def test_an_unknown_registered_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "medallion.toml").write_text('seeds = "x"\nload = ["retial"]\n')
    message = failure(tmp_path)
    assert f"{tmp_path / 'medallion.toml'}:2:" in message
    assert "crm_erp, retail" in message


def test_a_module_that_raises_on_import_names_the_raising_line(tmp_path: Path) -> None:
    write_project(tmp_path, ORDERS + "\nVALUE = 1 / 0\n")
    module = tmp_path / "pipelines" / "orders.py"
    message = failure(tmp_path)
    assert f"{module}:{line_of(module, 'VALUE = 1 / 0')}:" in message
    assert "ZeroDivisionError" in message


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    write_project(tmp_path, ORDERS + "\ndef broken(:\n")
    module = tmp_path / "pipelines" / "orders.py"
    assert f"{module}:{line_of(module, 'def broken(:')}:" in failure(tmp_path)


def test_an_attribute_that_is_not_a_pipeline_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, load="pipelines.orders:ORDERS")
    assert "must name a medallion_ibis.Pipeline, but" in failure(tmp_path)


def test_two_pipelines_with_one_name_name_both_declarations(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "pipelines" / "copy.py").write_text(textwrap.dedent(ORDERS))
    (tmp_path / "medallion.toml").write_text(
        'load = ["pipelines.orders:PIPELINE", "pipelines.copy:PIPELINE"]\n'
    )
    message = failure(tmp_path)
    copy, orders = tmp_path / "pipelines" / "copy.py", tmp_path / "pipelines" / "orders.py"
    assert f"{copy}:{line_of(copy, 'PIPELINE = Pipeline(')}:" in message
    assert f"{orders}:{line_of(orders, 'PIPELINE = Pipeline(')}" in message


def test_a_model_reading_an_unknown_table_names_the_model(tmp_path: Path) -> None:
    write_project(tmp_path, ORDERS.replace("inputs=(ORDERS.table,)", 'inputs=("bronze_order",)'))
    module = tmp_path / "pipelines" / "orders.py"
    message = failure(tmp_path)
    assert f"{module}:{line_of(module, '@PIPELINE.model')}:" in message
    assert "unknown table(s) bronze_order" in message


CYCLE = """

@PIPELINE.model(layer="gold", inputs=("gold_b",))
def gold_a(gold_b: ir.Table) -> ir.Table:
    return gold_b


@PIPELINE.model(layer="gold", inputs=("gold_a",))
def gold_b(gold_a: ir.Table) -> ir.Table:
    return gold_a
"""


def test_a_cycle_is_refused_with_its_path(tmp_path: Path) -> None:
    write_project(tmp_path, ORDERS + CYCLE)
    message = failure(tmp_path)
    assert "dependency cycle" in message
    assert str(tmp_path / "pipelines" / "orders.py") in message


def test_a_contract_naming_an_unknown_column_names_the_model(tmp_path: Path) -> None:
    write_project(
        tmp_path, ORDERS.replace('{"order_id": column(INT)}', '{"order_nr": column(INT)}')
    )
    module = tmp_path / "pipelines" / "orders.py"
    message = failure(tmp_path)
    assert f"{module}:{line_of(module, '@PIPELINE.model')}:" in message
    assert "names column(s) order_nr that the model does not produce" in message


def test_a_model_that_raises_while_building_names_the_raising_line(tmp_path: Path) -> None:
    write_project(tmp_path, ORDERS.replace("select(order_id=", "select(order_nr=_.nope, order_id="))
    module = tmp_path / "pipelines" / "orders.py"
    message = failure(tmp_path)
    assert f"{module}:{line_of(module, '_.nope')}:" in message
    assert "model orders.silver_orders raised" in message


MISTAKES = {
    "import fails": (ORDERS + "\nVALUE = 1 / 0\n", "VALUE = 1 / 0"),
    "unknown input": (
        ORDERS.replace("inputs=(ORDERS.table,)", 'inputs=("bronze_order",)'),
        "@PIPELINE.model",
    ),
    "cycle": (ORDERS + CYCLE, '@PIPELINE.model(layer="gold", inputs=("gold_b",))'),
    "contract column": (
        ORDERS.replace('{"order_id": column(INT)}', '{"order_nr": column(INT)}'),
        "@PIPELINE.model",
    ),
    "model raises": (ORDERS.replace("select(order_id=", "select(x=_.nope, order_id="), "_.nope"),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
@pytest.mark.parametrize("command", [["ls"], ["compile", "silver_orders"], ["build"]])
def test_the_cli_reports_user_mistakes_with_exit_code_2_file_and_line(
    tmp_path: Path, mistake: str, command: list[str]
) -> None:
    module, marker = MISTAKES[mistake]
    write_project(tmp_path, module)
    path = tmp_path / "pipelines" / "orders.py"
    result = CliRunner().invoke(main, [*command, "--project-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:{line_of(path, marker)}:" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "medallion.duckdb").exists()


def test_two_pipelines_with_one_name_stop_the_cli_too(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "pipelines" / "copy.py").write_text(textwrap.dedent(ORDERS))
    (tmp_path / "medallion.toml").write_text(
        'load = ["pipelines.orders:PIPELINE", "pipelines.copy:PIPELINE"]\n'
    )
    result = CliRunner().invoke(main, ["ls", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "copy.py:" in result.output
    assert "a second pipeline is named 'orders'" in result.output


def test_pipeline_accepts_any_loaded_name_and_refuses_others(tmp_path: Path) -> None:
    write_project(tmp_path)
    result = CliRunner().invoke(
        main, ["build", "--project-dir", str(tmp_path), "--pipeline", "retail"]
    )
    assert result.exit_code == 2
    assert "unknown pipeline retail; loaded: orders" in result.output
