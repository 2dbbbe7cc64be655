"""dbt's node selection over the loaded pipelines: ``--select`` and ``--exclude``.

Nodes are every source's bronze table and every model, each qualified by its pipeline. A
selector is one of

- ``name`` or ``pipeline.name``: a model or a source's bronze table;
- ``layer:gold``, ``pipeline:retail``, ``source:bronze_sales``: by layer, pipeline or source;

optionally with graph operators: ``+name`` adds every ancestor, ``2+name`` ancestors up to
two steps away, ``name+`` every descendant, ``name+1`` children only. Several selectors are a
union; ``--exclude`` removes what its selectors match. A selector matching nothing is an error
(a typo must not silently build nothing).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from medallion_ibis.errors import ConfigurationError
from medallion_ibis.model import Pipeline

_SELECTOR = re.compile(r"^(?:(?P<up>\d*)\+)?(?P<body>[^+]+?)(?:\+(?P<down>\d*))?$")
METHODS = ("layer", "pipeline", "source")


@dataclass(frozen=True, order=True)
class Node:
    """A table of the graph: ``pipeline`` and the table's name (a source's bronze table or a
    model)."""

    pipeline: str
    name: str

    def __str__(self) -> str:
        return f"{self.pipeline}.{self.name}"


class Graph:
    """The loaded pipelines as nodes and the edges from each table to its readers."""

    def __init__(self, pipelines: Iterable[Pipeline]) -> None:
        self.layers: dict[Node, str] = {}
        self.parents: dict[Node, list[Node]] = {}
        self.sources: set[Node] = set()
        for pipeline in pipelines:
            for source in pipeline.sources:
                node = Node(pipeline.name, source.table)
                self.layers[node] = "bronze"
                self.parents[node] = []
                self.sources.add(node)
            for model in pipeline.models.values():
                node = Node(pipeline.name, model.name)
                self.layers[node] = model.layer
                self.parents[node] = [Node(pipeline.name, name) for name in model.inputs]
        self.children: dict[Node, list[Node]] = {node: [] for node in self.layers}
        for node, parents in self.parents.items():
            for parent in parents:
                self.children.setdefault(parent, []).append(node)

    def match(self, body: str) -> set[Node]:
        """The nodes a selector without graph operators names."""
        method, _, value = body.rpartition(":")
        if method == "layer":
            return {node for node, layer in self.layers.items() if layer == value}
        if method == "pipeline":
            return {node for node in self.layers if node.pipeline == value}
        if method == "source":
            return {node for node in self.sources if value in (node.name, str(node))}
        if method:
            raise ConfigurationError(
                f"unknown selector method {method!r} in {body!r}; use {', '.join(METHODS)}"
            )
        return {node for node in self.layers if body in (node.name, str(node))}

    def walk(
        self, start: set[Node], edges: Mapping[Node, list[Node]], depth: int | None
    ) -> set[Node]:
        """``start`` and every node reachable over ``edges`` within ``depth`` steps."""
        reached, frontier, steps = set(start), set(start), 0
        while frontier and (depth is None or steps < depth):
            frontier = {nxt for node in frontier for nxt in edges.get(node, [])} - reached
            reached |= frontier
            steps += 1
        return reached

    def select(self, selector: str) -> set[Node]:
        """The nodes one selector names, graph operators applied."""
        parsed = _SELECTOR.match(selector)
        if parsed is None:
            raise ConfigurationError(f"cannot read selector {selector!r}")
        matched = self.match(parsed["body"])
        if not matched:
            raise ConfigurationError(f"selector {selector!r} matches no source or model")
        nodes = set(matched)
        if parsed["up"] is not None:
            nodes |= self.walk(matched, self.parents, int(parsed["up"]) if parsed["up"] else None)
        if parsed["down"] is not None:
            down = int(parsed["down"]) if parsed["down"] else None
            nodes |= self.walk(matched, self.children, down)
        return nodes


def selectors(values: Sequence[str]) -> list[str]:
    """Selectors given as repeated options or space-separated within one, as dbt takes them."""
    return [part for value in values for part in value.split()]


def select_nodes(
    pipelines: Iterable[Pipeline], select: Sequence[str] = (), exclude: Sequence[str] = ()
) -> set[Node] | None:
    """The nodes ``select`` minus ``exclude`` name; ``None`` when neither is given (all)."""
    chosen, dropped = selectors(select), selectors(exclude)
    if not chosen and not dropped:
        return None
    graph = Graph(pipelines)
    nodes = set(graph.layers) if not chosen else set().union(*map(graph.select, chosen))
    for selector in dropped:
        nodes -= graph.select(selector)
    if not nodes:
        raise ConfigurationError("the selection is empty: nothing to do")
    return nodes
