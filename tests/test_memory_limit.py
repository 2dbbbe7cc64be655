"""memory-limit resolves like every other setting and reaches DuckDB, which spills past it."""

from pathlib import Path

import pytest

from medallion_ibis.backends.duckdb import DuckDBWarehouse
from medallion_ibis.config import resolve_settings
from medallion_ibis.errors import ConfigurationError


def test_the_default_leaves_duckdb_its_own_limit(tmp_path: Path) -> None:
    assert resolve_settings({}, environ={}, project_dir=tmp_path).memory_limit is None


def test_flags_beat_environment_beats_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.medallion-ibis]\nmemory-limit = "1GB"\n')
    environ = {"MEDALLION_MEMORY_LIMIT": "512MiB"}

    def limit(flags: dict[str, str], env: dict[str, str]) -> int | None:
        return resolve_settings(flags, environ=env, project_dir=tmp_path).memory_limit

    assert limit({}, {}) == 10**9
    assert limit({}, environ) == 512 * 2**20
    assert limit({"memory-limit": "2.5GB"}, environ) == 25 * 10**8


@pytest.mark.parametrize("value", ["2", "2 gigabytes", "-1GB", "GB", "10MB"])
def test_an_amount_without_a_unit_or_too_small_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="--memory-limit must be"):
        resolve_settings({"memory-limit": value}, environ={}, project_dir=tmp_path)


def test_duckdb_is_capped_at_the_limit(tmp_path: Path) -> None:
    capped = DuckDBWarehouse(tmp_path / "capped.duckdb", memory_limit=300 * 2**20)
    free = DuckDBWarehouse(tmp_path / "free.duckdb")
    try:
        setting = "SELECT current_setting('memory_limit')"
        assert capped._raw.execute(setting).fetchone() == ("300.0 MiB",)
        assert free._raw.execute(setting).fetchone() != ("300.0 MiB",)
    finally:
        capped.close()
        free.close()
