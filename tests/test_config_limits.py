"""The safety limits (allow-shrink, connect-timeout, lock-timeout) resolve like every other
setting: flags > environment > pyproject > defaults, and bad values are refused with a sentence."""

from pathlib import Path

import pytest

from medallion_ibis.config import resolve_settings
from medallion_ibis.errors import ConfigurationError


def test_defaults(tmp_path: Path) -> None:
    settings = resolve_settings({}, environ={}, project_dir=tmp_path)
    assert (settings.allow_shrink, settings.connect_timeout, settings.lock_timeout) == (
        False,
        10,
        30,
    )


def test_flags_beat_environment_beats_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.medallion-ibis]\nallow-shrink = true\nconnect-timeout = 3\nlock-timeout = 4\n"
    )
    environ = {"MEDALLION_CONNECT_TIMEOUT": "5", "MEDALLION_LOCK_TIMEOUT": "6"}

    from_files = resolve_settings({}, environ={}, project_dir=tmp_path)
    from_env = resolve_settings({}, environ=environ, project_dir=tmp_path)
    from_flags = resolve_settings(
        {"lock-timeout": "7", "allow-shrink": None}, environ=environ, project_dir=tmp_path
    )

    assert (from_files.allow_shrink, from_files.connect_timeout, from_files.lock_timeout) == (
        True,
        3,
        4,
    )
    assert (from_env.connect_timeout, from_env.lock_timeout) == (5, 6)
    assert (from_flags.allow_shrink, from_flags.connect_timeout, from_flags.lock_timeout) == (
        True,
        5,
        7,
    )


def test_allow_shrink_from_the_environment_reads_yes_and_no(tmp_path: Path) -> None:
    def allowed(text: str) -> bool:
        environ = {"MEDALLION_ALLOW_SHRINK": text}
        return resolve_settings({}, environ=environ, project_dir=tmp_path).allow_shrink

    assert [allowed(text) for text in ("true", "1", "yes", "false", "0", "no")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ConfigurationError, match="MEDALLION_ALLOW_SHRINK must be true or false"):
        allowed("maybe")


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5"])
def test_a_timeout_must_be_a_positive_whole_number_of_seconds(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="--lock-timeout must be a whole number"):
        resolve_settings({"lock-timeout": value}, environ={}, project_dir=tmp_path)
