"""The site's pages as HTML text: the overview, one page per table, and data quality."""

from collections.abc import Iterable
from html import escape
from typing import get_args

from medallion_ibis.docs.catalog import PipelineDoc, TableDoc, safe_file_name
from medallion_ibis.docs.charts import bar_chart
from medallion_ibis.docs.graph import Graph
from medallion_ibis.docs.last_run import RunRecord, StepRecord
from medallion_ibis.docs.lineage import ColumnRef, ancestry
from medallion_ibis.docs.markup import code_block, link, note, page, paragraphs, table
from medallion_ibis.docs.svg import draw
from medallion_ibis.docs.warehouse import WarehouseFacts
from medallion_ibis.model import Layer

LAYERS: tuple[str, ...] = get_args(Layer)
DIALECT_TITLES = {"duckdb": "DuckDB", "postgres": "PostgreSQL"}
NO_RUN = (
    "No build to show: there are no run results at {path}. Run `medallion-ibis build`, then "
    "`medallion-ibis docs generate` again."
)


def column_anchor(column: str) -> str:
    return f"column-{safe_file_name(column)}"


def step_of(run: RunRecord | None, pipeline: str, doc: TableDoc) -> StepRecord | None:
    """The run's step that built ``doc``: ``layer.table``, or ``layer.table[pipeline]``."""
    if run is None:
        return None
    for step in run.steps:
        parsed = step.table
        if parsed is None:
            continue
        schema, name, owner = parsed
        if (schema, name) == (doc.layer, doc.name) and owner in (None, pipeline):
            return step
    return None


def contract_result(doc: TableDoc, step: StepRecord | None) -> str:
    """What the last build checked on the table: a source's header, a model's contract."""
    if doc.source is not None:
        return "header checked" if step is not None and step.status == "success" else "—"
    if not doc.has_contract:
        return "no contract"
    if step is None:
        return "contract not checked"
    return "contract passed" if step.status == "success" else "contract failed"


def _rows(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _status(text: str) -> str:
    return f'<span class="status status-{escape(safe_file_name(text))}">{escape(text)}</span>'


def run_banner(run: RunRecord | None, results_path: str) -> str:
    if run is None:
        return f'<div class="banner banner-empty">{escape(NO_RUN.format(path=results_path))}</div>'
    as_of = ", ".join(f"{name} {day.isoformat()}" for name, day in run.as_of.items()) or "n/a"
    published = "published" if run.published else "nothing published"
    return (
        f'<div class="banner banner-{escape(safe_file_name(run.status))}">Last build: '
        f"{_status(run.status)} ({escape(published)}) on {escape(run.backend)}, started "
        f"{escape(run.started_at)}, {run.seconds:.1f}s, as of {escape(as_of)}, run "
        f"<code>{escape(run.run_id)}</code></div>"
    )


def _lineage_coverage(doc: PipelineDoc) -> str:
    origins = [origin for table in doc.models for origin in table.lineage.values()]
    derived = sum(origin.derived for origin in origins)
    return f"column lineage derived for {derived} of {len(origins)} model columns"


def index_page(
    docs: list[PipelineDoc], graphs: dict[str, Graph], run: RunRecord | None, results_path: str
) -> str:
    """Every pipeline: its description, lineage graph and tables."""
    sections = [run_banner(run, results_path)]
    for doc in docs:
        rows = [
            [
                link(t.page, t.name),
                escape(t.layer) + (" · quarantine" if t.is_quarantine else ""),
                escape(t.description.split("\n\n")[0].replace("\n", " ")),
                str(len(t.columns)),
                _rows(step.rows if (step := step_of(run, doc.name, t)) else None),
            ]
            for t in sorted(doc.tables.values(), key=lambda t: LAYERS.index(t.layer))
        ]
        sections.append(
            f'<section class="pipeline" id="pipeline-{escape(safe_file_name(doc.name))}">'
            f"<h2>{escape(doc.name)}</h2>{paragraphs(doc.description)}"
            f'<p class="hint">Hover a table to light up everything upstream and downstream of '
            f"it; click it to open its page. SQL compiled as of {doc.as_of.isoformat()}; "
            f"{_lineage_coverage(doc)}.</p>"
            f'<div class="graph">{draw(graphs[doc.name])}</div>'
            + table(["table", "layer", "description", "columns", "rows (last build)"], rows)
            + "</section>"
        )
    return page("Pipelines", "<h1>Pipelines</h1>" + "".join(sections), root="")


def _table_link(doc: PipelineDoc, name: str, text: str, anchor: str = "", css: str = "") -> str:
    """A link to the table's page, or plain text when the table is not documented (left out
    by ``--select``), so no link dangles."""
    if name not in doc.tables:
        return escape(text)
    return link(f"{safe_file_name(name)}.html{anchor}", text, css)


def _ref_link(ref: ColumnRef, doc: PipelineDoc) -> str:
    layer = doc.catalog[ref.table].layer
    anchor = f"#{column_anchor(ref.column)}"
    return _table_link(doc, ref.table, f"{layer}.{ref.table}.{ref.column}", anchor, "ref")


def _refs(refs: Iterable[ColumnRef], doc: PipelineDoc) -> str:
    return "<br>".join(_ref_link(ref, doc) for ref in refs)


def _lineage_cells(doc: PipelineDoc, current: TableDoc, column: str) -> list[str]:
    """What the column is computed from, and every column further upstream, nearest layer
    first (a gold column's silver columns, then their bronze columns)."""
    origin = current.lineage.get(column)
    if origin is None:
        return ["", ""]
    if not origin.derived:
        return [f'<span class="underivable">not derivable: {escape(origin.note)}</span>', ""]
    direct = _refs(origin.inputs, doc) or '<span class="muted">no input column</span>'
    models = {name: table.lineage for name, table in doc.catalog.items() if table.lineage}
    traced = ancestry(models, ColumnRef(current.name, column))
    further = sorted(
        set(traced.columns) - set(origin.inputs),
        key=lambda ref: (-LAYERS.index(doc.catalog[ref.table].layer), ref),
    )
    upstream = _refs(further, doc) or '<span class="muted">—</span>'
    if not traced.complete:
        upstream += (
            '<br><span class="underivable">(partly: an upstream column is not derivable)</span>'
        )
    return [direct, upstream]


def _columns_section(doc: PipelineDoc, current: TableDoc) -> str:
    has_lineage = bool(current.lineage)
    headers = ["column", "type", "contract checks"]
    if has_lineage:
        headers += ["computed from", "further upstream"]
    rows = []
    for column in current.columns:
        cells = [
            f'<code id="{column_anchor(column.name)}">{escape(column.name)}</code>',
            f"<code>{escape(str(column.dtype))}</code>",
            escape(", ".join(column.checks)) or '<span class="muted">—</span>',
        ]
        if has_lineage:
            cells += _lineage_cells(doc, current, column.name)
        rows.append(cells)
    explanation = (
        '<p class="hint">Column lineage is read from the compiled SQL with sqlglot: the input '
        "columns a value is computed from (filters and join keys are not listed).</p>"
        if has_lineage
        else ""
    )
    return "<h2>Columns</h2>" + explanation + table(headers, rows, "columns")


def _neighbours(doc: PipelineDoc, names: tuple[str, ...]) -> str:
    if not names:
        return '<span class="muted">none</span>'
    return ", ".join(_table_link(doc, name, f"{doc.catalog[name].layer}.{name}") for name in names)


def _last_build(
    doc: PipelineDoc, current: TableDoc, run: RunRecord | None, facts: WarehouseFacts | None
) -> str:
    step = step_of(run, doc.name, current)
    if run is None:
        text = "No build to show."
    elif step is None:
        text = f"Not part of the last build (run {run.run_id})."
    else:
        text = (
            f"{step.status}: {_rows(step.rows)} rows in {step.seconds:.2f}s, "
            f"{contract_result(current, step)} (run {run.run_id})."
        )
        if step.message:
            text += f" {step.message}"
    rows_now = facts.rows.get((current.layer, current.name)) if facts and not facts.note else None
    now = f" Rows in {facts.where} now: {rows_now:,}." if facts and rows_now is not None else ""
    return f"<p>{escape(text + now)}</p>"


def _source_section(current: TableDoc) -> str:
    source = current.source
    if source is None:
        return ""
    lineage_columns = [c.name for c in current.columns if c.name not in source.columns]
    return (
        "<h2>Source file</h2>"
        + table(
            [],
            [
                ["file", f"<code>{escape(source.path)}</code> (under the source folder)"],
                ["system", escape(source.system)],
                ["header", f"<code>{escape(','.join(source.columns))}</code>"],
                [
                    "lineage columns",
                    ", ".join(f"<code>{escape(c)}</code>" for c in lineage_columns),
                ],
            ],
            "facts",
        )
        + '<p class="hint">Every value is kept as text, exactly as received; the header must '
        "match exactly before anything is loaded.</p>"
    )


def table_page(
    doc: PipelineDoc,
    current: TableDoc,
    graph: Graph,
    run: RunRecord | None,
    facts: WarehouseFacts | None,
) -> str:
    """One table: what it is, where it comes from, its columns, SQL and code."""
    badges = f'<span class="badge badge-{escape(current.layer)}">{escape(current.layer)}</span>'
    if current.is_quarantine:
        badges += '<span class="badge badge-quarantine">quarantine</span>'
    body = [
        f'<p class="crumbs">{link("../index.html#pipeline-" + safe_file_name(doc.name), doc.name)}'
        f" / {escape(current.layer)}</p>",
        f'<h1 data-table="{escape(current.name)}">{escape(current.name)} {badges}</h1>',
        paragraphs(current.description),
        table(
            [],
            [
                ["reads", _neighbours(doc, current.inputs)],
                ["read by", _neighbours(doc, current.dependants)],
            ],
            "facts",
        ),
        "<h2>Last build</h2>",
        _last_build(doc, current, run, facts),
        f'<div class="graph">{draw(graph, "../", current=f"table:{current.name}")}</div>',
        _source_section(current),
        _columns_section(doc, current),
    ]
    if current.table_checks:
        body.append("<h2>Table checks</h2><ul>")
        body.extend(f"<li>{escape(rule)}</li>" for rule in current.table_checks)
        body.append("</ul>")
    for dialect, sql in current.sql.items():
        title = DIALECT_TITLES.get(dialect, dialect)
        body.append(
            f"<details><summary>Compiled SQL for {escape(title)} (as of "
            f"{doc.as_of.isoformat()})</summary>{code_block(sql, 'sql')}</details>"
        )
    if current.code is not None:
        body.append(
            f'<h2>Python source</h2><p class="hint">{escape(current.code.location)}</p>'
            + code_block(current.code.text, "python")
        )
    return page(f"{doc.name}.{current.name}", "".join(body), root="../")


def _step_rows(docs: list[PipelineDoc], run: RunRecord) -> list[list[str]]:
    owners: dict[str, tuple[PipelineDoc, TableDoc]] = {}
    for doc in docs:
        for current in doc.tables.values():
            step = step_of(run, doc.name, current)
            if step is not None:
                owners.setdefault(step.node, (doc, current))
    rows = []
    for step in run.steps:
        owner = owners.get(step.node)
        name = link(owner[1].page, step.node) if owner else escape(step.node)
        contract = contract_result(owner[1], step) if owner else "—"
        rows.append(
            [
                name,
                _status(step.status),
                _rows(step.rows),
                f"{step.seconds:.2f}s",
                escape(contract),
                escape(step.message),
            ]
        )
    return rows


def _quarantine_section(
    docs: list[PipelineDoc], run: RunRecord | None, facts: WarehouseFacts | None
) -> str:
    parts = ["<h2>Quarantine by source and rule</h2>"]
    if facts is not None and not facts.note:
        if facts.quarantine:
            bars = [
                (f"{q.pipeline} · {q.source_table} · {q.rule}", float(q.rows), f"{q.rows:,}")
                for q in facts.quarantine
            ]
            parts.append(bar_chart(bars, f"Quarantined rows in {facts.where}", "quarantine"))
        else:
            parts.append(note(f"No quarantined rows in {facts.where}."))
        return "".join(parts)
    reason = "the warehouse was not read" if facts is None else f"{facts.where}: {facts.note}"
    parts.append(note(f"No breakdown by source and rule: {reason}."))
    quarantine_steps = [
        step
        for doc in docs
        for current in doc.models
        if current.is_quarantine and (step := step_of(run, doc.name, current)) is not None
    ]
    if quarantine_steps:
        parts.append(
            table(
                ["quarantine", "rows (last build)"],
                [[escape(step.node), _rows(step.rows)] for step in quarantine_steps],
            )
        )
    return "".join(parts)


def quality_page(
    docs: list[PipelineDoc],
    run: RunRecord | None,
    facts: WarehouseFacts | None,
    results_path: str,
) -> str:
    """The last build: rows and time per step, contract results, quarantine by rule."""
    body = ["<h1>Data quality of the last build</h1>", run_banner(run, results_path)]
    if run is not None:
        body.append("<h2>Steps</h2>")
        body.append(
            table(
                ["table", "status", "rows", "time", "checks", "message"],
                _step_rows(docs, run),
                "steps",
            )
        )
        bars = [(step.node, step.seconds, f"{step.seconds:.2f}s") for step in run.steps]
        body.append("<h2>Time per step</h2>" + bar_chart(bars, "Seconds per step", "timing"))
    body.append(_quarantine_section(docs, run, facts))
    if facts is not None and not facts.note:
        rows = [
            [escape(f"{schema}.{name}"), _rows(count)]
            for (schema, name), count in facts.rows.items()
        ]
        body.append(f"<h2>Rows in {escape(facts.where)} now</h2>" + table(["table", "rows"], rows))
    elif facts is not None:
        body.append(note(f"Warehouse {facts.where} not read: {facts.note}."))
    return page("Data quality", "".join(body), root="")
