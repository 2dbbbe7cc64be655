"""``target/run_results.json``: what the latest build did, for schedulers and dashboards.

The layout follows dbt's run results (one entry per node with status, timing and a message)
so existing tooling that parses dbt's file needs little change. The file is rewritten by every
invocation, including one that stops before building anything, and says why it stopped; a
step's status is ``success`` only when its table was published (``staged`` when it was built
and checked but the build then failed, ``skipped`` when it never ran).
"""

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

from medallion_ibis.config import ENV_PREFIX, Settings
from medallion_ibis.errors import MedallionError
from medallion_ibis.redact import redact_text
from medallion_ibis.runner import BuildResult, StepResult

RESULTS_FILE = "run_results.json"


def results_document(result: BuildResult, target: str = "", error: str = "") -> dict[str, Any]:
    """The run as a JSON-ready dict; ``error`` is the sentence that stopped it, if any."""
    ran = {step.node for step in result.steps}
    steps = [
        *result.steps,
        *(StepResult(node, "skipped") for node in result.planned if node not in ran),
    ]
    return {
        "run_id": result.run_id,
        "backend": result.backend,
        "target": redact_text(target),
        "started_at": result.started_at.isoformat() + "Z",
        "elapsed_seconds": round(result.seconds, 3),
        "status": "success" if result.published and not error else "error",
        "published": result.published,
        "error": redact_text(error) or None,
        "as_of": {name: day.isoformat() for name, day in result.as_of.items()},
        "notices": result.notices,
        "results": [_step_entry(step, result.published) for step in steps],
    }


def _step_entry(step: StepResult, published: bool) -> dict[str, Any]:
    return {
        **asdict(step),
        "status": step.outcome(published),
        "message": redact_text(step.message),
        "seconds": round(step.seconds, 3),
    }


def write_results(result: BuildResult, target_dir: Path, target: str = "", error: str = "") -> Path:
    """Write the run's results; returns the file written."""
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / RESULTS_FILE
    document = results_document(result, target, error)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def record_refused_settings(flags: Mapping[str, object], error: str) -> None:
    """Settings that could not be resolved still replace the last run's results, in the
    results folder the flag or variable names (or ./target), when that folder is usable."""
    folder = flags.get("target_dir") or os.environ.get(ENV_PREFIX + "TARGET_DIR") or "target"
    backend = str(flags.get("backend") or os.environ.get(ENV_PREFIX + "BACKEND") or "unknown")
    with suppress(OSError):
        write_results(BuildResult.starting_now(backend), Path(str(folder)), "", error)


class BuildRun:
    """Writes run_results.json for the invocation whatever happens, with the reason it
    stopped; a failure before the plan exists still gets a (stepless) record."""

    def __init__(self, settings: Settings, where: str) -> None:
        self.settings = settings
        self.where = where
        self.result = BuildResult.starting_now(settings.backend)

    @contextmanager
    def recorded(self) -> Iterator[None]:
        error = ""
        try:
            yield
        except BaseException as failure:
            error = str(failure) or type(failure).__name__
            raise
        finally:
            self._write(error)

    def _write(self, error: str) -> None:
        try:
            write_results(self.result, self.settings.target_dir, self.where, error)
        except OSError as failure:
            raise MedallionError(
                f"could not write {self.settings.target_dir / RESULTS_FILE}: {failure.strerror}"
            ) from None
