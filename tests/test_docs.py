"""``medallion-ibis docs``: the site generated from the shipped pipelines and a real build."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pandera.ibis as pa
import pytest
from click.testing import CliRunner
from docs_site import broken_links, expected_graph_size
from helpers import build_into

from medallion_ibis.cli import main
from medallion_ibis.config import Settings
from medallion_ibis.contracts import INT, TEXT, column, table
from medallion_ibis.docs import Site, generate_site
from medallion_ibis.docs.catalog import PipelineDoc, pipeline_doc
from medallion_ibis.docs.contract_text import describe_check
from medallion_ibis.docs.graph import pipeline_graph
from medallion_ibis.docs.lineage import ColumnRef, ancestry, model_lineage
from medallion_ibis.docs.warehouse import WarehouseFacts, read_warehouse, warehouse_facts
from medallion_ibis.model import Pipeline, Source
from medallion_ibis.project import installed_pipelines
from medallion_ibis.results import write_results
from medallion_ibis.runner import BuildResult, StepResult
from medallion_ibis.selection import select_nodes

PIPELINES = installed_pipelines()

AS_OF = date(2024, 12, 31)
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
CLI = "from medallion_ibis.cli import main; main()"


@dataclass(frozen=True)
class Built:
    site: Site
    warehouse: Path
    result: BuildResult


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Both shipped pipelines built from the bundled seeds, and the site generated over it."""
    folder = tmp_path_factory.mktemp("docs")
    warehouse = folder / "warehouse.duckdb"
    result = build_into(SEEDS, pipelines=list(PIPELINES), duckdb_path=warehouse)
    results = write_results(result, folder / "target")
    con = ibis.duckdb.connect(str(warehouse), read_only=True)
    facts = read_warehouse(con, "duckdb (test)", list(PIPELINES.values()))
    con.disconnect()
    site = generate_site(
        list(PIPELINES.values()), folder / "target" / "docs", run_results=results, warehouse=facts
    )
    return Built(site, warehouse, result)


@pytest.fixture(scope="module")
def docs() -> dict[str, PipelineDoc]:
    """Each shipped pipeline's catalog, computed once for the module."""
    return {name: pipeline_doc(pipeline, AS_OF) for name, pipeline in PIPELINES.items()}


def page_text(site: Site, relative: str) -> str:
    return (site.root / relative).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(PIPELINES))
def test_graph_has_a_node_per_file_and_table_and_an_edge_per_input(
    name: str, docs: dict[str, PipelineDoc]
) -> None:
    pipeline = PIPELINES[name]
    graph = pipeline_graph(docs[name])
    assert (len(graph.nodes), len(graph.edges)) == expected_graph_size(pipeline)
    model_edges = {(up, down) for up, down in graph.edges if not up.startswith("file:")}
    assert model_edges == {
        (f"table:{upstream}", f"table:{model.name}")
        for model in pipeline.models.values()
        for upstream in model.inputs
    }


def test_gold_revenue_traces_to_the_bronze_quantity_and_price(
    docs: dict[str, PipelineDoc],
) -> None:
    doc = docs["retail"]
    gold = doc.tables["gold_daily_sales_summary"]
    assert gold.lineage["total_revenue"].inputs == (
        ColumnRef("silver_sales_cleaned", "total_amount"),
    )
    lineages = {name: t.lineage for name, t in doc.tables.items() if t.lineage}
    traced = ancestry(lineages, ColumnRef("gold_daily_sales_summary", "total_revenue"))
    assert traced.complete
    assert {ref for ref in traced.columns if ref.table == "bronze_sales"} == {
        ColumnRef("bronze_sales", "quantity"),
        ColumnRef("bronze_sales", "unit_price"),
    }


def test_lineage_keeps_the_sources_own_spelling_of_upper_case_columns(
    docs: dict[str, PipelineDoc],
) -> None:
    assert docs["crm_erp"].tables["erp_locations"].lineage["country"].inputs == (
        ColumnRef("erp_loc_a101", "CNTRY"),
    )


def test_a_column_sqlglot_cannot_follow_is_marked_not_derivable() -> None:
    origins = model_lineage(
        "SELECT * FROM bronze.unknown",
        "duckdb",
        {"bronze": {}},
        {"unknown": ("a",)},
        ("a", "b"),
    )
    assert all(not origin.derived for origin in origins.values())
    assert all(origin.note for origin in origins.values())


def test_checks_read_as_the_business_rules_say_them() -> None:
    assert describe_check(pa.Check.ge(0)) == "≥ 0"
    assert describe_check(pa.Check.gt(0.5)) == "> 0.5"
    assert describe_check(pa.Check.isin(["A", "B"])) == "one of: A, B"
    assert describe_check(pa.Check.str_length(32, 32)) == "length 32"
    assert describe_check(pa.Check.in_range(1, 5)) == "1 ≤ value ≤ 5"


def test_every_table_has_a_page_with_its_columns_and_checks(built: Built) -> None:
    for pipeline in PIPELINES.values():
        for table_name in [s.table for s in pipeline.sources] + list(pipeline.models):
            assert (built.site.root / pipeline.name / f"{table_name}.html").is_file()
    page = page_text(built.site, "retail/gold_customer_lifetime_value.html")
    assert 'id="column-customer_segment"' in page
    assert "one of: Champion, Loyal Customer" in page
    assert "Compiled SQL for DuckDB" in page
    assert "Compiled SQL for PostgreSQL" in page
    assert "def gold_customer_lifetime_value(" in page
    source_page = page_text(built.site, "crm_erp/erp_loc_a101.html")
    assert "crm_erp/source_erp/LOC_A101.csv" in source_page
    assert "<code>CID,CNTRY</code>" in source_page
    assert "_row_hash" in source_page


def test_every_link_of_every_page_resolves(built: Built) -> None:
    broken = {
        str(page.relative_to(built.site.root)): problems
        for page in built.site.root.rglob("*.html")
        if (problems := broken_links(page, page.read_text(encoding="utf-8")))
    }
    assert broken == {}


SELECTED = "+gold_customer_lifetime_value"


@pytest.fixture(scope="module")
def selected_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``docs generate --select +gold_customer_lifetime_value`` run through the CLI, once."""
    folder = tmp_path_factory.mktemp("selected")
    result = CliRunner().invoke(
        main,
        [
            *("docs", "generate", "--select", SELECTED, "--no-warehouse"),
            *("--project-dir", str(folder), "--target-dir", str(folder / "target")),
        ],
    )
    assert result.exit_code == 0, result.output
    return folder / "target" / "docs"


def test_a_selection_gets_pages_for_exactly_its_tables(selected_site: Path) -> None:
    nodes = select_nodes(PIPELINES.values(), [SELECTED])
    assert nodes is not None
    assert {node.pipeline for node in nodes} == {"retail"}
    assert "gold_daily_sales_summary" not in {node.name for node in nodes}
    pages = {
        str(page.relative_to(selected_site))
        for page in selected_site.rglob("*.html")
        if page.parent != selected_site
    }
    assert pages == {f"{node.pipeline}/{node.name}.html" for node in nodes}
    assert not (selected_site / "crm_erp").exists()


def test_a_selections_graph_holds_only_its_tables_and_the_edges_between_them(
    selected_site: Path,
) -> None:
    nodes = select_nodes(PIPELINES.values(), [SELECTED])
    assert nodes is not None
    retail = PIPELINES["retail"]
    names = {node.name for node in nodes if node.pipeline == "retail"}
    sources = [source for source in retail.sources if source.table in names]
    edges = len(sources) + sum(
        len(set(model.inputs) & names) for name, model in retail.models.items() if name in names
    )
    expected = f'data-node-count="{len(names) + len(sources)}" data-edge-count="{edges}"'
    assert expected in (selected_site / "retail" / "lineage.svg").read_text(encoding="utf-8")
    assert expected in (selected_site / "index.html").read_text(encoding="utf-8")


def test_every_link_of_a_selections_pages_resolves(selected_site: Path) -> None:
    broken = {
        str(page.relative_to(selected_site)): problems
        for page in selected_site.rglob("*.html")
        if (problems := broken_links(page, page.read_text(encoding="utf-8")))
    }
    assert broken == {}
    silver = (selected_site / "retail" / "silver_sales_cleaned.html").read_text(encoding="utf-8")
    assert "gold.gold_daily_sales_summary" in silver
    assert "gold_daily_sales_summary.html" not in silver


def test_an_empty_selection_is_refused(cli: CliRunner) -> None:
    result = cli.invoke(
        main,
        ["docs", "generate", "--no-warehouse", "--select", SELECTED, "--exclude", SELECTED],
    )
    assert result.exit_code == 2
    assert "the selection is empty" in result.output
    assert not Path("target", "docs").exists()


def test_the_site_fetches_nothing_from_the_network(built: Built) -> None:
    for page in built.site.root.rglob("*.html"):
        assert not re.search(r"(src|href)=\"(https?:)?//", page.read_text(encoding="utf-8"))


def test_quality_page_shows_the_builds_steps_and_quarantine_by_source_and_rule(
    built: Built,
) -> None:
    page = page_text(built.site, "quality.html")
    for step in built.result.steps:
        assert step.node in page
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        groups = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT pipeline, source_table, rule "
            "FROM silver.quarantine)"
        ).fetchone()
    assert groups is not None
    assert groups[0] > 0
    chart = re.search(r'class="chart quarantine"[^>]*data-bars="(\d+)"', page)
    assert chart is not None
    assert int(chart.group(1)) == groups[0]
    assert built.result.run_id in page


def test_without_a_build_the_site_says_so(tmp_path: Path) -> None:
    site = generate_site(
        [PIPELINES["retail"]],
        tmp_path / "docs",
        run_results=tmp_path / "run_results.json",
        warehouse=WarehouseFacts("duckdb (x.duckdb)", note="no DuckDB file at x.duckdb"),
    )
    assert "No build to show" in page_text(site, "index.html")
    quality = page_text(site, "quality.html")
    assert "No build to show" in quality
    assert "no DuckDB file at x.duckdb" in quality


def test_a_project_pipeline_gets_the_same_site(tmp_path: Path) -> None:
    orders = Source(
        table="raw_orders", path="shop/orders.csv", columns=("id", "amount"), system="shop"
    )
    pipeline = Pipeline(name="shop", sources=(orders,), description="A user's own pipeline.")
    contract = table("orders", {"order_id": column(INT), "amount_text": column(TEXT)})

    @pipeline.model(layer="silver", inputs=("raw_orders",), contract=contract)
    def orders_clean(raw: ir.Table) -> ir.Table:
        """Orders with their id parsed."""
        return raw.select(order_id=raw.id.cast("int64"), amount_text=raw.amount)

    site = generate_site([pipeline], tmp_path / "docs", as_of=AS_OF)
    page = page_text(site, "shop/orders_clean.html")
    assert "Orders with their id parsed." in page
    assert "bronze.raw_orders.id" in page
    assert 'data-node-count="3" data-edge-count="2"' in page_text(site, "shop/lineage.svg")


def test_generate_refuses_to_empty_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["docs", "generate", "--target-dir", str(tmp_path), "--no-warehouse"]
    )
    assert result.exit_code == 2
    assert "holds no generated site" in result.output
    assert (tmp_path / "docs" / "notes.txt").read_text() == "mine"


def test_malformed_run_results_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "run_results.json").write_text("{not json")
    result = CliRunner().invoke(
        main, ["docs", "generate", "--target-dir", str(tmp_path), "--no-warehouse"]
    )
    assert result.exit_code == 2
    assert "run_results.json: not readable run results" in result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serving(built: Built) -> Iterator[str]:
    """``medallion-ibis docs serve`` running in its own process on a free port."""
    port = free_port()
    target = built.site.root.parent
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLI,
            "docs",
            "serve",
            "--target-dir",
            str(target),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.communicate()[0].decode()
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_answers_with_the_generated_site(serving: str, built: Built) -> None:
    with urllib.request.urlopen(f"{serving}/index.html", timeout=5) as response:
        body = response.read().decode()
    assert body == page_text(built.site, "index.html")
    with urllib.request.urlopen(f"{serving}/retail/lineage.svg", timeout=5) as response:
        assert response.read().decode().startswith("<svg")


def test_run_results_written_by_a_build_are_read_back(built: Built) -> None:
    document = json.loads((built.site.root.parent / "run_results.json").read_text())
    index = page_text(built.site, "index.html")
    assert f"run <code>{document['run_id']}</code>" in index


def test_a_failed_build_shows_the_failed_contract_and_its_message(tmp_path: Path) -> None:
    result = BuildResult(
        run_id="20241231T000000Z-failed",
        backend="duckdb",
        started_at=datetime(2024, 12, 31),
        as_of={"retail": AS_OF},
        steps=[
            StepResult("bronze.bronze_sales", "success", 10, 0.1),
            StepResult(
                "silver.silver_sales_cleaned",
                "error",
                None,
                0.2,
                "silver.silver_sales_cleaned: contract failed on quantity_valid",
            ),
        ],
    )
    results = write_results(result, tmp_path)
    site = generate_site([PIPELINES["retail"]], tmp_path / "docs", run_results=results)
    quality = page_text(site, "quality.html")
    assert "nothing published" in quality
    row = re.search(r"silver\.silver_sales_cleaned</a></td>(.*?)</tr>", quality)
    assert row is not None
    assert ">contract failed<" in row.group(1)
    assert "contract failed on quantity_valid" in row.group(1)
    assert "Not part of the last build" in page_text(site, "retail/gold_daily_sales_summary.html")


@pytest.mark.postgres
def test_an_empty_postgres_database_reads_as_no_tables(pg_url: str) -> None:
    settings = Settings(backend="postgres", pg_url=pg_url)
    facts = warehouse_facts(settings, list(PIPELINES.values()))
    assert facts.note == ""
    assert facts.rows == {}
    assert facts.quarantine == ()


def test_an_unreachable_postgres_is_a_note_without_the_password() -> None:
    settings = Settings(
        backend="postgres", pg_url=f"postgresql://etl:s3cret@127.0.0.1:{free_port()}/warehouse"
    )
    facts = warehouse_facts(settings, [PIPELINES["retail"]])
    assert facts.note.startswith("cannot connect")
    assert "s3cret" not in facts.note + facts.where


def test_a_missing_duckdb_file_is_a_note_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.duckdb"
    facts = warehouse_facts(Settings(duckdb_path=path), [PIPELINES["retail"]])
    assert facts.note == f"no DuckDB file at {path}"
    assert not path.exists()


def test_serve_without_a_generated_site_says_what_to_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["docs", "serve", "--target-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "run `medallion-ibis docs generate` first" in result.output


def test_serve_looks_in_the_target_dir_the_project_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``docs generate`` writes where the project's target-dir says; ``serve`` must look there."""
    project = tmp_path / "shop"
    project.mkdir()
    (project / "medallion.toml").write_text('target-dir = "out"\n', encoding="utf-8")
    monkeypatch.delenv("MEDALLION_TARGET_DIR", raising=False)
    monkeypatch.chdir(project)
    in_project = CliRunner().invoke(main, ["docs", "serve"])
    assert in_project.exit_code == 2
    assert "no site at out/docs" in in_project.output
    monkeypatch.chdir(tmp_path)
    elsewhere = CliRunner().invoke(main, ["docs", "serve", "--project-dir", str(project)])
    assert elsewhere.exit_code == 2
    assert f"no site at {project / 'out' / 'docs'}" in elsewhere.output


def test_generate_warns_about_an_ignored_setting_like_build(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEDALLION_SEED", "seeds")
    result = cli.invoke(
        main,
        ["docs", "generate", "--pipeline", "retail", "--no-warehouse", "--target-dir", "t"],
    )
    assert result.exit_code == 0, result.output
    assert "Warning: unknown environment variable MEDALLION_SEED is ignored" in result.output
