"""Spark (local or a cluster): for data that outgrows one machine.

Tables are registered in a Hive metastore, so a later session (or ``spark-sql``) finds them:
by default an embedded Derby database beside a local warehouse folder, or the user's own
metastore. Spark has no multi-table transaction: publishing first copies every staged table
next to its target (``<table>__next``), which is where a build can still fail cleanly, and
only then swaps each into place with a drop and a rename, a metadata operation. A crash inside
that last step can leave some tables new and others old; the next successful build repairs it.
"""

import logging
import os
import re
import signal
import socket
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path
from types import FrameType

import ibis
import ibis.expr.types as ir
from ibis.backends.pyspark.datatypes import PySparkType
from py4j.protocol import Py4JError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession, functions

from medallion_ibis.backends.base import (
    LAYER_SCHEMAS,
    STAGING_SCHEMA,
    Publication,
    Warehouse,
    file_lock,
)
from medallion_ibis.config import DEFAULT_SPARK_STALL_TIMEOUT, is_uri
from medallion_ibis.errors import (
    BackendUnavailable,
    BuildInterrupted,
    ConfigurationError,
    MedallionError,
)
from medallion_ibis.ingest import CSV_ERRORS, explain_csv_error, read_source
from medallion_ibis.model import Lineage, Source

NEXT_SUFFIX = "__next"
LOCK_DATABASE = "medallion_build_lock"
SPARK_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.legacy.createHiveTableByDefault": "false",
    "spark.sql.catalogImplementation": "hive",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
"""Every session: timestamps read as written in UTC and stored as Parquet's standard INT64
timestamp (Spark's default is the deprecated INT96), Parquet tables, a persistent catalog."""
LOCAL_MODE_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
}
"""Only in local mode, where a web UI and 200 shuffle partitions cost more than they give."""
USER_METASTORE_KEYS = frozenset(
    {
        "spark.hadoop.hive.metastore.uris",
        "spark.hadoop.javax.jdo.option.ConnectionURL",
        "spark.sql.catalogImplementation",
    }
)
"""Settings by which a user names their own metastore; then no Derby database is made."""
MAX_JAVA_CAUSES = 50
QUIET_SETTINGS = {"spark.ui.showConsoleProgress": "false"}
"""Unless verbose: the build prints its own progress, one line per step."""
QUIET_LOG_LEVEL = "FATAL"
"""Spark's warnings (a thousand ``WindowExec: No Partition Defined`` per build) and errors
are hidden, and so are py4j's tracebacks of a call cut short by Ctrl-C; failures reach the
user as one sentence through ``explain``."""


def _name(schema: str, table: str) -> str:
    return f"`{schema}`.`{table}`"


def spark_settings(
    location: str, master: str, user: Mapping[str, str], *, verbose: bool = False
) -> dict[str, str]:
    """The session's settings: package defaults, then what the warehouse needs, then the
    user's settings, which always win. A local ``location`` must already be absolute."""
    settings = dict(SPARK_DEFAULTS)
    if master.startswith("local"):
        settings.update(LOCAL_MODE_DEFAULTS)
    if not verbose:
        settings.update(QUIET_SETTINGS)
    settings["spark.sql.warehouse.dir"] = f"{location.rstrip('/')}/tables"
    if not is_uri(location) and not USER_METASTORE_KEYS & user.keys():
        metastore = f"jdbc:derby:;databaseName={location}/metastore_db;create=true"
        settings["spark.hadoop.javax.jdo.option.ConnectionURL"] = metastore
        settings["spark.driver.extraJavaOptions"] = f"-Dderby.system.home={location}"
    for key, value in user.items():
        if key == "spark.driver.extraJavaOptions" and key in settings:
            value = f"{settings[key]} {value}"
        settings[key] = value
    return settings


def _with_java_causes(error: Exception) -> str:
    """The error's message and those of every Java exception behind it: Spark reports the
    outermost (``Unable to instantiate …MetaStoreClient``), the cause is nine levels down."""
    messages = [str(error)]
    java = getattr(error, "_origin", None) or getattr(error, "java_exception", None)
    try:
        while java is not None and len(messages) < MAX_JAVA_CAUSES:
            messages.append(str(java.toString()))
            java = java.getCause()
    except Py4JError:
        pass
    return "\n".join(messages)


class SparkWarehouse(Warehouse):
    """A Spark session whose tables live under ``location`` (a local folder or a URI)."""

    name = "pyspark"

    def __init__(
        self,
        location: str | Path,
        master: str = "local[*]",
        conf: Mapping[str, str] | None = None,
        *,
        stall_timeout: float = DEFAULT_SPARK_STALL_TIMEOUT,
        verbose: bool = False,
    ) -> None:
        location = str(location)
        self.folder: Path | None = None
        if not is_uri(location):
            self.folder = Path(location).resolve()
            self.folder.mkdir(parents=True, exist_ok=True)
            location = str(self.folder)
        self.location = location
        builder = SparkSession.builder.master(master).appName("medallion-ibis")
        for key, value in spark_settings(location, master, conf or {}, verbose=verbose).items():
            builder = builder.config(key, value)
        self.session = builder.getOrCreate()
        if not verbose:
            self.session.sparkContext.setLogLevel(QUIET_LOG_LEVEL)
            logging.getLogger("py4j").setLevel(logging.CRITICAL)
        self.con = ibis.pyspark.connect(self.session)
        self._reader = ibis.duckdb.connect()
        self._watch = StallWatch(self.session, stall_timeout)
        self._interrupted = False
        self._previous_on_interrupt = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._on_interrupt)

    def _on_interrupt(self, number: int, frame: FrameType | None) -> None:
        """Ctrl-C cancels Spark's jobs; the build then stops with "interrupted" as soon as the
        running call returns, and before the next step starts. Raising in the middle of a
        py4j call (as PySpark's own handler does) makes py4j log a traceback; a second Ctrl-C
        still does, for a call that will not return."""
        if self._interrupted:
            raise KeyboardInterrupt
        self._interrupted = True
        context = self.session.sparkContext
        threading.Thread(target=context.cancelAllJobs, name="spark-cancel", daemon=True).start()

    def _stop_if_interrupted(self) -> None:
        if self._interrupted:
            raise BuildInterrupted("interrupted")

    def lock(self) -> AbstractContextManager[None]:
        """A file lock beside a local warehouse; elsewhere a lock database in the metastore."""
        if self.folder is not None:
            return file_lock(self.folder / "build.lock")
        return self._metastore_lock()

    @contextmanager
    def _metastore_lock(self) -> Iterator[None]:
        """The metastore refuses to create a database that exists, so of two builds sharing
        it only one gets the lock. A build that dies without releasing it leaves the lock
        behind; the message says who took it and how to remove it."""
        taken = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        holder = f"{socket.gethostname()} pid {os.getpid()} at {taken}"
        with self.explained():
            try:
                self.session.sql(f"CREATE DATABASE `{LOCK_DATABASE}` COMMENT '{holder}'")
            except AnalysisException as error:
                if "SCHEMA_ALREADY_EXISTS" not in str(error):
                    raise
                owner = self.session.catalog.getDatabase(LOCK_DATABASE).description
                raise BackendUnavailable(
                    f"another build holds the metastore lock (taken by {owner}); wait for it to "
                    f"finish, or if it died, remove the lock: DROP DATABASE {LOCK_DATABASE}"
                ) from None
        try:
            yield
        finally:
            self.session.sql(f"DROP DATABASE IF EXISTS `{LOCK_DATABASE}`")

    @contextmanager
    def explained(self) -> Iterator[None]:
        """Run Spark work, turning the failures ``explain`` knows into a sentence."""
        try:
            yield
        except MedallionError:
            raise
        except Exception as error:
            explanation = self.explain(error)
            if explanation is None:
                raise
            raise explanation from None

    def explain(self, error: Exception) -> MedallionError | None:
        """The cause of a known failure, which Spark buries in a Java stack trace."""
        if self._interrupted:
            return BuildInterrupted("interrupted")
        if self._watch.stalled:
            return BackendUnavailable(
                f"Spark ran no task for {self._watch.timeout:g} s (no executor left to run "
                "them?) and the job was cancelled; check the cluster's workers, or raise "
                "spark-stall-timeout if they are only slow to come"
            )
        text = _with_java_causes(error)
        if "Another instance of Derby may have already booted" in text:
            return BackendUnavailable(
                f"the metastore in {self.location} is in use by another Spark session (an "
                "embedded Derby metastore admits one); stop that session or configure a shared "
                "metastore (spark-conf spark.hadoop.hive.metastore.uris)"
            )
        denied = re.search(r"(?:AccessDeniedException|Permission denied):? *([^\n]*)", text)
        if denied is not None:
            return ConfigurationError(
                f"Spark may not read or write {denied.group(1).strip() or 'a folder it needs'}: "
                "permission denied (the warehouse and TMPDIR must be readable and writable "
                "by the driver and every executor)"
            )
        return None

    def prepare(self) -> None:
        with self.explained():
            for schema in LAYER_SCHEMAS:
                self.session.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
            self.discard_staging()
            self.session.sql(f"CREATE DATABASE `{STAGING_SCHEMA}`")

    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        """DuckDB parses the CSV (the one reader, see ``ingest``) into Parquet; Spark reads
        the Parquet file in parallel and keeps it as a table. Returns the parsed rows, which
        the runner compares with the table: executors that cannot see the file read none."""
        self._stop_if_interrupted()
        bronze = read_source(self._reader, path, source, lineage)
        with tempfile.TemporaryDirectory(prefix="medallion-") as scratch:
            parsed = Path(scratch) / "bronze.parquet"
            try:
                self._reader.to_parquet(bronze, parsed)
            except CSV_ERRORS as error:
                raise explain_csv_error(path, error) from None
            parsed_rows = int(self._reader.read_parquet(parsed).count().execute())
            rows = self.session.read.parquet(str(parsed))
            rows.write.saveAsTable(_name(STAGING_SCHEMA, staged), format="parquet")
        return parsed_rows

    def materialize(self, staged: str, expr: ir.Table) -> int:
        """Like every engine, but each column is stored in the type the expression declares:
        Spark computes some results narrower (``row_number`` is a 32-bit integer there), and
        Ibis drops casts it considers redundant, so the declared types are applied here."""
        self._stop_if_interrupted()
        frame = self.session.sql(str(self.con.compile(expr)))
        declared = [
            functions.col(f"`{name}`").cast(PySparkType.from_ibis(dtype)).alias(name)
            for name, dtype in expr.schema().items()
        ]
        frame.select(*declared).write.saveAsTable(_name(STAGING_SCHEMA, staged), format="parquet")
        return int(self.staged(staged).count().execute())

    def publish(self, publications: Sequence[Publication]) -> list[str]:
        self._stop_if_interrupted()
        targets: dict[tuple[str, str], list[Publication]] = defaultdict(list)
        for publication in publications:
            targets[(publication.schema, publication.table)].append(publication)
        with self.explained():
            self._publish(targets)
        return []

    def _publish(self, targets: Mapping[tuple[str, str], list[Publication]]) -> None:
        try:
            for (schema, table), parts in targets.items():
                self._write_next(schema, table, parts)
        except BaseException:
            for schema, table in targets:
                self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table + NEXT_SUFFIX)}")
            raise
        for schema, table in targets:
            self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table)}")
            self.session.sql(
                f"ALTER TABLE {_name(schema, table + NEXT_SUFFIX)} RENAME TO {_name(schema, table)}"
            )

    def _write_next(self, schema: str, table: str, parts: list[Publication]) -> None:
        """The target's next content beside it: the staged rows, plus, for a table shared by
        pipelines, the published rows of the pipelines this build does not replace."""
        staged = [self.session.table(_name(STAGING_SCHEMA, part.staged)) for part in parts]
        rows = reduce(DataFrame.unionByName, staged)
        partitions = [part.partition for part in parts if part.partition is not None]
        if partitions and self.session.catalog.tableExists(f"{schema}.{table}"):
            column = partitions[0][0]
            replaced = [value for _, value in partitions]
            published = self.session.table(_name(schema, table))
            kept = published.filter(~published[column].isin(replaced))
            rows = kept.unionByName(rows)
        self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table + NEXT_SUFFIX)}")
        rows.write.saveAsTable(_name(schema, table + NEXT_SUFFIX), format="parquet")

    def discard_staging(self) -> None:
        with self.explained():
            self.session.sql(f"DROP DATABASE IF EXISTS `{STAGING_SCHEMA}` CASCADE")

    def close(self) -> None:
        self._watch.stop()
        self._reader.disconnect()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous_on_interrupt)
        with self.explained():
            self.session.stop()


class StallWatch:
    """Cancels every running Spark job once Spark has had work but run no task for
    ``timeout`` seconds: what a cluster whose workers are all gone looks like. Spark itself
    waits for a worker forever. A long-running task is progress, not a stall."""

    def __init__(self, session: SparkSession, timeout: float) -> None:
        self.timeout = timeout
        self.stalled = False
        self._context = session.sparkContext
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spark-stall-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        idle_since: float | None = None
        while not self._stopped.wait(min(1.0, self.timeout / 10)):
            if not self._starved():
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= self.timeout:
                self.stalled = True
                self._context.cancelAllJobs()
                idle_since = None

    def _starved(self) -> bool:
        """Some stage is waiting to run and no task of any stage is running."""
        tracker = self._context.statusTracker()
        stages = [tracker.getStageInfo(stage) for stage in tracker.getActiveStageIds()]
        active = [stage for stage in stages if stage is not None]
        return bool(active) and all(stage.numActiveTasks == 0 for stage in active)
