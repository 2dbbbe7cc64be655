"""What the last build did, read from its ``run_results.json``: each step's status, rows,
time and message."""

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from medallion_ibis.errors import ConfigurationError

_NODE = re.compile(r"^(?P<schema>[^.\[]+)\.(?P<table>[^\[]+)(?:\[(?P<pipeline>[^\]]+)\])?$")


@dataclass(frozen=True)
class StepRecord:
    """One line of the run results."""

    node: str
    status: str
    rows: int | None
    seconds: float
    message: str

    @property
    def table(self) -> tuple[str, str, str | None] | None:
        """(schema, table, pipeline or None) parsed from ``schema.table[pipeline]``."""
        match = _NODE.match(self.node)
        if match is None:
            return None
        return match["schema"], match["table"], match["pipeline"]


@dataclass(frozen=True)
class RunRecord:
    """The run results of one build."""

    path: Path
    run_id: str
    backend: str
    started_at: str
    seconds: float
    status: str
    published: bool
    as_of: dict[str, date]
    steps: tuple[StepRecord, ...]


def _step(entry: Any, path: Path, number: int) -> StepRecord:
    if not isinstance(entry, dict) or not isinstance(entry.get("node"), str):
        raise ConfigurationError(f"{path}: result {number} has no node name")
    rows = entry.get("rows")
    return StepRecord(
        node=entry["node"],
        status=str(entry.get("status", "unknown")),
        rows=rows if isinstance(rows, int) else None,
        seconds=float(entry.get("seconds") or 0.0),
        message=str(entry.get("message") or ""),
    )


def read_run_results(path: Path) -> RunRecord | None:
    """The run results at ``path``; None when there is no such file (no build yet)."""
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"{path}: not readable run results ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise ConfigurationError(f"{path}: not run results (no 'results' list)")
    as_of: dict[str, date] = {}
    for name, day in (document.get("as_of") or {}).items():
        try:
            as_of[str(name)] = date.fromisoformat(str(day))
        except ValueError:
            raise ConfigurationError(f"{path}: as_of of {name} is not a date: {day!r}") from None
    return RunRecord(
        path=path,
        run_id=str(document.get("run_id", "")),
        backend=str(document.get("backend", "")),
        started_at=str(document.get("started_at", "")),
        seconds=float(document.get("elapsed_seconds") or 0.0),
        status=str(document.get("status", "unknown")),
        published=bool(document.get("published", False)),
        as_of=as_of,
        steps=tuple(_step(entry, path, n) for n, entry in enumerate(document["results"], 1)),
    )
