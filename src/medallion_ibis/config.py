"""Build settings, resolved as flags > environment (MEDALLION_*) > pyproject > defaults.

The precedence matches what dbt and SQLMesh users expect: a project file holds the team's
defaults, the environment holds per-machine secrets (the PostgreSQL URL), and flags win for a
one-off run. Every value is checked where it is read, and a bad one is reported under the name
the user wrote (``--as-of``, ``MEDALLION_AS_OF`` or ``as-of`` in pyproject.toml). Unknown keys
and variables are warned about, with the closest known name, rather than silently ignored.
"""

import difflib
import os
import re
import tempfile
import tomllib
import types
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from medallion_ibis.errors import ConfigurationError
from medallion_ibis.redact import check_connection_url, redact_url

BackendName = Literal["duckdb", "postgres", "pyspark"]
BACKENDS: tuple[str, ...] = get_args(BackendName)
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ENV_PREFIX = "MEDALLION_"
PYPROJECT_TABLE = "medallion-ibis"
ALL_PIPELINES = "all"
PROJECT_KEYS = frozenset({"load"})
"""Project file keys that are not build settings (``load``: the pipelines to load, read by
``project.load_project``)."""
NOT_SETTINGS = frozenset({"MEDALLION_TEST_PG_URL"})
"""MEDALLION_* variables that are read elsewhere (the test suite), not by a build."""
BACKEND_OF_SETTING = {
    "duckdb-path": "duckdb",
    "pg-url": "postgres",
    "spark-warehouse": "pyspark",
    "spark-master": "pyspark",
}
SECONDS_SETTINGS = frozenset({"connect-timeout", "lock-timeout"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MEMORY = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>(?:[KMGT]i?)?B)", re.I)
MEMORY_UNITS = {
    "B": 1,
    **{prefix + "B": 1000 ** (power + 1) for power, prefix in enumerate("KMGT")},
    **{prefix + "IB": 1024 ** (power + 1) for power, prefix in enumerate("KMGT")},
}
"""Units as DuckDB reads them: KB, MB, GB, TB are powers of 1000, KiB … TiB of 1024."""
MIN_MEMORY_LIMIT = 64 * 1024**2
"""Below this DuckDB cannot even hold a CSV reader's buffers; a smaller limit is a typo."""


class ConfigurationWarning(UserWarning):
    """A setting that is ignored: an unknown key, or one the chosen backend does not use."""


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
    # safety limits (see README, "Configuration")
    allow_shrink: bool = False
    """Publish even when a new version of a file has less than half the rows of its previous
    version, or a full refresh keeps less than half the bronze rows it drops."""
    full_refresh: bool = False
    """Rebuild bronze from the files present, dropping the rows of earlier batches: the only
    way rows ever leave bronze."""
    connect_timeout: int = 10
    """Seconds PostgreSQL has to answer a new connection."""
    lock_timeout: int = 30
    """Seconds publishing waits on PostgreSQL for readers to release a published table."""
    wait: float = 0.0
    """Seconds a build waits for another build on the same warehouse to finish (0: fail at
    once, naming the build that holds the lock)."""
    memory_limit: int | None = None
    """Bytes DuckDB may hold before it spills to disk; None keeps DuckDB's own default (80% of
    the machine's memory). See README, "Memory"."""


def describe_target(settings: Settings) -> str:
    """The warehouse the settings name, for messages: engine and place, password masked."""
    if settings.backend == "duckdb":
        return f"duckdb ({settings.duckdb_path})"
    if settings.backend == "pyspark":
        return f"pyspark ({settings.spark_master}, {settings.spark_warehouse})"
    return f"postgres ({redact_url(settings.pg_url)})"


def setting_keys() -> dict[str, str]:
    """Key spelling (``pg-url``, as in flags and pyproject) → Settings field name."""
    return {field.name.replace("_", "-"): field.name for field in fields(Settings)}


def _warn(message: str) -> None:
    warnings.warn(message, ConfigurationWarning, stacklevel=3)


@dataclass(frozen=True)
class _Layer:
    """One source of settings, with how to name a key from it in a message."""

    values: Mapping[str, Any]
    name_of: Callable[[str], str]


def _pyproject_layer(project_dir: Path, warn: Callable[[str], None]) -> _Layer:
    pyproject = project_dir / "pyproject.toml"
    values: Mapping[str, Any] = {}
    if pyproject.is_file():
        try:
            with pyproject.open("rb") as handle:
                document = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ConfigurationError(f"{pyproject}: not valid TOML: {error}") from None
        table = document.get("tool", {}).get(PYPROJECT_TABLE, {})
        if not isinstance(table, dict):
            raise ConfigurationError(f"{pyproject}: [tool.{PYPROJECT_TABLE}] must be a table")
        values = table
    return _file_layer(pyproject, values, warn)


def _file_layer(path: Path, values: Mapping[str, Any], warn: Callable[[str], None]) -> _Layer:
    """A project file's settings, its unknown keys warned about."""
    known = setting_keys()
    for key in values:
        if key not in known and key not in PROJECT_KEYS:
            warn(f"{path}: unknown key {key!r} is ignored" + _did_you_mean(key, known))
    return _Layer(
        {key: value for key, value in values.items() if key in known},
        lambda key: f"{key} in {path}",
    )


def _env_layer(environ: Mapping[str, str], warn: Callable[[str], None]) -> _Layer:
    """MEDALLION_PG_URL → pg-url, the spelling used by flags and pyproject keys."""
    known = setting_keys()
    variables = {_env_name(key): key for key in known}
    values: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        if name not in variables:
            warn(f"unknown environment variable {name} is ignored" + _did_you_mean(name, variables))
        elif value != "":
            values[variables[name]] = value
    return _Layer(values, _env_name)


def _env_name(key: str) -> str:
    return ENV_PREFIX + key.upper().replace("-", "_")


def _did_you_mean(name: str, known: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def parse_as_of(value: str | date | None, name: str = "--as-of") -> date | None:
    """Accept only an ISO calendar date (YYYY-MM-DD): Python also reads ``20241231`` and
    ISO-week forms, which are too easy to get wrong silently."""
    if value is None or isinstance(value, date):
        return value
    try:
        if not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from None


def _pipelines(value: Any, name: str) -> tuple[str, ...]:
    """A comma-separated string or a list; ``all`` (alone or among others) means every one."""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ConfigurationError(f"{name} must be pipeline names, got {value!r}")
    stripped = tuple(n.strip() for n in names if n.strip())
    return () if ALL_PIPELINES in stripped else stripped


def _convert(key: str, value: Any, kind: Any, name: str) -> Any:
    """A raw value (text from a flag or variable, any TOML value) as the field's type."""
    if key == "as-of":
        return parse_as_of(value, name)
    if key == "pipelines":
        return _pipelines(value, name)
    if key in SECONDS_SETTINGS:
        return _seconds(value, name)
    if key == "spark-stall-timeout":
        return _positive_seconds(value, name)
    if key == "memory-limit":
        return parse_memory(value, name)
    if get_origin(kind) is Literal:
        if value not in get_args(kind):
            raise ConfigurationError(
                f"{name} must be one of {', '.join(get_args(kind))}, got {value!r}"
            )
        return value
    if kind is bool:
        return _boolean(value, name)
    if kind in (int, float):
        return _number(value, kind, name)
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string, got {value!r}")
    return Path(value) if kind is Path else value


def is_uri(location: str) -> bool:
    """Whether ``location`` is a URI (``s3a://…``, ``hdfs://…``) rather than a local path."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location) is not None


def _spark_conf(value: Any, name: str) -> dict[str, str]:
    """Spark settings: a TOML table, or ``key=value`` pairs (a repeated flag), split at the
    first ``=``; TOML booleans are spelled as Spark spells them (``true``)."""
    if isinstance(value, Mapping):
        return {
            str(key): str(item).lower() if isinstance(item, bool) else str(item)
            for key, item in value.items()
        }
    pairs = (value,) if isinstance(value, str) else value
    conf: dict[str, str] = {}
    for pair in pairs:
        key, equals, setting = str(pair).partition("=")
        if not equals or not key.strip():
            raise ConfigurationError(f"{name} takes key=value, got {pair!r}")
        conf[key.strip()] = setting
    return conf


def parse_memory(value: Any, name: str = "--memory-limit") -> int:
    """An amount of memory written as DuckDB writes it (``2GB``, ``512MiB``), in bytes."""
    match = _MEMORY.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ConfigurationError(
            f"{name} must be an amount of memory such as 2GB or 512MiB, got {value!r}"
        )
    amount = int(float(match["number"]) * MEMORY_UNITS[match["unit"].upper()])
    if amount < MIN_MEMORY_LIMIT:
        raise ConfigurationError(
            f"{name} must be at least {MIN_MEMORY_LIMIT >> 20}MiB, got {value!r}"
        )
    return amount


def _positive_seconds(value: Any, name: str) -> float:
    """A positive number of seconds, fractions allowed."""
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = 0.0
    if isinstance(value, bool) or not seconds > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
    return seconds


def _seconds(value: Any, name: str) -> int:
    """A whole, positive number of seconds: 0 would mean "wait forever" to PostgreSQL."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) <= 0:
        raise ConfigurationError(f"{name} must be a whole number of seconds above 0, got {value!r}")
    return int(text)


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false, got {value!r}")


def _number(value: Any, kind: type[int] | type[float], name: str) -> int | float:
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a number, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, got {value!r}") from None
    if number < 0:
        raise ConfigurationError(f"{name} must not be negative, got {value!r}")
    return number


def _field_kind(annotation: Any) -> Any:
    """``date | None`` → ``date``: the type a value must have when it is given."""
    if get_origin(annotation) in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        return present[0]
    return annotation


def resolve_settings(
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    project_dir: Path | None = None,
    warn: Callable[[str], None] = _warn,
    file_settings: Mapping[str, Any] | None = None,
    settings_file: Path | None = None,
) -> Settings:
    """Merge the three sources of settings; keys use the flag spelling (``pg-url``).

    ``warn`` receives a sentence for each setting that is ignored (an unknown key, or one
    the chosen backend does not read); by default it becomes a ``ConfigurationWarning``.
    ``file_settings`` is the project file's layer as ``project.load_project`` read it (from
    ``settings_file``: medallion.toml or pyproject.toml); without it, ``project_dir``'s
    pyproject is read.
    """
    layers = [
        _pyproject_layer(project_dir or Path.cwd(), warn)
        if file_settings is None
        else _file_layer(settings_file or Path("medallion.toml"), file_settings, warn),
        _env_layer(os.environ if environ is None else environ, warn),
        _Layer(
            {key: value for key, value in flags.items() if value not in (None, ())},
            lambda key: f"--{key}",
        ),
    ]
    known = setting_keys()
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for layer in layers:
        for key, raw in layer.values.items():
            name = known[key]
            if key == "spark-conf":
                values[name] = {**values.get(name, {}), **_spark_conf(raw, layer.name_of(key))}
            else:
                values[name] = _convert(key, raw, _field_kind(hints[name]), layer.name_of(key))
    settings = Settings(**values)
    for key, backend in BACKEND_OF_SETTING.items():
        if key in layers[-1].values and settings.backend != backend:
            warn(
                f"--{key} is ignored: the build runs on {settings.backend} "
                f"(add --backend {backend})"
            )
    if settings.backend == "postgres":
        check_connection_url(settings.pg_url)
    _check_paths(settings)
    return settings


def _check_paths(settings: Settings) -> None:
    """Refuse, before anything is built, a place the build could not write to."""
    if settings.backend == "duckdb":
        if str(settings.duckdb_path) == ":memory:":
            raise ConfigurationError(
                "duckdb-path ':memory:' would keep nothing after the build; name a file"
            )
        _check_writable_folder(settings.duckdb_path.parent, f"duckdb-path {settings.duckdb_path}")
        if settings.duckdb_path.is_dir():
            raise ConfigurationError(
                f"duckdb-path {settings.duckdb_path} is a folder; name a database file"
            )
    if settings.backend == "pyspark" and not is_uri(settings.spark_warehouse):
        _check_writable_folder(
            Path(settings.spark_warehouse), f"spark-warehouse {settings.spark_warehouse}"
        )
    _check_writable_folder(settings.target_dir, f"target-dir {settings.target_dir}")


def _check_writable_folder(folder: Path, setting: str) -> None:
    """The folder exists and is writable, or can be created (its nearest existing ancestor
    is a writable folder). Writing is tried, not inferred from permission bits, which say
    nothing about read-only mounts or a superuser."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigurationError(f"{setting}: {existing} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ConfigurationError(
            f"{setting}: cannot write in {existing} ({error.strerror})"
        ) from None
