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
)
Ordering = Callable[[ir.Table], Sequence[ir.Value]]


def later_in_file(table: ir.Table) -> Sequence[ir.Value]:
    """Latest record first by its position in the file: the export's last word wins."""
    return [table._row_number.desc()]


@dataclass(frozen=True)
class KeyScreen:
    """The key rules of one bronze table.

    ``required`` columns must hold a value; ``integer`` columns must parse as integers;
    ``key`` identifies a record, and among records sharing it the first by ``latest_first``
    is kept (ties broken by position in the file, so the choice never depends on the engine).
    """

    source_table: str
    required: tuple[str, ...]
    integer: tuple[str, ...]
    key: tuple[str, ...]
    latest_first: Ordering = later_in_file

    def _key_value(self, table: ir.Table, column: str) -> ir.Value:
        text = clean_text(table[column])
        return parse_int(text) if column in self.integer else text

    def classify(self, bronze: ir.Table) -> ir.Table:
        """``bronze`` plus the rule each row breaks (NULL when it may enter silver)."""
        keys = [self._key_value(bronze, column) for column in self.key]
        ordering = [*self.latest_first(bronze), bronze._row_number.desc()]
        newest = ibis.window(group_by=keys, order_by=ordering)
        checks: list[tuple[ir.BooleanValue, str, ir.StringValue]] = []
        for column in self.required:
            checks.append(
                (
                    clean_text(bronze[column]).isnull(),
                    "missing_key",
                    ibis.literal(f"{column} is missing"),
                )
            )
        for column in self.integer:
            text = clean_text(bronze[column])
            checks.append(
                (
                    text.notnull() & parse_int(text).isnull(),
                    "unparseable_key",
                    ibis.literal(f"{column} '") + text + "' is not an integer",
                )
            )
        kept_line = bronze._row_number.first().over(newest).cast("string")
        key_text = ibis.literal(", ").join([bronze[column].strip() for column in self.key])
        checks.append(
            (
                ibis.row_number().over(newest) > 0,
                "duplicate_key",
                ibis.literal(f"{', '.join(self.key)} ")
                + key_text
                + " is repeated; the record on line "
                + kept_line
                + " is kept",
            )
        )
        return bronze.mutate(
            **{
                REJECT_RULE: ibis.cases(*[(test, rule) for test, rule, _ in checks], else_=None),
                REJECT_REASON: ibis.cases(
                    *[(test, reason) for test, _, reason in checks], else_=None
                ),
            }
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
        )
