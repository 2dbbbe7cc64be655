"""Run ``medallion-ibis build`` in this process, stopping it at a chosen point: the fault
tests (test_faults.py) start it as a child process, so the faults live in test code only.

    python fault_driver.py POINT FOLDER -- BUILD ARGS...

POINT is where the build stops:

- ``bronze``: SIGKILL once the first source is staged, while bronze is loading;
- ``gold``: SIGKILL once the first gold table is staged;
- ``publish``: SIGKILL inside the publish transaction, after every table was swapped and the
  run log appended, just before the commit;
- ``pause``: just before publishing (the build lock held), write FOLDER/ready and wait until
  FOLDER/go exists, then go on;
- ``queue``: build normally, writing FOLDER/waiting when DuckDB's open first waits for the
  database (PostgreSQL's wait is seen from outside, in ``pg_stat_activity``);
- ``none``: build normally.
"""

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from medallion_ibis.backends import duckdb as duckdb_backend
from medallion_ibis.backends.duckdb import DuckDBWarehouse
from medallion_ibis.backends.postgres import PostgresWarehouse
from medallion_ibis.cli import main

WAREHOUSES = (DuckDBWarehouse, PostgresWarehouse)
LAST_RUN_LOG_TABLE = "quality"
"""The run log's last table; its append is the last statement before the commit."""


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def after(name: str, condition: Callable[..., bool]) -> None:
    """Wrap method ``name`` of every warehouse: when ``condition(*args)`` holds for a call,
    die as soon as it returns."""
    for warehouse in WAREHOUSES:
        original = getattr(warehouse, name)

        def wrapped(self: Any, *args: Any, _original: Any = original) -> Any:
            result = _original(self, *args)
            if condition(*args):
                die()
            return result

        setattr(warehouse, name, wrapped)


def pause_before_publish(folder: Path, name: str = "publish") -> None:
    for warehouse in WAREHOUSES:
        original = getattr(warehouse, name)

        def wrapped(self: Any, *args: Any, _original: Any = original) -> Any:
            (folder / "ready").write_text(str(os.getpid()))
            while not (folder / "go").exists():
                time.sleep(0.05)
            return _original(self, *args)

        setattr(warehouse, name, wrapped)


def announce_waiting(folder: Path) -> None:
    """The DuckDB backend sleeps only while another process holds the database."""

    def sleep(seconds: float) -> None:
        (folder / "waiting").touch()
        time.sleep(seconds)

    vars(duckdb_backend)["time"] = SimpleNamespace(monotonic=time.monotonic, sleep=sleep)


def arm(point: str, folder: Path) -> None:
    if point == "bronze":
        after("load_source", lambda *args: True)
    elif point == "gold":
        after("materialize", lambda staged, expr: "__gold_" in staged)
    elif point == "publish":
        after("_append", lambda entry: entry.table == LAST_RUN_LOG_TABLE)
    elif point == "pause":
        pause_before_publish(folder)
    elif point == "queue":
        announce_waiting(folder)
    elif point != "none":
        raise SystemExit(f"unknown point {point}")


if __name__ == "__main__":
    point, folder, separator, *build_args = sys.argv[1:]
    assert separator == "--"
    arm(point, Path(folder))
    sys.argv = ["medallion-ibis", "build", *build_args]
    main()
