"""Spark settings from configuration: the pyproject table, repeated flags, the user wins."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from medallion_ibis.cli import main
from medallion_ibis.config import resolve_settings
from medallion_ibis.errors import ConfigurationError

PYPROJECT = """
[tool.medallion-ibis]
spark-warehouse = "s3a://lake/medallion"
spark-stall-timeout = 90

[tool.medallion-ibis.spark-conf]
"spark.sql.shuffle.partitions" = 64
"spark.ui.enabled" = true
"spark.executor.memory" = "2g"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    return tmp_path


def test_spark_conf_comes_from_pyproject_spelled_as_spark_expects(project: Path) -> None:
    settings = resolve_settings({}, environ={}, project_dir=project)
    assert settings.spark_conf == {
        "spark.sql.shuffle.partitions": "64",
        "spark.ui.enabled": "true",
        "spark.executor.memory": "2g",
    }
    assert settings.spark_warehouse == "s3a://lake/medallion"
    assert settings.spark_stall_timeout == 90


def test_a_spark_conf_flag_wins_over_pyproject_key_by_key(project: Path) -> None:
    flags = {"spark-conf": ("spark.executor.memory=4g", "spark.jars.packages=a:b:1=x")}
    settings = resolve_settings(flags, environ={}, project_dir=project)
    assert settings.spark_conf["spark.executor.memory"] == "4g"
    assert settings.spark_conf["spark.sql.shuffle.partitions"] == "64"
    assert settings.spark_conf["spark.jars.packages"] == "a:b:1=x", "split at the first ="


@pytest.mark.parametrize("pair", ["spark.ui.enabled", "=true"])
def test_a_spark_conf_flag_without_key_and_value_is_refused(tmp_path: Path, pair: str) -> None:
    with pytest.raises(ConfigurationError, match="--spark-conf takes key=value"):
        resolve_settings({"spark-conf": (pair,)}, environ={}, project_dir=tmp_path)


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_stall_timeout_must_be_positive_seconds(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="SPARK_STALL_TIMEOUT must be a positive"):
        resolve_settings({}, environ={"MEDALLION_SPARK_STALL_TIMEOUT": value}, project_dir=tmp_path)


def test_the_cli_refuses_a_malformed_spark_conf_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["build", "--backend", "pyspark", "--spark-conf", "spark.ui.enabled"]
    )
    assert result.exit_code == 2
    assert "--spark-conf takes key=value, got 'spark.ui.enabled'" in result.output
