"""Build settings, resolved as flags > environment (MEDALLION_*) > pyproject > defaults.

The precedence matches what dbt and SQLMesh users expect: a project file holds the team's
defaults, the environment holds per-machine secrets (the PostgreSQL URL), and flags win for a
one-off run.
"""

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast, get_args

from medallion_ibis.errors import ConfigurationError

BackendName = Literal["duckdb", "postgres", "pyspark"]
BACKENDS: tuple[str, ...] = get_args(BackendName)
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ENV_PREFIX = "MEDALLION_"
PYPROJECT_TABLE = "medallion-ibis"
DEFAULT_SPARK_STALL_TIMEOUT = 600.0
"""Seconds a Spark job may run no task at all (no executor left) before the build gives up."""


@dataclass(frozen=True)
class Settings:
    """Everything a build needs to know, already validated."""

    backend: BackendName = "duckdb"
    pipelines: tuple[str, ...] = ()
    seeds: Path = Path("seeds")
    as_of: date | None = None
    duckdb_path: Path = Path("medallion.duckdb")
    pg_url: str = DEFAULT_PG_URL
    spark_warehouse: str = "spark-warehouse"
    """A local folder, or a URI Spark can write to (``s3a://``, ``hdfs://``, ``abfss://``)."""
    spark_master: str = "local[*]"
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    """The user's Spark settings; each one wins over the package's defaults."""
    spark_stall_timeout: float = DEFAULT_SPARK_STALL_TIMEOUT
    spark_verbose: bool = False
    target_dir: Path = Path("target")


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


def parse_spark_conf(
    project: Mapping[str, Any] | None, flags: Sequence[str] | None
) -> dict[str, str]:
    """``[tool.medallion-ibis.spark-conf]`` overlaid with repeated ``--spark-conf key=value``."""
    if project is not None and not isinstance(project, Mapping):
        raise ConfigurationError("[tool.medallion-ibis.spark-conf] must be a table of settings")
    conf = {str(key): _spark_value(value) for key, value in (project or {}).items()}
    for pair in flags or ():
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise ConfigurationError(f"--spark-conf takes key=value, got {pair!r}")
        conf[key.strip()] = value
    return conf


def _spark_value(value: object) -> str:
    """TOML booleans are written as Spark spells them (``true``), not as Python does."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_seconds(name: str, value: object) -> float:
    """A positive number of seconds."""
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
    return seconds


def resolve_settings(
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    project_dir: Path | None = None,
) -> Settings:
    """Merge the three sources of settings; keys use the flag spelling (``pg-url``)."""
    project = _pyproject_settings(project_dir or Path.cwd())
    layers: list[Mapping[str, Any]] = [
        project,
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
        spark_warehouse=str(merged.get("spark-warehouse", "spark-warehouse")),
        spark_master=str(merged.get("spark-master", "local[*]")),
        spark_conf=parse_spark_conf(project.get("spark-conf"), flags.get("spark-conf")),
        spark_stall_timeout=parse_seconds(
            "spark-stall-timeout", merged.get("spark-stall-timeout", DEFAULT_SPARK_STALL_TIMEOUT)
        ),
        spark_verbose=str(merged.get("spark-verbose", False)).lower() in ("true", "1", "yes"),
        target_dir=Path(merged.get("target-dir", "target")),
    )
