"""Which bronze rows may enter silver, and why the others may not.

A silver table keeps one row per key. Rows without a usable key, and all but the latest record
of a repeated key, are not dropped: they go to ``silver.quarantine`` with the rule they broke
and a sentence a person can act on. Every bronze row therefore ends in exactly one place.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from medallion_ibis.portable import clean_text, parse_int

REJECT_RULE = "_reject_rule"
REJECT_REASON = "_reject_reason"
QUARANTINE_COLUMNS = (
    "pipeline",
    "source_table",
    "_source_file",
    "_row_number",
    "_row_hash",
    "rule",
    "reason",
    "_run_id",
    "_batch_id",
)
Ordering = Callable[[ir.Table], Sequence[ir.Value]]
Check = tuple[ir.BooleanValue, str, ir.StringValue]


@dataclass(frozen=True)
class KeyScreen:
    """The key rules of one bronze table.

    ``required`` columns must hold a value; ``integer`` columns must parse as integers;
    ``key`` identifies a record. Among records sharing it, the one of the latest batch (the
    file loaded last, see ``Source``) is kept, and within that batch the one on the latest
    line: the last export's last word wins. ``latest_first``, when given, ranks records
    within a batch before the line does (a create date, say), and the line then only breaks
    its ties, so the choice never depends on the engine.
    """

    source_table: str
    required: tuple[str, ...]
    integer: tuple[str, ...]
    key: tuple[str, ...]
    latest_first: Ordering | None = None

    def _text(self, column: str) -> str:
        return f"__text_{column}"

    def _parsed(self, column: str) -> str:
        return f"__key_{column}"

    def classify(self, bronze: ir.Table) -> ir.Table:
        """``bronze`` plus the rule each row breaks (NULL when it may enter silver).

        Among records sharing a key, the latest one whose keys are all usable is kept: a
        newer record with a blank customer id must not push out the good one before it.

        Keys are cleaned and parsed once into helper columns that the rules then read, so the
        engine evaluates each parse a single time per row.
        """
        columns = dict.fromkeys((*self.required, *self.integer, *self.key))
        texts = {self._text(column): clean_text(bronze[column]) for column in columns}
        parsed = bronze.mutate(**texts)
        parsed = parsed.mutate(
            **{
                self._parsed(column): parse_int(parsed[self._text(column)])
                if column in self.integer
                else parsed[self._text(column)]
                for column in columns
            }
        )
        key_problems = [test for test, _, _ in (*self._missing(parsed), *self._unparseable(parsed))]
        screened = parsed.mutate(
            __key_problem=ibis.or_(*key_problems) if key_problems else ibis.literal(False)
        )
        newest = ibis.window(
            group_by=[screened[self._parsed(column)] for column in self.key],
            order_by=[
                screened["__key_problem"].asc(),
                screened._batch_id.desc(),
                *(self.latest_first(screened) if self.latest_first else ()),
                screened._row_number.desc(),
            ],
        )
        ranked = screened.mutate(
            __newer_records=ibis.row_number().over(newest),
            __kept_line=screened._row_number.first().over(newest),
            __kept_batch=screened._batch_id.first().over(newest),
            __kept_file=screened._source_file.first().over(newest),
        )
        checks = [*self._missing(ranked), *self._unparseable(ranked), self._repeated(ranked)]
        helpers = [name for name in ranked.columns if name.startswith("__")]
        return ranked.mutate(
            **{
                REJECT_RULE: ibis.cases(*[(test, rule) for test, rule, _ in checks], else_=None),
                REJECT_REASON: ibis.cases(
                    *[(test, reason) for test, _, reason in checks], else_=None
                ),
            }
        ).drop(*helpers)

    def _missing(self, ranked: ir.Table) -> list[Check]:
        return [
            (
                ranked[self._text(column)].isnull(),
                "missing_key",
                ibis.literal(f"{column} is missing"),
            )
            for column in self.required
        ]

    def _unparseable(self, ranked: ir.Table) -> list[Check]:
        return [
            (
                ranked[self._text(column)].notnull() & ranked[self._parsed(column)].isnull(),
                "unparseable_key",
                ibis.literal(f"{column} '") + ranked[self._text(column)] + "' is not an integer",
            )
            for column in self.integer
        ]

    def _repeated(self, ranked: ir.Table) -> Check:
        """The kept record's line, and its file and batch when it is in another batch."""
        key_text = ibis.literal(", ").join([ranked[self._text(column)] for column in self.key])
        elsewhere = ibis.cases(
            (
                ranked["__kept_batch"] != ranked._batch_id,
                " of "
                + ranked["__kept_file"]
                + " (batch "
                + ranked["__kept_batch"].cast("string")
                + ")",
            ),
            else_="",
        )
        return (
            ranked["__newer_records"] > 0,
            "duplicate_key",
            ibis.literal(f"{', '.join(self.key)} ")
            + key_text
            + " is repeated; the record on line "
            + ranked["__kept_line"].cast("string")
            + elsewhere
            + " is kept",
        )

    def accepted(self, bronze: ir.Table) -> ir.Table:
        """The rows that may enter silver, without the screening columns."""
        classified = self.classify(bronze)
        return classified.filter(classified[REJECT_RULE].isnull()).drop(REJECT_RULE, REJECT_REASON)

    def rejected(self, bronze: ir.Table, pipeline: str) -> ir.Table:
        """The quarantined rows, in the shared quarantine table's shape."""
        classified = self.classify(bronze)
        return classified.filter(classified[REJECT_RULE].notnull()).select(
            pipeline=ibis.literal(pipeline),
            source_table=ibis.literal(self.source_table),
            _source_file=classified._source_file,
            _row_number=classified._row_number,
            _row_hash=classified._row_hash,
            rule=classified[REJECT_RULE],
            reason=classified[REJECT_REASON],
            _run_id=classified._run_id,
            _batch_id=classified._batch_id,
        )
