"""Shared by the docs tests: what a pipeline's lineage graph must hold, and a link checker."""

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from medallion_ibis.model import Pipeline


def expected_graph_size(pipeline: Pipeline) -> tuple[int, int]:
    """Nodes: a file and a bronze table per source, one per model. Edges: file → bronze, and
    one per model input."""
    nodes = 2 * len(pipeline.sources) + len(pipeline.models)
    edges = len(pipeline.sources) + sum(len(model.inputs) for model in pipeline.models.values())
    return nodes, edges


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for name in ("href", "src"):
            if values.get(name):
                self.targets.append(str(values[name]))


def parse_links(html: str) -> tuple[list[str], set[str]]:
    """The href/src values and the element ids of a page."""
    parser = _Links()
    parser.feed(html)
    return parser.targets, parser.ids


def broken_links(page: Path, html: str) -> list[str]:
    """Every link of ``page`` (whose markup is ``html``) that does not resolve to a file of
    the site, or to an element id of that file."""
    targets, _ = parse_links(html)
    broken = []
    for target in targets:
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            broken.append(f"{target} (leaves the site)")
            continue
        path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not path.is_file():
            broken.append(f"{target} (no file {path})")
            continue
        if parts.fragment and path.suffix == ".html":
            _, ids = parse_links(path.read_text(encoding="utf-8"))
            if unquote(parts.fragment) not in ids:
                broken.append(f"{target} (no id {parts.fragment} in {path.name})")
    return broken
