"""Nothing lost, nothing doubled: every bronze row is in exactly one of silver or quarantine."""

from collections import Counter

from medallion_ibis.model import Pipeline
from medallion_ibis.testing._run import Published

LINEAGE = ("_source_file", "_batch_id", "_row_number")


def assert_conserved(published: Published, pipeline: Pipeline) -> None:
    """Every line of every bronze table appears exactly once in silver or in quarantine.

    A silver row names its bronze line through its lineage columns (``_source_file``,
    ``_batch_id``, ``_row_number``, as ``with_lineage`` carries them: a batch is one file of
    one source); a quarantine row the same way, with its ``source_table``. Silver tables
    without lineage columns (lookups derived from several rows) are not counted. A line in
    both places, in neither, or twice fails with the lines concerned.
    """
    quarantine = [
        row
        for model in pipeline.models.values()
        if model.partition_column is not None
        for row in published[f"{model.layer}.{model.name}"]
    ]
    silver = [
        row
        for model in pipeline.models.values()
        if model.layer == "silver" and model.partition_column is None
        for row in published[f"silver.{model.name}"]
        if all(column in row for column in LINEAGE)
    ]
    for source in pipeline.sources:
        bronze = Counter(_line(row) for row in published[f"bronze.{source.table}"])
        kept = Counter(_line(row) for row in silver if _line(row) in bronze)
        held = Counter(_line(row) for row in quarantine if row.get("source_table") == source.table)
        landed = kept + held
        if landed != bronze:
            lost = sorted((bronze - landed).elements())
            extra = sorted((landed - bronze).elements())
            both = sorted(set(kept) & set(held))
            raise AssertionError(
                f"{pipeline.name}.{source.table}: bronze lines not conserved; in neither silver "
                f"nor quarantine: {lost[:20]}; more than once (or not in bronze): {extra[:20]}; "
                f"in both: {both[:20]}"
            )


def _line(row: dict[str, object]) -> tuple[object, ...]:
    """A bronze line: its file, its batch and its line number."""
    return tuple(row[column] for column in LINEAGE)
