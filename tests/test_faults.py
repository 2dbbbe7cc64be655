"""Nothing is lost when a build dies: a build killed with SIGKILL while loading bronze, while
building gold, or inside the publish transaction leaves every published table and every
``_medallion`` record exactly as the last successful build left them, and the next build
succeeds without cleanup. Two builds at once: the second stops at once naming the first, or
waits for it with ``--wait``. On DuckDB and PostgreSQL.

Each build runs in a child process (``fault_driver.py``) that kills itself at the chosen
point; one scenario per engine runs them all and the tests read what it recorded.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
import pytest
from helpers import fresh_database
from retail_fixtures import write_seeds

from medallion_ibis.backends.duckdb import STAGED_IN_PLACE
from medallion_ibis.config import BackendName, Settings
from medallion_ibis.runner import build

TESTS = Path(__file__).resolve().parent
SOURCE = TESTS.parent / "src"
DRIVER = TESTS / "fault_driver.py"
KILL_POINTS = ("bronze", "gold", "publish")
CHECKED_SCHEMAS = ("bronze", "silver", "gold", "_medallion")
EXTRA_SALE = "1011,1,501,Laptop Pro,Electronics,1,1299.99,2024-01-20,101,New York\n"
"""Makes the second seeds differ, so a build that published anything would show."""
CHECKSUM = (
    "SELECT count(*), md5(coalesce(string_agg(md5(CAST(t AS VARCHAR)), ',' "
    "ORDER BY md5(CAST(t AS VARCHAR))), '')) FROM {} AS t"
)
"""A table's row count and a digest of its rows in any order, computed by the engine."""
LIST_TABLES = (
    "SELECT table_schema, table_name FROM information_schema.tables "
    "WHERE table_schema IN ('bronze', 'silver', 'gold', '_medallion') "
    "ORDER BY table_schema, table_name"
)
CHILD_TIMEOUT = 300

Checksums = dict[str, tuple[int, str]]


def quoted(schema: str, table: str) -> str:
    return f'"{schema}"."{table}"'


@dataclass(frozen=True)
class Warehouse:
    """Where the scenario builds, and how to read it from outside the build."""

    backend: BackendName
    duckdb_path: Path
    pg_url: str

    def args(self) -> list[str]:
        if self.backend == "postgres":
            return ["--backend", "postgres", "--pg-url", self.pg_url]
        return ["--backend", "duckdb", "--duckdb-path", str(self.duckdb_path)]

    def query(self, statement: str) -> list[tuple[object, ...]]:
        if self.backend == "postgres":
            with psycopg.connect(self.pg_url) as con:
                return list(con.execute(statement).fetchall())
        reader = duckdb.connect(str(self.duckdb_path), read_only=True)
        try:
            return reader.execute(statement).fetchall()
        finally:
            reader.close()

    def checksums(self) -> Checksums:
        """Every table of the layers and of ``_medallion``, whatever they are."""
        found: Checksums = {}
        for schema, table in self.query(LIST_TABLES):
            [(rows, digest)] = self.query(CHECKSUM.format(quoted(str(schema), str(table))))
            found[f"{schema}.{table}"] = (int(str(rows)), str(digest))
        return found

    def wait_for_queue(self, child: "Child", folder: Path) -> None:
        """Until ``child`` is waiting for the build lock: on PostgreSQL its lock session waits
        on the server; on DuckDB the driver writes FOLDER/waiting once the open waits."""
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            f"AND application_name LIKE 'medallion-ibis build pid {child.process.pid} %'"
        )
        deadline = time.monotonic() + CHILD_TIMEOUT
        while not (
            (folder / "waiting").exists()
            if self.backend == "duckdb"
            else self.query(waiting) == [(1,)]
        ):
            assert child.process.poll() is None, child.process.communicate()
            assert time.monotonic() < deadline, "the build never waited for the lock"
            time.sleep(0.05)

    def settle(self) -> None:
        """Wait until the server has ended the sessions of a killed build (it rolls back
        their transaction and frees their locks when it sees the socket close)."""
        if self.backend != "postgres":
            return
        others = (
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        deadline = time.monotonic() + 30
        while self.query(others) != [(0,)]:
            assert time.monotonic() < deadline, "the killed build's sessions did not end"
            time.sleep(0.1)


@dataclass
class Child:
    """A build in a child process."""

    process: subprocess.Popen[str]
    started: float = field(default_factory=time.monotonic)

    def finish(self) -> tuple[int, str, float]:
        """Exit code, stderr and seconds taken."""
        _, stderr = self.process.communicate(timeout=CHILD_TIMEOUT)
        return self.process.returncode, stderr, time.monotonic() - self.started


def start(point: str, folder: Path, warehouse: Warehouse, seeds: Path, *extra: str) -> Child:
    folder.mkdir(parents=True, exist_ok=True)
    env = {name: value for name, value in os.environ.items() if not name.startswith("MEDALLION_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SOURCE), str(TESTS)])
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, str(DRIVER), point, str(folder), "--"]
    command += [*warehouse.args(), "--pipeline", "retail", "--seeds", str(seeds)]
    command += ["--target-dir", str(folder / "target"), *extra]
    process = subprocess.Popen(
        command,
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Child(process)


def wait_for(path: Path, child: Child) -> None:
    deadline = time.monotonic() + CHILD_TIMEOUT
    while not path.exists():
        assert child.process.poll() is None, child.process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@dataclass
class Scenario:
    """What happened to one warehouse: a baseline build, builds killed at each point, then
    three builds at once: ``first`` (paused while holding the lock), ``refused`` (no wait)
    and ``waiting`` (``--wait``)."""

    warehouse: Warehouse
    baseline: Checksums
    killed: dict[str, tuple[int, Checksums]] = field(default_factory=dict)
    first_pid: int = 0
    first: tuple[int, str, float] = (0, "", 0.0)
    refused: tuple[int, str, float] = (0, "", 0.0)
    waiting: tuple[int, str, float] = (0, "", 0.0)
    after: Checksums = field(default_factory=dict)


def run_scenario(warehouse: Warehouse, root: Path) -> Scenario:
    seeds = write_seeds(root / "seeds-1")
    settings = Settings(
        backend=warehouse.backend,
        pipelines=("retail",),
        seeds=seeds,
        duckdb_path=warehouse.duckdb_path,
        pg_url=warehouse.pg_url,
        target_dir=root / "target",
    )
    assert build(settings).published
    scenario = Scenario(warehouse, warehouse.checksums())
    changed = write_seeds(root / "seeds-2")
    sales = changed / "retail" / "raw_sales.csv"
    sales.write_text(sales.read_text().rstrip("\n") + "\n" + EXTRA_SALE)
    for point in KILL_POINTS:
        code, _, _ = start(point, root / point, warehouse, changed).finish()
        warehouse.settle()
        scenario.killed[point] = (code, warehouse.checksums())
    first = start("pause", root / "first", warehouse, changed)
    wait_for(root / "first" / "ready", first)
    scenario.first_pid = first.process.pid
    scenario.refused = start("none", root / "refused", warehouse, changed).finish()
    waiting = start("queue", root / "waiting", warehouse, changed, "--wait", "120")
    warehouse.wait_for_queue(waiting, root / "waiting")
    (root / "first" / "go").touch()
    scenario.first = first.finish()
    scenario.waiting = waiting.finish()
    scenario.after = warehouse.checksums()
    return scenario


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp(f"faults-{request.param}")
    with ExitStack() as stack:
        url = ""
        if request.param == "postgres":
            url = stack.enter_context(fresh_database(request.getfixturevalue("pg_server_url")))
        yield run_scenario(Warehouse(request.param, root / "warehouse.duckdb", url), root)


def test_the_checksums_cover_every_table_and_the_run_log(scenario: Scenario) -> None:
    """Ten retail tables and the run log: a checksum of nothing would prove nothing."""
    assert len([name for name in scenario.baseline if not name.startswith("_medallion.")]) == 10
    assert {"_medallion.runs", "_medallion.run_tables", "_medallion.quality"} <= set(
        scenario.baseline
    )
    assert scenario.baseline["_medallion.runs"][0] == 1


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_build_leaves_everything_as_the_last_success_left_it(
    scenario: Scenario, point: str
) -> None:
    code, checksums = scenario.killed[point]
    assert code == -signal.SIGKILL, f"the build was not killed at {point}"
    assert published(checksums) == scenario.baseline


def published(checksums: Checksums) -> Checksums:
    """Without the tables a killed DuckDB build staged inside the layer schemas (it publishes
    by renaming them into place): private names, dropped by the next build."""
    return {name: digest for name, digest in checksums.items() if STAGED_IN_PLACE not in name}


def test_the_next_build_succeeds_without_cleanup(scenario: Scenario) -> None:
    code, stderr, _ = scenario.first
    assert code == 0, stderr
    changed = {
        name for name, digest in scenario.after.items() if scenario.baseline.get(name) != digest
    }
    assert {"bronze.bronze_sales", "gold.gold_product_performance", "_medallion.runs"} <= changed
    assert published(scenario.after) == scenario.after, "the next build drops staged leftovers"
    runs = scenario.warehouse.query(
        "SELECT status, count(*) FROM _medallion.runs GROUP BY status ORDER BY status"
    )
    assert runs == [("success", 3)], "the baseline and the two concurrent builds; no killed one"


def test_a_second_build_stops_at_once_naming_the_first(scenario: Scenario) -> None:
    code, stderr, seconds = scenario.refused
    assert code == 2, stderr
    assert "another build (" in stderr
    assert f"pid {scenario.first_pid} on " in stderr
    assert "--wait SECONDS" in stderr
    assert seconds < 60


def test_a_build_with_wait_queues_behind_and_then_succeeds(scenario: Scenario) -> None:
    """The scenario saw it waiting for the lock (``wait_for_queue``) before letting the
    first build go on."""
    code, stderr, _ = scenario.waiting
    assert code == 0, stderr
