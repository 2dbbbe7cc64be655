"""``target/run_results.json``: what a build did, for schedulers and dashboards.

The layout follows dbt's run results (one entry per node with status, timing and a message)
so existing tooling that parses dbt's file needs little change.
"""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from medallion_ibis.runner import BuildResult

RESULTS_FILE = "run_results.json"


def results_document(result: BuildResult) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "backend": result.backend,
        "started_at": result.started_at.isoformat() + "Z",
        "elapsed_seconds": round(result.seconds, 3),
        "status": "success" if result.published else "error",
        "published": result.published,
        "as_of": {name: day.isoformat() for name, day in result.as_of.items()},
        "notices": result.notices,
        "results": [{**asdict(step), "seconds": round(step.seconds, 3)} for step in result.steps],
    }


def write_results(result: BuildResult, target_dir: Path) -> Path:
    """Write the run's results; returns the file written."""
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / RESULTS_FILE
    path.write_text(json.dumps(results_document(result), indent=2) + "\n", encoding="utf-8")
    return path
