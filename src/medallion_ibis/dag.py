"""Build order: every model after the tables it reads."""

from graphlib import CycleError, TopologicalSorter

from medallion_ibis.errors import ConfigurationError
from medallion_ibis.model import Model, Pipeline


def build_order(pipeline: Pipeline) -> list[Model]:
    """The pipeline's models in dependency order, ties broken by declaration order.

    A model that reads the run's context also waits for the model the default as-of date is
    taken from, so the date can be read from a built table.
    """
    known = {source.table for source in pipeline.sources} | set(pipeline.models)
    graph: dict[str, list[str]] = {}
    for model in pipeline.models.values():
        missing = [name for name in model.inputs if name not in known]
        if missing:
            raise ConfigurationError(
                f"{model.defined_at}: {pipeline.name}.{model.name} reads unknown table(s) "
                f"{', '.join(missing)}; known: {', '.join(sorted(known))}"
            )
        graph[model.name] = [name for name in model.inputs if name in pipeline.models]
        as_of = pipeline.default_as_of
        if as_of is not None and model.needs_run and model.name != as_of.model:
            graph[model.name].append(as_of.model)
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as error:
        cycle: list[str] = error.args[1]
        raise ConfigurationError(
            f"{pipeline.models[cycle[0]].defined_at}: {pipeline.name} has a dependency cycle: "
            f"{' -> '.join(cycle)}"
        ) from None
    declared = list(pipeline.models)
    ordered: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=declared.index)
        ordered.extend(pipeline.models[name] for name in ready)
        sorter.done(*ready)
    return ordered
