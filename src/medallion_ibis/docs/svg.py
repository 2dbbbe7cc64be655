"""The lineage graph drawn as SVG: no renderer, no network, readable without scripts.

Every node is a link to its page and carries ``data-node``; every edge carries ``data-from``
and ``data-to``, which the site's script uses to highlight a table's neighbours and which the
browser test counts.
"""

from html import escape

from medallion_ibis.docs.graph import Graph, Layout, Point, layout

STYLE = """
.lineage { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
.lineage .band { fill: #f6f7f9; stroke: #e1e4e8; }
.lineage .band-title { font-size: 12px; font-weight: 600; fill: #57606a;
  letter-spacing: 0.08em; text-transform: uppercase; }
.lineage .edge { fill: none; stroke: #8c959f; stroke-width: 1.4; }
.lineage .node rect { stroke-width: 1.6; rx: 6px; }
.lineage .node .label { font-size: 13px; fill: #1f2328; }
.lineage .node .detail { font-size: 11px; fill: #57606a; }
.lineage .node-file rect { fill: #ffffff; stroke: #8c959f; stroke-dasharray: 4 3; }
.lineage .node-bronze rect { fill: #fbefe4; stroke: #b0703c; }
.lineage .node-silver rect { fill: #eef2f7; stroke: #7d8ea3; }
.lineage .node-gold rect { fill: #fdf5d8; stroke: #c49a0c; }
.lineage .node-quarantine rect { fill: #fdecea; stroke: #c0392b; }
.lineage .dimmed { opacity: 0.25; }
.lineage .edge.lit { stroke: #0969da; stroke-width: 2.2; }
.lineage .node.lit rect { stroke: #0969da; stroke-width: 2.4; }
.lineage .node.current rect { stroke: #1f2328; stroke-width: 3; }
"""

LABEL_BASELINE = 19
DETAIL_BASELINE = 35
TEXT_INSET = 12


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _path(points: tuple[Point, ...]) -> str:
    """Curves between columns, straight runs across the columns an edge passes through."""
    (x, y), *rest = points
    commands = [f"M {_number(x)} {_number(y)}"]
    for index, (next_x, next_y) in enumerate(rest):
        if index % 2 == 0:
            bend = (next_x - x) / 2
            commands.append(
                f"C {_number(x + bend)} {_number(y)}, {_number(next_x - bend)} {_number(next_y)}, "
                f"{_number(next_x)} {_number(next_y)}"
            )
        else:
            commands.append(f"L {_number(next_x)} {_number(next_y)}")
        x, y = next_x, next_y
    return " ".join(commands)


def draw(graph: Graph, href_prefix: str = "", *, current: str = "") -> str:
    """The graph as an ``<svg>`` element; ``href_prefix`` leads from the page to the site root.

    ``current`` marks the node of the page the graph is shown on. The style is embedded, so
    the same markup works inline in a page and as a ``.svg`` file opened on its own.
    """
    placed: Layout = layout(graph)
    marker = f"arrow-{graph.pipeline}"
    width, height = _number(placed.width), _number(placed.height)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-label="Lineage of pipeline {escape(graph.pipeline)}" '
        f'data-pipeline="{escape(graph.pipeline)}" data-node-count="{len(graph.nodes)}" '
        f'data-edge-count="{len(graph.edges)}">',
        f"<style>{STYLE}</style>",
        f'<defs><marker id="{escape(marker)}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f"/></marker></defs>',
    ]
    for band in placed.bands:
        parts.append(
            f'<rect class="band" x="{_number(band.x)}" y="0" width="{_number(band.width)}" '
            f'height="{height}" rx="8"/>'
            f'<text class="band-title" x="{_number(band.x + 14)}" y="22">{escape(band.name)}</text>'
        )
    for (upstream, downstream), points in placed.routes.items():
        parts.append(
            f'<path class="edge" d="{_path(points)}" marker-end="url(#{escape(marker)})" '
            f'data-from="{escape(upstream)}" data-to="{escape(downstream)}"/>'
        )
    for node in graph.nodes:
        box = placed.boxes[node.id]
        css = f"node node-{node.kind}" + (" current" if node.id == current else "")
        parts.append(
            f'<a class="{escape(css)}" href="{escape(href_prefix + node.href)}" '
            f'data-node="{escape(node.id)}">'
            f"<title>{escape(node.label)} ({escape(node.detail)})</title>"
            f'<rect x="{_number(box.x)}" y="{_number(box.y)}" width="{_number(box.width)}" '
            f'height="{_number(box.height)}"/>'
            f'<text class="label" x="{_number(box.x + TEXT_INSET)}" '
            f'y="{_number(box.y + LABEL_BASELINE)}">{escape(node.label)}</text>'
            f'<text class="detail" x="{_number(box.x + TEXT_INSET)}" '
            f'y="{_number(box.y + DETAIL_BASELINE)}">{escape(node.detail)}</text></a>'
        )
    parts.append("</svg>")
    return "".join(parts)
