"""PostgreSQL parses each text value once: subqueries that parse text are fenced with OFFSET 0,
the others are left for the planner to flatten."""

import ibis
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.postgres import compiler

from medallion_ibis.backends.postgres_fence import fence_parsing
from medallion_ibis.portable import parse_int


def test_only_the_subquery_that_parses_text_is_fenced() -> None:
    raw = ibis.table({"quantity": "string", "note": "string"}, name="raw")
    parsed = raw.mutate(quantity=parse_int(raw.quantity), note=raw.note.upper())
    checked = parsed.mutate(doubled=parsed.quantity * 2)
    counted = checked.filter(checked.doubled > 0).mutate(more=checked.doubled + 1)

    fenced = fence_parsing(compiler.to_sqlglot(counted))

    offsets = [select for select in fenced.find_all(sge.Select) if select.args.get("offset")]
    assert [select.find(sge.RegexpLike) is not None for select in offsets] == [True]
    assert "OFFSET 0" in fenced.sql("postgres")


def test_a_query_without_parsing_is_unchanged() -> None:
    raw = ibis.table({"amount": "int64"}, name="raw")
    doubled = raw.mutate(twice=raw.amount * 2)
    query = compiler.to_sqlglot(doubled.mutate(more=doubled.twice + 1))

    assert fence_parsing(query).sql("postgres") == query.sql("postgres")
