"""Test sessions: ``nox`` runs lint, typecheck, the tests (DuckDB and PostgreSQL) and Spark.

``nox -s mutants`` (mutation testing) and ``nox -s benchmark`` run only when named.

The PostgreSQL tests need a server: MEDALLION_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/postgres. They fail (not skip) when none answers.
"""

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "spark"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
PASSED_ENV = ("MEDALLION_TEST_PG_URL", "MEDALLION_TEST_REFERENCE", "HYPOTHESIS_PROFILE")
MUTMUT = "mutmut==3.8.1"
"""Pinned: tests/mutmut_scope.py reads mutmut's stats state, which is not a public API."""
MUTANTS = Path("mutants")
VERDICTS = Path("reports/mutation-verdicts")
"""mutmut's verdicts (its ``.meta`` file per mutated module), kept in the repository: a whole
run takes longer than a working session, and mutmut tries again only the mutants that have no
verdict yet or whose function changed since (it keeps a hash of every function)."""
SPARK_TESTS = ("tests/test_pyspark.py", "tests/test_pyspark_history.py")
"""Need PySpark and Java, which only the spark session installs; each runs in a pytest process
of its own, since a JVM keeps the first Hive metastore it opens."""
SPARK_CLUSTER_TESTS = "tests/test_spark_cluster.py"
"""Starts a standalone Spark cluster: minutes, so only on request (``nox -s spark_cluster``)."""


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, tests, benchmarks and this file."""
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """pytest on DuckDB and the real PostgreSQL server (hypothesis profile: ci by default)."""
    session.install("-e", ".[test]")
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.setdefault("HYPOTHESIS_PROFILE", "ci")
    ignored = [f"--ignore={path}" for path in (*SPARK_TESTS, SPARK_CLUSTER_TESTS)]
    # One worker per core; a test module stays on one worker, so its shared build runs once.
    parallel = ("-n", "auto", "--dist", "loadfile")
    session.run("pytest", *parallel, *ignored, *session.posargs, env=env)


@nox.session(python=PYTHON)
def spark(session: nox.Session) -> None:
    """Both pipelines on Spark in local mode (needs Java), every table compared with DuckDB."""
    session.install("-e", ".[test,spark]")
    for module in SPARK_TESTS:
        session.run("pytest", module, *session.posargs)


@nox.session(python=PYTHON)
def mutants(session: nox.Session) -> None:
    """mutmut over the business rules, then reports/mutation-report.md (not in the default run).

    What is mutated and which tests run is in pyproject's [tool.mutmut]; arguments go to
    ``mutmut run`` (``nox -s mutants -- --max-children 2``, or mutant names to retry). Fails
    while a survivor is neither killed nor triaged in reports/mutation_triage.toml.
    """
    session.install("-e", ".[test]", MUTMUT)
    _copy_verdicts(VERDICTS, MUTANTS)
    try:
        session.run("mutmut", "run", *session.posargs, env={"HYPOTHESIS_PROFILE": "ci"})
    finally:
        _copy_verdicts(MUTANTS, VERDICTS)
    session.run("python", "reports/mutation_report.py")


def _copy_verdicts(source: Path, target: Path) -> None:
    """Copy every ``.meta`` file under ``source`` to the same place under ``target``; those
    already in ``mutants/`` are newer than the repository's and are kept."""
    for meta in source.rglob("*.meta"):
        copy = target / meta.relative_to(source)
        if target == MUTANTS and copy.exists():
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(meta, copy)


@nox.session(python=PYTHON)
def spark_cluster(session: nox.Session) -> None:
    """Both pipelines through a Spark standalone master and worker on 127.0.0.1, compared
    with DuckDB table by table; a lost worker, Ctrl-C, a busy metastore (not in CI: slow)."""
    session.install("-e", ".[test,spark]")
    session.run("pytest", SPARK_CLUSTER_TESTS, *session.posargs)


@nox.session(python=PYTHON)
def benchmark(session: nox.Session) -> None:
    """The build against hand-written SQL (DuckDB, PostgreSQL), crm_erp growth and CLI
    start-up, each step in its own process; checks the baseline's rows equal the build's and
    writes benchmarks/results.json (not in CI: minutes, and 10M sales need ~6 GB of disk).

    Arguments go to benchmarks/run.py: ``nox -s benchmark -- --sizes 1M --repeat 3``.
    """
    session.install("-e", ".")
    session.run("python", "benchmarks/run.py", *session.posargs)
