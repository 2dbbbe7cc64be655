"""Both pipelines through a real Spark standalone cluster, as a cluster user runs them.

A master and one worker are started from the installed PySpark, bound to 127.0.0.1, and
stopped by their process ids whatever happens. Slow (a JVM per process), so it is not part
of the default run: ``nox -s spark_cluster``.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyspark
import pytest
from conftest import SEEDS
from spark_parity import PIPELINES, Tables, duckdb_reference, published_rows

from medallion_ibis.backends.pyspark import SparkWarehouse
from medallion_ibis.config import Settings
from medallion_ibis.errors import BackendUnavailable
from medallion_ibis.runner import Build, Progress, build

SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"
CLUSTER_DRIVER = {
    "spark.driver.memory": "1g",
    "spark.executor.memory": "512m",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
"""Small: the machine is shared. The driver listens where the executors can reach it."""
STALL_TIMEOUT = 20.0
MEDALLION_IBIS = Path(sys.executable).parent / "medallion-ibis"
"""The command line, as a user runs it: a process of its own, with its own JVM."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spark_process(log: Path, *arguments: str) -> subprocess.Popen[bytes]:
    """A Spark daemon in its own process group, so that it and the executors it starts can
    be stopped together by its id."""
    environment = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(SPARK_CLASS), *arguments],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], how: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, how)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while text not in log.read_text(errors="replace"):
        assert process.poll() is None, f"{log.name} ended: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"no {text!r} in {log.name}"
        time.sleep(0.5)


def apps_registered(master_log: Path) -> int:
    return master_log.read_text(errors="replace").count("Registered app medallion-ibis")


def wait_for_new_app(master_log: Path, before: int) -> None:
    """Until a driver has registered: its session is up and the build is under way."""
    deadline = time.monotonic() + 180
    while apps_registered(master_log) == before:
        assert time.monotonic() < deadline, "the build never reached the master"
        time.sleep(0.5)


@dataclass
class Cluster:
    master_url: str
    logs: Path
    master: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes] | None = None

    def start_worker(self) -> None:
        log = self.logs / f"worker-{time.monotonic_ns()}.log"
        self.worker = spark_process(
            log,
            "org.apache.spark.deploy.worker.Worker",
            self.master_url,
            "--host", "127.0.0.1",
            "--cores", "1",
            "--memory", "1g",
            "--webui-port", str(free_port()),
            "--work-dir", str(self.logs / "work"),
        )  # fmt: skip
        wait_for(log, "Successfully registered with master", self.worker)

    def kill_worker(self) -> None:
        """As a lost machine: the worker and its executors die at once."""
        assert self.worker is not None
        stop(self.worker, signal.SIGKILL)
        self.worker = None

    def settings(self, folder: Path, **overrides: object) -> Settings:
        fields: dict[str, object] = {
            "backend": "pyspark",
            "pipelines": PIPELINES,
            "seeds": SEEDS,
            "spark_warehouse": str(folder),
            "spark_master": self.master_url,
            "spark_conf": CLUSTER_DRIVER,
            **overrides,
        }
        return Settings(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("cluster")
    port = free_port()
    master_log = logs / "master.log"
    master = spark_process(
        master_log,
        "org.apache.spark.deploy.master.Master",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--webui-port", str(free_port()),
    )  # fmt: skip
    running = Cluster(f"spark://127.0.0.1:{port}", logs, master)
    try:
        wait_for(master_log, "I have been elected leader", master)
        running.start_worker()
        yield running
    finally:
        if running.worker is not None:
            stop(running.worker)
        stop(master)


@pytest.fixture(scope="module")
def duckdb_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    return duckdb_reference(tmp_path_factory.mktemp("duckdb"))


@pytest.fixture(scope="module")
def cluster_folder(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("warehouse")
    assert build(cluster.settings(folder)).published
    return folder


@pytest.fixture(scope="module")
def cluster_tables(cluster: Cluster, cluster_folder: Path) -> Tables:
    warehouse = SparkWarehouse(cluster_folder, cluster.master_url, CLUSTER_DRIVER)
    try:
        return published_rows(warehouse.con)
    finally:
        warehouse.close()


def test_the_cluster_publishes_every_table_as_duckdb_does(
    cluster_tables: Tables, duckdb_tables: Tables
) -> None:
    assert sorted(cluster_tables) == sorted(duckdb_tables)
    assert cluster_tables[("gold", "fact_sales")], "an empty table would prove nothing"
    differing = [key for key in duckdb_tables if cluster_tables[key] != duckdb_tables[key]]
    assert differing == []


class KillWorkerAt(Progress):
    """Kills the only worker when a given step starts: the build can no longer run tasks."""

    def __init__(self, cluster: Cluster, step: int) -> None:
        self.cluster = cluster
        self.step = step

    def step_started(self, index: int, total: int, node: str) -> None:
        if index == self.step:
            self.cluster.kill_worker()


def test_a_build_whose_workers_are_lost_stops_with_a_message_after_the_stall_timeout(
    cluster: Cluster, cluster_folder: Path, cluster_tables: Tables
) -> None:
    settings = cluster.settings(cluster_folder, spark_stall_timeout=STALL_TIMEOUT)
    stalled = Build(settings, KillWorkerAt(cluster, step=4))
    try:
        with pytest.raises(BackendUnavailable, match=r"Spark ran no task for 20 s"):
            stalled.run()
    finally:
        cluster.start_worker()
    assert not stalled.result.published
    assert [step.status for step in stalled.result.steps[:3]] == ["success"] * 3
    assert stalled.result.steps[3].status == "error"


def test_an_interrupted_build_says_so_without_a_traceback(cluster: Cluster, tmp_path: Path) -> None:
    """Ctrl-C while Spark waits for a worker that never comes."""
    cluster.kill_worker()
    registered = apps_registered(cluster.logs / "master.log")
    try:
        command = [
            str(MEDALLION_IBIS), "build",
            "--backend", "pyspark", "--seeds", str(SEEDS),
            "--spark-warehouse", str(tmp_path / "warehouse"),
            "--spark-master", cluster.master_url,
            "--target-dir", str(tmp_path / "target"),
            *(f"--spark-conf={key}={value}" for key, value in CLUSTER_DRIVER.items()),
        ]  # fmt: skip
        build_process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_new_app(cluster.logs / "master.log", registered)
            time.sleep(20)
            build_process.send_signal(signal.SIGINT)
            output, _ = build_process.communicate(timeout=120)
        finally:
            stop(build_process, signal.SIGKILL)
    finally:
        cluster.start_worker()
    text = output.decode(errors="replace")
    assert build_process.returncode == 2, text
    assert "Error: interrupted" in text
    assert "Traceback" not in text, text
    assert "py4j" not in text.lower()


def test_a_metastore_held_by_another_session_is_named_in_one_sentence(tmp_path: Path) -> None:
    """Derby admits one process: a second session gets exit 2 and a sentence, not a
    stack trace (local mode: this is about the metastore, not the cluster)."""
    folder = tmp_path / "warehouse"
    holder_code = (
        "import sys, time\n"
        "from medallion_ibis.backends.pyspark import SparkWarehouse\n"
        "w = SparkWarehouse(sys.argv[1], conf={'spark.driver.memory': '512m'})\n"
        "w.prepare()\n"
        "print('holding', flush=True)\n"
        "time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", holder_code, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"holding\n"
        # fmt: off
        second = subprocess.run(
            [
                str(MEDALLION_IBIS), "build",
                "--backend", "pyspark", "--pipeline", "retail", "--seeds", str(SEEDS),
                "--spark-warehouse", str(folder), "--target-dir", str(tmp_path / "target"),
                "--spark-conf", "spark.driver.memory=512m",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        # fmt: on
    finally:
        stop(holder, signal.SIGKILL)
    output = second.stdout + second.stderr
    assert second.returncode == 2, output
    assert "is in use by another Spark session" in output
    assert len(output.splitlines()) < 30, output


def test_a_uri_warehouse_is_locked_in_the_metastore(cluster: Cluster, tmp_path: Path) -> None:
    """A warehouse given as a URI (no local folder to lock) with the user's own metastore:
    the lock is a database in the metastore, refused to a second holder, gone afterwards."""
    metastore = f"jdbc:derby:;databaseName={tmp_path / 'metastore_db'};create=true"
    conf = {**CLUSTER_DRIVER, "spark.hadoop.javax.jdo.option.ConnectionURL": metastore}
    warehouse = SparkWarehouse(f"file://{tmp_path}/lake", cluster.master_url, conf)
    try:
        assert warehouse.folder is None
        with (
            warehouse.lock(),
            pytest.raises(BackendUnavailable, match=r"taken by \S+ pid \d+ at "),
            warehouse.lock(),
        ):
            pass
        with warehouse.lock():
            pass
        assert "medallion_build_lock" not in [
            database.name for database in warehouse.session.catalog.listDatabases()
        ]
    finally:
        warehouse.close()
