"""Nothing lost, nothing doubled: every bronze row is in exactly one of silver or quarantine."""

from collections import Counter

from medallion_ibis.model import Pipeline
from medallion_ibis.testing._run import Published

LINEAGE = ("_source_file", "_row_number")


def assert_conserved(published: Published, pipeline: Pipeline) -> None:
    """Every line of every bronze table appears exactly once in silver or in quarantine.

    A silver row names its bronze line through its lineage columns (``_source_file``,
    ``_row_number``, as ``with_lineage`` carries them); a quarantine row through
    ``source_table`` and ``_row_number``. Silver tables without lineage columns (lookups
    derived from several rows) are not counted. A line in both places, in neither, or twice
    fails with the lines concerned.
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
        bronze = Counter(row["_row_number"] for row in published[f"bronze.{source.table}"])
        kept = Counter(row["_row_number"] for row in silver if row["_source_file"] == source.path)
        held = Counter(
            row["_row_number"] for row in quarantine if row.get("source_table") == source.table
        )
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
