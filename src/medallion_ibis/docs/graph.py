"""A pipeline's lineage graph and its layered layout.

Nodes are the source files, then the bronze, silver and gold tables; edges point from the
table read to the table built. The layout puts each layer in its own band, left to right. A
table that reads another table of its own layer (a silver table enriched from silver lookups)
goes into a further column of the band, so every edge still points right. Within a column,
nodes are ordered by the mean position of their neighbours (the barycenter heuristic), which
removes most edge crossings in a few sweeps.
"""

from dataclasses import dataclass
from itertools import pairwise
from pathlib import PurePosixPath

from medallion_ibis.docs.catalog import PipelineDoc, TableDoc

BANDS = ("sources", "bronze", "silver", "gold")
NODE_HEIGHT = 46
ROW_GAP = 18
COLUMN_GAP = 96
BAND_PADDING = 18
BAND_HEADER = 34
CHAR_WIDTH = 7.4
"""Average glyph width of the node font (13px sans-serif), to size boxes without a renderer."""
DETAIL_CHAR_WIDTH = 6.4
"""The same for the 11px detail line."""
WAYPOINT_HEIGHT = 4
MIN_NODE_WIDTH = 120
SWEEPS = 4


@dataclass(frozen=True)
class GraphNode:
    """One box of the graph; ``href`` is the page it links to, relative to the site root."""

    id: str
    label: str
    detail: str
    band: str
    kind: str
    href: str


@dataclass(frozen=True)
class Graph:
    pipeline: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[tuple[str, str], ...]


def _table_node(table: TableDoc) -> GraphNode:
    kind = "quarantine" if table.is_quarantine else table.layer
    return GraphNode(
        id=f"table:{table.name}",
        label=table.name,
        detail=f"{table.layer} · {len(table.columns)} columns",
        band=table.layer,
        kind=kind,
        href=table.page,
    )


def pipeline_graph(doc: PipelineDoc) -> Graph:
    """Every documented source file and table of the pipeline, and what reads what among
    them."""
    nodes: list[GraphNode] = []
    edges: list[tuple[str, str]] = []
    for table in doc.sources:
        assert table.source is not None
        file_node = GraphNode(
            id=f"file:{table.name}",
            label=PurePosixPath(table.source.path).name,
            detail=f"{table.source.system} file",
            band="sources",
            kind="file",
            href=table.page,
        )
        nodes.append(file_node)
        edges.append((file_node.id, f"table:{table.name}"))
    nodes.extend(_table_node(table) for table in doc.tables.values())
    edges.extend(
        (f"table:{upstream}", f"table:{table.name}")
        for table in doc.models
        for upstream in table.inputs
        if upstream in doc.tables
    )
    return Graph(doc.name, tuple(nodes), tuple(edges))


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BandArea:
    name: str
    x: float
    width: float


Point = tuple[float, float]


@dataclass(frozen=True)
class Layout:
    """Node boxes, layer bands, and each edge's route as points to pass through."""

    boxes: dict[str, Box]
    bands: tuple[BandArea, ...]
    routes: dict[tuple[str, str], tuple[Point, ...]]
    width: float
    height: float


@dataclass(frozen=True)
class _Slot:
    """A place in a column: a node, or a waypoint of an edge that crosses the column."""

    id: str
    band: str
    quarantine: bool = False
    node: GraphNode | None = None


def _columns(graph: Graph) -> list[list[GraphNode]]:
    """Nodes by column: band by band, then by how many same-band tables precede them."""
    parents: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for upstream, downstream in graph.edges:
        parents[downstream].append(upstream)
    by_id = {node.id: node for node in graph.nodes}
    depth: dict[str, int] = {}

    def depth_of(node_id: str) -> int:
        if node_id not in depth:
            band = by_id[node_id].band
            same_band = [p for p in parents[node_id] if by_id[p].band == band]
            depth[node_id] = 1 + max(map(depth_of, same_band)) if same_band else 0
        return depth[node_id]

    columns: list[list[GraphNode]] = []
    for band in BANDS:
        members = [node for node in graph.nodes if node.band == band]
        if members:
            levels = max(depth_of(node.id) for node in members) + 1
            columns.extend(
                [node for node in members if depth_of(node.id) == level] for level in range(levels)
            )
    return columns


def _slots(
    graph: Graph, columns: list[list[GraphNode]]
) -> tuple[list[list[_Slot]], dict[tuple[str, str], list[str]]]:
    """Columns of slots, and each edge's chain of slots from its start to its end node.

    An edge that spans several columns gets a waypoint in every column between, so it can be
    routed through a gap instead of across the boxes there.
    """
    index = {node.id: number for number, column in enumerate(columns) for node in column}
    slots = [
        [_Slot(node.id, node.band, node.kind == "quarantine", node) for node in column]
        for column in columns
    ]
    chains: dict[tuple[str, str], list[str]] = {}
    for upstream, downstream in graph.edges:
        chain = [upstream]
        for between in range(index[upstream] + 1, index[downstream]):
            waypoint = f"{upstream}->{downstream}#{between}"
            slots[between].append(_Slot(waypoint, columns[between][0].band))
            chain.append(waypoint)
        chains[(upstream, downstream)] = [*chain, downstream]
    return slots, chains


def _ordered(
    slots: list[list[_Slot]], chains: dict[tuple[str, str], list[str]]
) -> list[list[_Slot]]:
    """Barycenter sweeps; quarantine tables stay at the bottom of their column."""
    neighbours: dict[str, list[str]] = {slot.id: [] for column in slots for slot in column}
    for chain in chains.values():
        for left, right in pairwise(chain):
            neighbours[left].append(right)
            neighbours[right].append(left)
    position = {slot.id: float(row) for column in slots for row, slot in enumerate(column)}

    def sort_column(column: list[_Slot], fixed: set[str]) -> list[_Slot]:
        def key(slot: _Slot) -> tuple[bool, float]:
            near = [position[other] for other in neighbours[slot.id] if other in fixed]
            centre = sum(near) / len(near) if near else position[slot.id]
            return (slot.quarantine, centre)

        ordered = sorted(column, key=key)
        for row, slot in enumerate(ordered):
            position[slot.id] = float(row)
        return ordered

    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        for number in range(1, len(slots)) if forward else range(len(slots) - 2, -1, -1):
            fixed = {slot.id for slot in slots[number - 1 if forward else number + 1]}
            slots[number] = sort_column(slots[number], fixed)
    return slots


def _height(slot: _Slot) -> float:
    return NODE_HEIGHT if slot.node is not None else WAYPOINT_HEIGHT


def _column_height(column: list[_Slot]) -> float:
    return sum(map(_height, column)) + (len(column) - 1) * ROW_GAP


def _node_width(node: GraphNode) -> float:
    return max(CHAR_WIDTH * len(node.label), DETAIL_CHAR_WIDTH * len(node.detail)) + 28


def layout(graph: Graph) -> Layout:
    """Positions for every node: columns left to right, each column centred vertically."""
    slots, chains = _slots(graph, _columns(graph))
    slots = _ordered(slots, chains)
    if not slots:
        return Layout({}, (), {}, 0.0, 0.0)
    inner = max(map(_column_height, slots))
    height = BAND_HEADER + inner + 2 * BAND_PADDING
    boxes: dict[str, Box] = {}
    bands: list[BandArea] = []
    x = 0.0
    for number, column in enumerate(slots):
        band = column[0].band
        if number == 0 or slots[number - 1][0].band != band:
            x += COLUMN_GAP - 2 * BAND_PADDING if number else 0.0
            bands.append(BandArea(band, x, 0.0))
            x += BAND_PADDING
        else:
            x += COLUMN_GAP
        nodes = [slot.node for slot in column if slot.node is not None]
        width = max(MIN_NODE_WIDTH, *map(_node_width, nodes))
        y = BAND_HEADER + BAND_PADDING + (inner - _column_height(column)) / 2
        for slot in column:
            boxes[slot.id] = Box(x, y, width, _height(slot))
            y += _height(slot) + ROW_GAP
        x += width
        if number == len(slots) - 1 or slots[number + 1][0].band != band:
            x += BAND_PADDING
            bands[-1] = BandArea(band, bands[-1].x, x - bands[-1].x)
    routes = {edge: _route([boxes[slot] for slot in chain]) for edge, chain in chains.items()}
    node_ids = {node.id for node in graph.nodes}
    return Layout(
        {key: box for key, box in boxes.items() if key in node_ids},
        tuple(bands),
        routes,
        x,
        height,
    )


def _route(chain: list[Box]) -> tuple[Point, ...]:
    """From the right side of the first box, across each waypoint, to the left of the last."""
    first, *between, last = chain
    points: list[Point] = [(first.x + first.width, first.y + first.height / 2)]
    for waypoint in between:
        middle = waypoint.y + waypoint.height / 2
        points.extend([(waypoint.x, middle), (waypoint.x + waypoint.width, middle)])
    points.append((last.x, last.y + last.height / 2))
    return tuple(points)
