"""The build lock names its holder, and ``--wait`` waits for it: the file lock (DuckDB, local
Spark), DuckDB's own lock on the database file, and PostgreSQL's advisory lock. Builds that
really run at once are in test_faults."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from medallion_ibis.backends.base import file_lock
from medallion_ibis.backends.duckdb import DuckDBWarehouse
from medallion_ibis.backends.postgres import PostgresWarehouse
from medallion_ibis.config import resolve_settings
from medallion_ibis.errors import BackendUnavailable, ConfigurationError

HOLD_DATABASE = (
    "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
    "time.sleep(60)"
)


class Released(threading.Thread):
    """Takes a lock at once and lets it go after some seconds; ``letting_go`` is set just
    before it does, so whoever gets the lock next can tell it waited for the release."""

    def __init__(self, lock: AbstractContextManager[None], seconds: float) -> None:
        super().__init__()
        self.lock, self.seconds = lock, seconds
        self.taken, self.letting_go = threading.Event(), threading.Event()

    def run(self) -> None:
        with self.lock:
            self.taken.set()
            time.sleep(self.seconds)
            self.letting_go.set()


def release_later(lock: AbstractContextManager[None], seconds: float) -> Released:
    """Take ``lock`` now and let it go after ``seconds``, in another thread."""
    thread = Released(lock, seconds)
    thread.start()
    assert thread.taken.wait(10)
    return thread


def test_a_held_file_lock_names_the_build_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    with file_lock(path), pytest.raises(BackendUnavailable) as refused, file_lock(path):
        pass
    assert f"is held by another build (pid {os.getpid()} on " in str(refused.value)
    assert "--wait SECONDS" in str(refused.value)
    assert path.read_text() == "", "a released lock names no holder"


def test_a_file_lock_waits_then_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    with file_lock(path):
        started = time.monotonic()
        gave_up = pytest.raises(BackendUnavailable, match=r"after waiting 0\.5s \(--wait\)")
        with gave_up, file_lock(path, wait_seconds=0.5):
            pass
        assert time.monotonic() - started >= 0.5


def test_a_file_lock_waits_for_the_holder_to_finish(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    holder = release_later(file_lock(path), 0.5)
    with file_lock(path, wait_seconds=30):
        assert holder.letting_go.is_set()
    holder.join()


@pytest.fixture
def held_database(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A DuckDB file another program (not a build) keeps open."""
    path = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_DATABASE, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        yield path, holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_duckdb_names_another_program_holding_the_database(
    held_database: tuple[Path, int],
) -> None:
    path, pid = held_database
    with pytest.raises(BackendUnavailable) as refused:
        DuckDBWarehouse(path)
    assert f"the DuckDB database {path} is held by another program (" in str(refused.value)
    assert f" pid {pid})" in str(refused.value)
    with pytest.raises(BackendUnavailable, match=r"still held by .* after waiting 0\.5s"):
        DuckDBWarehouse(path, wait_seconds=0.5)


def test_postgres_names_the_build_holding_the_lock(pg_url: str) -> None:
    holder, other = PostgresWarehouse(pg_url), PostgresWarehouse(pg_url)
    try:
        with holder.lock():
            with pytest.raises(BackendUnavailable) as refused, other.lock():
                pass
            message = str(refused.value)
            assert f"another build (medallion-ibis build pid {os.getpid()} on " in message
            assert "server pid" in message
            started = time.monotonic()
            gave_up = pytest.raises(BackendUnavailable, match=r"after waiting 0\.5s")
            with gave_up, other.lock(wait_seconds=0.5):
                pass
            assert time.monotonic() - started >= 0.5
        waiting = release_later(holder.lock(), 0.5)
        with other.lock(wait_seconds=30):
            assert waiting.letting_go.is_set()
        waiting.join()
    finally:
        holder.close()
        other.close()


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("2.5", 2.5), ("30", 30.0)])
def test_wait_is_a_number_of_seconds(tmp_path: Path, value: str, seconds: float) -> None:
    assert resolve_settings({"wait": value}, environ={}, project_dir=tmp_path).wait == seconds
    from_env = resolve_settings({}, environ={"MEDALLION_WAIT": value}, project_dir=tmp_path)
    assert from_env.wait == seconds


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_wait_refuses_what_is_not_seconds(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="--wait must"):
        resolve_settings({"wait": value}, environ={}, project_dir=tmp_path)
