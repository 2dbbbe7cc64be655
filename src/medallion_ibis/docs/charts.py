"""Horizontal bar charts as SVG, for the data-quality page: no library, no network."""

from html import escape

BAR_HEIGHT = 20
BAR_GAP = 8
LABEL_WIDTH = 330
BAR_SPACE = 360
VALUE_WIDTH = 90
LABEL_CHAR_WIDTH = 6.9


def _clipped(label: str) -> str:
    limit = int(LABEL_WIDTH / LABEL_CHAR_WIDTH) - 1
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(bars: list[tuple[str, float, str]], caption: str, css: str) -> str:
    """One bar per (label, value, value text), scaled to the largest value."""
    largest = max((value for _, value, _ in bars), default=0.0) or 1.0
    height = len(bars) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    width = LABEL_WIDTH + BAR_SPACE + VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(css)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(caption)}" data-bars="{len(bars)}">'
    ]
    for index, (label, value, text) in enumerate(bars):
        y = BAR_GAP + index * (BAR_HEIGHT + BAR_GAP)
        length = max(1.0, BAR_SPACE * value / largest) if value else 0.0
        middle = y + BAR_HEIGHT / 2 + 4
        parts.append(
            f"<g><title>{escape(label)}: {escape(text)}</title>"
            f'<text class="bar-label" x="{LABEL_WIDTH - 8}" y="{middle}" '
            f'text-anchor="end">{escape(_clipped(label))}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT}" rx="3"/>'
            f'<text class="bar-value" x="{LABEL_WIDTH + length + 6:.1f}" y="{middle}">'
            f"{escape(text)}</text></g>"
        )
    parts.append("</svg>")
    figure = "".join(parts)
    return (
        f'<figure class="chart-figure">{figure}<figcaption>{escape(caption)}</figcaption></figure>'
    )
