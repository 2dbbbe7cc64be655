"""``medallion-ibis docs``: a static site with every table, its columns, SQL and lineage.

``generate_site`` takes loaded pipelines (any project's, not only the shipped ones), the last
build's run results and, optionally, facts read from the warehouse.
"""

from medallion_ibis.docs.serve import site_server
from medallion_ibis.docs.site import Site, generate_site
from medallion_ibis.docs.warehouse import WarehouseFacts, warehouse_facts

__all__ = ["Site", "WarehouseFacts", "generate_site", "site_server", "warehouse_facts"]
