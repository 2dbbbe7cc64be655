"""Small HTML building blocks: every text goes through ``html.escape`` here or in the caller."""

import re
from collections.abc import Iterable
from html import escape

SITE_TITLE = "medallion-ibis docs"
_LITERAL = re.compile(r"``(.+?)``")


def link(href: str, text: str, css: str = "") -> str:
    extra = f' class="{escape(css)}"' if css else ""
    return f'<a href="{escape(href)}"{extra}>{escape(text)}</a>'


def paragraphs(text: str) -> str:
    """A docstring as paragraphs: blank lines separate them, other line breaks are spaces,
    and ``literals`` are shown as code."""
    blocks = [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]
    marked = [_LITERAL.sub(r"<code>\1</code>", escape(block)) for block in blocks]
    return "".join(f"<p>{block}</p>" for block in marked)


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], css: str = "") -> str:
    """A table whose cells are already HTML; without headers it has no heading row."""
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    heading = f"<thead><tr>{head}</tr></thead>" if head else ""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    extra = f' class="{escape(css)}"' if css else ""
    return f"<table{extra}>{heading}<tbody>{body}</tbody></table>"


def code_block(text: str, language: str) -> str:
    return f'<pre class="code" data-language="{escape(language)}"><code>{escape(text)}</code></pre>'


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def page(title: str, body: str, root: str) -> str:
    """A whole page; ``root`` leads from the page's folder to the site root ('' or '../')."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {SITE_TITLE}</title>"
        f'<link rel="stylesheet" href="{root}assets/style.css">'
        f'<script src="{root}assets/site.js"></script>'
        "</head><body>"
        f'<header class="top"><a class="brand" href="{root}index.html">{SITE_TITLE}</a>'
        f'<nav><a href="{root}index.html">Pipelines</a>'
        f'<a href="{root}quality.html">Data quality</a></nav></header>'
        f"<main>{body}</main></body></html>\n"
    )
