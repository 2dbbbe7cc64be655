"""The generated site in a real browser: Debian's chromium, headless.

``--dump-dom`` prints the DOM after the page's scripts ran, so the test sees what a reader
sees: the script's start marker, any script error it caught, and the lineage graph's nodes
and edges. Screenshots go to the test's temporary folder.
"""

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docs_site import broken_links, expected_graph_size

from medallion_ibis.docs import Site, generate_site
from medallion_ibis.project import installed_pipelines

PIPELINES = installed_pipelines()

INSTALL_HINT = (
    "the browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs "
    "it when missing)"
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MODEL_PAGE = "retail/gold_daily_sales_summary.html"


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(INSTALL_HINT)
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    folder = tmp_path_factory.mktemp("browser")
    return generate_site(
        list(PIPELINES.values()), folder / "docs", run_results=folder / "run_results.json"
    )


def run_chromium(chromium: str, profile: Path, *arguments: str) -> str:
    completed = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


class GraphCounter(HTMLParser):
    """Nodes and edges of every lineage ``<svg>``, and the attributes of ``<html>``."""

    def __init__(self) -> None:
        super().__init__()
        self.root: dict[str, str | None] = {}
        self.current: str | None = None
        self.nodes: dict[str, int] = {}
        self.edges: dict[str, int] = {}
        self.wired: dict[str, str | None] = {}
        self.marked_current: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "html":
            self.root = values
        elif tag == "svg" and "lineage" in classes:
            self.current = values["data-pipeline"]
            assert self.current is not None
            self.nodes[self.current] = self.edges[self.current] = 0
            self.wired[self.current] = values.get("data-wired")
        elif self.current is not None and tag == "a" and "node" in classes:
            self.nodes[self.current] += 1
            if "current" in classes:
                self.marked_current.append(str(values.get("data-node")))
        elif self.current is not None and tag == "path" and "edge" in classes:
            self.edges[self.current] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.current = None


def rendered(chromium: str, page: Path, profile: Path) -> tuple[str, GraphCounter]:
    dom = run_chromium(chromium, profile, "--dump-dom", page.as_uri())
    counter = GraphCounter()
    counter.feed(dom)
    return dom, counter


def assert_scripts_ran_cleanly(counter: GraphCounter) -> None:
    assert counter.root.get("data-script-errors") is None, counter.root["data-script-errors"]
    assert counter.root.get("data-ready") == "yes", "the site's script did not start"


def test_index_renders_every_pipelines_lineage_graph(
    chromium: str, site: Site, tmp_path: Path
) -> None:
    dom, counter = rendered(chromium, site.index, tmp_path / "profile")
    assert_scripts_ran_cleanly(counter)
    expected = {name: expected_graph_size(pipeline) for name, pipeline in PIPELINES.items()}
    assert {name: (counter.nodes[name], counter.edges[name]) for name in counter.nodes} == expected
    assert counter.wired == {name: str(nodes) for name, (nodes, _) in expected.items()}
    assert broken_links(site.index, dom) == []
    assert "No build to show" in dom
    shot = tmp_path / "index.png"
    run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1400,1800",
        site.index.as_uri(),
    )
    assert shot.read_bytes().startswith(PNG_SIGNATURE)


def test_model_page_renders_its_columns_and_marks_itself_in_the_graph(
    chromium: str, site: Site, tmp_path: Path
) -> None:
    page = site.root / MODEL_PAGE
    dom, counter = rendered(chromium, page, tmp_path / "profile")
    assert_scripts_ran_cleanly(counter)
    assert counter.marked_current == ["table:gold_daily_sales_summary"]
    assert (counter.nodes["retail"], counter.edges["retail"]) == expected_graph_size(
        PIPELINES["retail"]
    )
    model = PIPELINES["retail"].models["gold_daily_sales_summary"]
    assert model.contract is not None
    anchors = set(re.findall(r'id="column-([^"]+)"', dom))
    assert anchors == set(model.contract.columns)
    assert broken_links(page, dom) == []
    shot = tmp_path / "model.png"
    run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1400,2400",
        page.as_uri(),
    )
    assert shot.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("name", list(PIPELINES))
def test_lineage_svg_opens_on_its_own(chromium: str, site: Site, tmp_path: Path, name: str) -> None:
    svg = site.root / name / "lineage.svg"
    size = re.search(r'width="([\d.]+)" height="([\d.]+)"', svg.read_text(encoding="utf-8"))
    assert size is not None
    width, height = (round(float(value)) for value in size.groups())
    shot = tmp_path / f"{name}-lineage.png"
    run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={width},{height}",
        svg.as_uri(),
    )
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
