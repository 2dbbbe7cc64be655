"""The pipelines that ship with medallion-ibis, by name."""

from medallion_ibis.errors import ConfigurationError
from medallion_ibis.examples.crm_erp import PIPELINE as CRM_ERP
from medallion_ibis.examples.retail import PIPELINE as RETAIL
from medallion_ibis.model import Pipeline

PIPELINES: dict[str, Pipeline] = {pipeline.name: pipeline for pipeline in (RETAIL, CRM_ERP)}


def select_pipelines(names: tuple[str, ...]) -> list[Pipeline]:
    """The named pipelines (all of them when none is named), in a stable order."""
    unknown = [name for name in names if name not in PIPELINES]
    if unknown:
        raise ConfigurationError(
            f"unknown pipeline {', '.join(unknown)}; choose from {', '.join(PIPELINES)}"
        )
    chosen = names or tuple(PIPELINES)
    return [PIPELINES[name] for name in PIPELINES if name in chosen]
