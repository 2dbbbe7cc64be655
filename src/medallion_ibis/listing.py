"""``ls``: every source and model of the loaded pipelines, described in one line each."""

from collections.abc import Iterable, Set
from dataclasses import dataclass

from medallion_ibis.dag import build_order
from medallion_ibis.model import Pipeline
from medallion_ibis.selection import Node


@dataclass(frozen=True)
class Entry:
    """One table of the graph as ``ls`` shows it."""

    pipeline: str
    name: str
    layer: str
    inputs: tuple[str, ...]
    contract: tuple[str, ...] | None
    """The columns the contract promises; ``None`` when the table has no contract."""
    description: str
    defined_at: str


def entries(pipelines: Iterable[Pipeline], selection: Set[Node] | None = None) -> list[Entry]:
    """Sources then models in build order, pipeline by pipeline; only ``selection`` if given."""
    listed: list[Entry] = []
    for pipeline in pipelines:
        for source in pipeline.sources:
            listed.append(
                Entry(
                    pipeline=pipeline.name,
                    name=source.table,
                    layer="bronze",
                    inputs=(source.path,),
                    contract=source.columns,
                    description=f"{source.system} export {source.path}, kept as text",
                    defined_at=str(source.defined_at),
                )
            )
        for model in build_order(pipeline):
            listed.append(
                Entry(
                    pipeline=pipeline.name,
                    name=model.name,
                    layer=model.layer,
                    inputs=model.inputs,
                    contract=None if model.contract is None else tuple(model.contract.columns),
                    description=model.description,
                    defined_at=str(model.defined_at),
                )
            )
    if selection is None:
        return listed
    return [entry for entry in listed if Node(entry.pipeline, entry.name) in selection]
