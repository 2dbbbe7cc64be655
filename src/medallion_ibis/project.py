"""A user's project: its settings file, the pipelines it loads, and their checks.

A project is a folder holding ``medallion.toml`` (settings as top-level keys) or a
``pyproject.toml`` with a ``[tool.medallion-ibis]`` table. Its ``load`` key lists the
pipelines to load: import paths (``"pipelines.orders:PIPELINE"``, imported with the project
folder on ``sys.path``, so the project need not be installed) or names of pipelines that
installed packages register in the ``medallion_ibis.pipelines`` entry-point group. Without
``load``, every registered pipeline is loaded (this package registers its two examples).

Everything is checked before any database work, and a mistake in the user's code is reported
as one sentence naming their file and line (``ConfigurationError``, exit code 2).
"""

import importlib
import sys
import tomllib
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from medallion_ibis.config import Settings, is_uri, resolve_settings
from medallion_ibis.errors import ConfigurationError
from medallion_ibis.model import Location, Pipeline

PROJECT_FILE = "medallion.toml"
PYPROJECT_FILE = "pyproject.toml"
PYPROJECT_TABLE = "medallion-ibis"
ENTRY_POINT_GROUP = "medallion_ibis.pipelines"
PATH_SETTINGS = ("seeds", "duckdb-path", "spark-warehouse", "target-dir")
"""Settings naming files or folders: relative values in a project file, and their defaults,
resolve against the project folder, so ``--project-dir`` works from anywhere (flags and
environment variables stay relative to the current folder)."""


@dataclass(frozen=True)
class Project:
    """A loaded, checked project."""

    root: Path
    config_file: Path | None
    file_settings: Mapping[str, Any]
    pipelines: dict[str, Pipeline] = field(default_factory=dict)

    def settings(
        self,
        flags: Mapping[str, Any],
        *,
        environ: Mapping[str, str] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> Settings:
        """Flags > environment > this project's file > defaults; ``warn`` receives a sentence
        per ignored setting (by default a warning)."""
        if warn is None:
            return resolve_settings(
                flags,
                environ=environ,
                file_settings=self.file_settings,
                settings_file=self.config_file,
            )
        return resolve_settings(
            flags,
            environ=environ,
            warn=warn,
            file_settings=self.file_settings,
            settings_file=self.config_file,
        )

    def select(self, names: Sequence[str]) -> list[Pipeline]:
        """The named pipelines (all of them when none is named), in load order."""
        return select_pipelines(self.pipelines, names)


def select_pipelines(pipelines: Mapping[str, Pipeline], names: Sequence[str]) -> list[Pipeline]:
    """The named pipelines (all of them when none is named), in load order."""
    unknown = [name for name in names if name not in pipelines]
    if unknown:
        raise ConfigurationError(
            f"unknown pipeline {', '.join(unknown)}; loaded: {', '.join(pipelines) or 'none'}"
        )
    return [pipeline for name, pipeline in pipelines.items() if not names or name in names]


def read_project_file(root: Path) -> tuple[Path | None, dict[str, Any]]:
    """The project's settings table and the file it came from (``None`` when there is none)."""
    for name, table in ((PROJECT_FILE, None), (PYPROJECT_FILE, PYPROJECT_TABLE)):
        path = root / name
        if not path.is_file():
            continue
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigurationError(f"{path}: not valid TOML: {error}") from None
        if table is None:
            return path, document
        settings = document.get("tool", {}).get(table)
        if settings is not None:
            return path, dict(settings)
    return None, {}


def rebased(settings: Mapping[str, Any], root: Path) -> dict[str, Any]:
    """``settings``, with the path defaults filled in, relative to ``root`` instead of the
    current folder."""
    defaults = Settings()
    paths = {key: str(getattr(defaults, key.replace("-", "_"))) for key in PATH_SETTINGS}
    return {
        key: str(root / value)
        if key in PATH_SETTINGS and isinstance(value, str) and not is_uri(value)
        else value
        for key, value in {**paths, **settings}.items()
    }


def read_project(root: Path = Path(".")) -> Project:
    """The project's settings without importing its pipelines, for commands that use no model
    (``docs serve``)."""
    if not root.is_dir():
        raise ConfigurationError(f"project folder {root} does not exist")
    config_file, settings = read_project_file(root)
    settings.pop("load", None)
    return Project(root, config_file, rebased(settings, root))


def load_project(root: Path = Path(".")) -> Project:
    """Read the project in ``root``, load its pipelines and check them."""
    if not root.is_dir():
        raise ConfigurationError(f"project folder {root} does not exist")
    config_file, settings = read_project_file(root)
    load = settings.pop("load", None)
    if load is not None and (
        not isinstance(load, list) or not all(isinstance(spec, str) for spec in load)
    ):
        raise ConfigurationError(f"{config_file}: load must be a list of strings, got {load!r}")
    pipelines = load_pipelines(root, load, config_file)
    validate_pipelines(pipelines.values())
    return Project(root, config_file, rebased(settings, root), pipelines)


def registered() -> dict[str, EntryPoint]:
    """The pipelines installed packages register, by entry-point name."""
    points = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name)
    return {point.name: point for point in points}


def installed_pipelines() -> dict[str, Pipeline]:
    """Every registered pipeline, loaded and checked (what a project without ``load`` gets)."""
    pipelines = load_pipelines(Path("."), None, None)
    validate_pipelines(pipelines.values())
    return pipelines


def load_pipelines(
    root: Path, load: Sequence[str] | None, config_file: Path | None
) -> dict[str, Pipeline]:
    """Load the pipelines ``load`` names (every registered one when ``None``), by name."""
    points = registered()
    specs = list(points) if load is None else list(load)
    pipelines: dict[str, Pipeline] = {}
    for spec in specs:
        where = _spec_location(config_file, spec)
        if ":" in spec:
            pipeline = _import_pipeline(root, spec, where)
        elif spec in points:
            pipeline = _import_pipeline(None, points[spec].value, where)
        else:
            raise ConfigurationError(
                f"{where}: no pipeline registered as {spec!r} (entry-point group "
                f"{ENTRY_POINT_GROUP}: {', '.join(points) or 'none'}); an import path "
                "looks like 'pipelines.orders:PIPELINE'"
            )
        if pipeline.name in pipelines:
            first = pipelines[pipeline.name]
            raise ConfigurationError(
                f"{pipeline.defined_at}: a second pipeline is named {pipeline.name!r}; the "
                f"first is declared at {first.defined_at}"
            )
        pipelines[pipeline.name] = pipeline
    return pipelines


def _spec_location(config_file: Path | None, spec: str) -> str:
    """``file:line`` of ``spec`` in the project file, or the entry-point group's name."""
    if config_file is None:
        return f"entry point group {ENTRY_POINT_GROUP}"
    for number, line in enumerate(config_file.read_text(encoding="utf-8").splitlines(), 1):
        if f'"{spec}"' in line or f"'{spec}'" in line:
            return f"{config_file}:{number}"
    return str(config_file)


def _import_pipeline(root: Path | None, spec: str, where: str) -> Pipeline:
    """The ``Pipeline`` at ``module:attribute``, importing the module from ``root``."""
    module_name, _, attribute = spec.partition(":")
    if root is not None:
        _forget_other_projects(module_name, root)
        _put_first_on_sys_path(root)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            searched = f" in {root.resolve()}" if root is not None else ""
            raise ConfigurationError(
                f"{where}: cannot load {spec!r}: no module named {error.name!r}{searched}"
            ) from None
        raise _import_failed(error, spec, where, root) from None
    except Exception as error:
        raise _import_failed(error, spec, where, root) from None
    pipeline = getattr(module, attribute, None)
    if not isinstance(pipeline, Pipeline):
        found = "nothing" if pipeline is None else f"a {type(pipeline).__name__}"
        raise ConfigurationError(
            f"{where}: {spec!r} must name a medallion_ibis.Pipeline, but "
            f"{module.__file__} defines {found} as {attribute!r}"
        )
    return pipeline


def _import_failed(error: Exception, spec: str, where: str, root: Path | None) -> Exception:
    """An import that raised: name the user's line that raised, not the import machinery."""
    location: Location | str = where
    if isinstance(error, SyntaxError) and error.filename:
        location = Location(error.filename, error.lineno or 0)
    else:
        frames = [
            frame
            for frame in traceback.extract_tb(error.__traceback__)
            if "importlib" not in frame.filename and not frame.filename.startswith("<")
        ]
        inside = [
            frame
            for frame in frames
            if root is None or Path(frame.filename).is_relative_to(root.resolve())
        ]
        if inside:
            location = Location(inside[-1].filename, inside[-1].lineno or 0)
    detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return ConfigurationError(
        f"{location}: loading {spec!r} raised {type(error).__name__}: {detail}"
    )


_PROJECT_FOLDERS: set[str] = set()
"""Project folders this process put on ``sys.path``."""


def _put_first_on_sys_path(root: Path) -> None:
    """The project folder first on ``sys.path``, and no other project's: a regular package
    ``pipelines`` of one project would otherwise shadow another's namespace package."""
    folder = str(root.resolve())
    sys.path[:] = [entry for entry in sys.path if entry not in _PROJECT_FOLDERS | {folder}]
    sys.path.insert(0, folder)
    _PROJECT_FOLDERS.add(folder)


def _forget_other_projects(module_name: str, root: Path) -> None:
    """Drop modules of the same top-level name imported from another project folder, so two
    projects in one process (tests, notebooks) do not see each other's pipelines."""
    top = module_name.split(".")[0]
    loaded = sys.modules.get(top)
    if loaded is None:
        return
    origins = [*getattr(loaded, "__path__", []), getattr(loaded, "__file__", None) or ""]
    if any(Path(origin).is_relative_to(root.resolve()) for origin in origins if origin):
        return
    for name in [name for name in sys.modules if name == top or name.startswith(f"{top}.")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def validate_pipelines(pipelines: Iterable[Pipeline]) -> None:
    """Check every pipeline before any database work: inputs exist, no cycles, every model
    builds its expression over stand-ins, and every contract names columns the model makes."""
    from medallion_ibis.compile import model_expressions

    for pipeline in pipelines:
        expressions = model_expressions(pipeline, date.today(), date.today())
        for name, expression in expressions.items():
            model = pipeline.models[name]
            if model.contract is None:
                continue
            unknown = [
                column for column in model.contract.columns if column not in expression.columns
            ]
            if unknown:
                raise ConfigurationError(
                    f"{model.defined_at}: the contract of {pipeline.name}.{name} names "
                    f"column(s) {', '.join(unknown)} that the model does not produce "
                    f"(it produces {', '.join(expression.columns)})"
                )
