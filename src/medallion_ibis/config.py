"""Build settings, resolved as flags > environment (MEDALLION_*) > pyproject > defaults.

The precedence matches what dbt and SQLMesh users expect: a project file holds the team's
defaults, the environment holds per-machine secrets (the PostgreSQL URL), and flags win for a
one-off run.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast, get_args

from medallion_ibis.errors import ConfigurationError

BackendName = Literal["duckdb", "postgres", "pyspark"]
BACKENDS: tuple[str, ...] = get_args(BackendName)
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ENV_PREFIX = "MEDALLION_"
PYPROJECT_TABLE = "medallion-ibis"


@dataclass(frozen=True)
class Settings:
    """Everything a build needs to know, already validated."""

    backend: BackendName = "duckdb"
    pipelines: tuple[str, ...] = ()
    seeds: Path = Path("seeds")
    as_of: date | None = None
    duckdb_path: Path = Path("medallion.duckdb")
    pg_url: str = DEFAULT_PG_URL
    spark_warehouse: Path = Path("spark-warehouse")
    spark_master: str = "local[*]"
    target_dir: Path = Path("target")
    # safety limits (see README, "Configuration")
    allow_shrink: bool = False
    """Publish even when a source has lost more than half the rows of the published bronze."""
    connect_timeout: int = 10
    """Seconds PostgreSQL has to answer a new connection."""
    lock_timeout: int = 30
    """Seconds publishing waits on PostgreSQL for readers to release a published table."""


def _pyproject_settings(project_dir: Path) -> Mapping[str, Any]:
    pyproject = project_dir / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    with pyproject.open("rb") as handle:
        document = tomllib.load(handle)
    table = document.get("tool", {}).get(PYPROJECT_TABLE, {})
    return cast(Mapping[str, Any], table)


def _env_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """MEDALLION_PG_URL → pg-url, the spelling used by flags and pyproject keys."""
    return {
        key[len(ENV_PREFIX) :].lower().replace("_", "-"): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and value != ""
    }


def parse_as_of(value: str | date | None) -> date | None:
    """Accept an ISO date (YYYY-MM-DD); anything else is a configuration error."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"--as-of must be a date as YYYY-MM-DD, got {value!r}") from None


def parse_seconds(name: str, value: object) -> int:
    """A whole, positive number of seconds (``--connect-timeout``, ``--lock-timeout``)."""
    try:
        seconds = int(str(value))
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise ConfigurationError(
            f"--{name} must be a whole number of seconds above 0, got {value!r}"
        )
    return seconds


def parse_flag(name: str, value: object) -> bool:
    """A yes/no setting: true/false, yes/no, 1/0 (the environment holds only text)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false, got {value!r}")


def resolve_settings(
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    project_dir: Path | None = None,
) -> Settings:
    """Merge the three sources of settings; keys use the flag spelling (``pg-url``)."""
    layers: list[Mapping[str, Any]] = [
        _pyproject_settings(project_dir or Path.cwd()),
        _env_settings(os.environ if environ is None else environ),
        {key: value for key, value in flags.items() if value not in (None, ())},
    ]
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    backend = merged.get("backend", "duckdb")
    if backend not in BACKENDS:
        raise ConfigurationError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    pipelines = merged.get("pipelines", ())
    if isinstance(pipelines, str):
        pipelines = tuple(name.strip() for name in pipelines.split(",") if name.strip())
    return Settings(
        backend=cast(BackendName, backend),
        pipelines=tuple(pipelines),
        seeds=Path(merged.get("seeds", "seeds")),
        as_of=parse_as_of(merged.get("as-of")),
        duckdb_path=Path(merged.get("duckdb-path", "medallion.duckdb")),
        pg_url=str(merged.get("pg-url", DEFAULT_PG_URL)),
        spark_warehouse=Path(merged.get("spark-warehouse", "spark-warehouse")),
        spark_master=str(merged.get("spark-master", "local[*]")),
        target_dir=Path(merged.get("target-dir", "target")),
        allow_shrink=parse_flag("allow-shrink", merged.get("allow-shrink", False)),
        connect_timeout=parse_seconds("connect-timeout", merged.get("connect-timeout", 10)),
        lock_timeout=parse_seconds("lock-timeout", merged.get("lock-timeout", 30)),
    )
