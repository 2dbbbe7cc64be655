"""A kit for testing your own pipelines the way the shipped ones are tested.

- ``run_pipeline`` writes source rows held in memory to CSV files and runs the real build
  (bronze with lineage, key screening, contracts, atomic publish) on DuckDB or on a
  PostgreSQL database, returning every published table's rows. What the test runs is exactly
  what production runs.
- ``source_rows`` is a hypothesis strategy: rows for a ``Source``, its declared columns filled
  with plausible values and with hostile text (empty, white space, quotes, commas, line
  breaks, non-ASCII, huge numbers, impossible dates).
- ``assert_conserved`` checks that every bronze row landed in exactly one of silver or
  quarantine; ``assert_same_rows`` that two builds (say DuckDB and PostgreSQL) published the
  same rows, order-free, exact except for floats within a stated tolerance.

Example (``tests/test_orders.py`` of a project)::

    from hypothesis import given, settings
    from medallion_ibis.testing import assert_conserved, run_pipeline, source_rows
    from pipelines.orders import ORDERS, PIPELINE

    @settings(max_examples=10, deadline=None)
    @given(orders=source_rows(ORDERS))
    def test_no_order_is_lost(orders):
        published = run_pipeline(PIPELINE, {ORDERS.table: orders}, as_of=date(2024, 3, 31))
        assert_conserved(published, PIPELINE)
"""

from medallion_ibis.testing._compare import assert_same_rows
from medallion_ibis.testing._conservation import assert_conserved
from medallion_ibis.testing._run import Published, run_pipeline
from medallion_ibis.testing._strategies import HOSTILE_TEXT, source_rows

__all__ = [
    "HOSTILE_TEXT",
    "Published",
    "assert_conserved",
    "assert_same_rows",
    "run_pipeline",
    "source_rows",
]
