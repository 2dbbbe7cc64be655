"""Spark (local or a cluster): for data that outgrows one machine.

Tables are registered in a Hive metastore, so a later session (or ``spark-sql``) finds them:
by default an embedded Derby database beside a local warehouse folder, or the user's own
metastore. Spark has no multi-table transaction: publishing first copies every staged table
next to its target (``<table>__next``), which is where a build can still fail cleanly, and
only then swaps each into place with a drop and a rename, a metadata operation. A crash inside
that last step can leave some tables new and others old; the next successful build repairs it.

The ``_medallion`` ledger tables are appended to, never swapped: each run's rows are first
written beside their table (``<table>__incoming``) with the staged tables, then appended once
every published table is swapped in. So a build that fails or dies before the swaps records
nothing, a record never names a table that was not swapped in, and no crash drops the ledger's
history; a crash during the swaps or the appends can leave tables swapped in whose records are
missing (and an ``__incoming`` table, replaced by the next build).
"""

import logging
import re
import signal
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import reduce
from pathlib import Path
from types import FrameType

import ibis
import ibis.expr.types as ir
import pyarrow
from ibis.backends.pyspark.datatypes import PySparkType
from py4j.protocol import Py4JError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession, functions

from medallion_ibis.backends.base import (
    LAYER_SCHEMAS,
    LOCK_POLL_SECONDS,
    METADATA_SCHEMA,
    STAGING_SCHEMA,
    LedgerRows,
    Publication,
    Warehouse,
    another_build,
    file_lock,
    holder_description,
    lock_busy,
    refuse_changed_append,
)
from medallion_ibis.config import DEFAULT_SPARK_STALL_TIMEOUT, is_uri
from medallion_ibis.errors import (
    BackendUnavailable,
    BuildInterrupted,
    ConfigurationError,
    MedallionError,
)
from medallion_ibis.ingest import CSV_ERRORS, bronze_schema, explain_csv_error, read_source
from medallion_ibis.model import Lineage, Source

NEXT_SUFFIX = "__next"
INCOMING_SUFFIX = "__incoming"
"""A ledger table's rows of the running build, written beside it before any swap."""
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

    def lock(self, wait_seconds: float = 0.0) -> AbstractContextManager[None]:
        """A file lock beside a local warehouse; elsewhere a lock database in the metastore."""
        if self.folder is not None:
            return file_lock(self.folder / "build.lock", wait_seconds)
        return self._metastore_lock(wait_seconds)

    @contextmanager
    def _metastore_lock(self, wait_seconds: float) -> Iterator[None]:
        """The metastore refuses to create a database that exists, so of two builds sharing
        it only one gets the lock; a waiting build tries again until ``wait_seconds`` pass. A
        build that dies without releasing it leaves the lock behind; the message says who
        took it and how to remove it."""
        deadline = time.monotonic() + wait_seconds
        with self.explained():
            while not self._create_lock_database():
                if time.monotonic() >= deadline:
                    owner = self.session.catalog.getDatabase(LOCK_DATABASE).description
                    raise lock_busy(
                        f"the metastore lock (if its holder died, remove it: DROP DATABASE "
                        f"{LOCK_DATABASE})",
                        another_build(owner or ""),
                        wait_seconds,
                    )
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            self.session.sql(f"DROP DATABASE IF EXISTS `{LOCK_DATABASE}`")

    def _create_lock_database(self) -> bool:
        """Take the metastore lock; False when another build holds it."""
        try:
            self.session.sql(f"CREATE DATABASE `{LOCK_DATABASE}` COMMENT '{holder_description()}'")
        except AnalysisException as error:
            if "SCHEMA_ALREADY_EXISTS" not in str(error):
                raise
            return False
        return True

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

    def prepare(self, publications: Sequence[Publication] = ()) -> None:
        with self.explained():
            for schema in LAYER_SCHEMAS:
                self.session.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
            self.discard_staging()
            self.session.sql(f"CREATE DATABASE `{STAGING_SCHEMA}`")

    def stage_empty(self, staged: str, source: Source) -> None:
        """An empty Parquet file written by DuckDB, so the staged table has exactly the types
        the loaded batches will have."""
        empty = pyarrow.Table.from_pylist([], schema=bronze_schema(source).to_pyarrow())
        self._save_parsed(staged, ibis.memtable(empty), "overwrite")

    def load_source(self, staged: str, path: Path, source: Source, lineage: Lineage) -> int:
        """DuckDB parses the CSV (the one reader, see ``ingest``) into Parquet; Spark reads
        the Parquet file in parallel and appends it to the staged table. Returns the parsed
        rows, which the runner compares with the table: executors that cannot see the file
        read none."""
        self._stop_if_interrupted()
        bronze = read_source(self._reader, path, source, lineage)
        try:
            return self._save_parsed(staged, bronze, "append")
        except CSV_ERRORS as error:
            raise explain_csv_error(path, error) from None

    def _save_parsed(self, staged: str, bronze: ir.Table, mode: str) -> int:
        with tempfile.TemporaryDirectory(prefix="medallion-") as scratch:
            parsed = Path(scratch) / "bronze.parquet"
            self._reader.to_parquet(bronze, parsed)
            parsed_rows = int(self._reader.read_parquet(parsed).count().execute())
            rows = self.session.read.parquet(str(parsed))
            rows.write.mode(mode).saveAsTable(_name(STAGING_SCHEMA, staged), format="parquet")
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

    def publish(
        self, publications: Sequence[Publication], ledger: Sequence[LedgerRows] = ()
    ) -> list[str]:
        self._stop_if_interrupted()
        targets: dict[tuple[str, str], list[Publication]] = defaultdict(list)
        for publication in publications:
            targets[(publication.schema, publication.table)].append(publication)
        with self.explained():
            self._publish(targets, ledger)
        return []

    def _publish(
        self,
        targets: Mapping[tuple[str, str], list[Publication]],
        ledger: Sequence[LedgerRows],
    ) -> None:
        incoming = [(METADATA_SCHEMA, entry.table + INCOMING_SUFFIX) for entry in ledger]
        try:
            for (schema, table), parts in targets.items():
                self._write_next(schema, table, parts)
            if ledger:
                self.session.sql(f"CREATE DATABASE IF NOT EXISTS `{METADATA_SCHEMA}`")
            for entry in ledger:
                self._write_incoming(entry)
        except BaseException:
            written = [(schema, table + NEXT_SUFFIX) for schema, table in targets] + incoming
            for schema, table in written:
                self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table)}")
            raise
        for schema, table in targets:
            self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table)}")
            self.session.sql(
                f"ALTER TABLE {_name(schema, table + NEXT_SUFFIX)} RENAME TO {_name(schema, table)}"
            )
        for entry in ledger:
            self._append_incoming(entry.table)

    def _write_next(self, schema: str, table: str, parts: list[Publication]) -> None:
        """The target's next content beside it: the staged rows, plus, for a table shared by
        pipelines, the published rows of the pipelines this build does not replace, and for an
        append (bronze), every published row. Without a transaction, an append is a copy: the
        published table stays as it was until the swap."""
        staged = [self.session.table(_name(STAGING_SCHEMA, part.staged)) for part in parts]
        rows = reduce(DataFrame.unionByName, staged)
        partitions = [part.partition for part in parts if part.partition is not None]
        published_exists = self.session.catalog.tableExists(f"{schema}.{table}")
        if any(part.append for part in parts) and published_exists:
            published = self.session.table(_name(schema, table))
            refuse_changed_append(f"{schema}.{table}", published.columns == rows.columns)
            rows = published.unionByName(rows)
        elif partitions and published_exists:
            column = partitions[0][0]
            replaced = [value for _, value in partitions]
            published = self.session.table(_name(schema, table))
            kept = published.filter(~published[column].isin(replaced))
            rows = kept.unionByName(rows)
        self.session.sql(f"DROP TABLE IF EXISTS {_name(schema, table + NEXT_SUFFIX)}")
        rows.write.saveAsTable(_name(schema, table + NEXT_SUFFIX), format="parquet")

    def _write_incoming(self, entry: LedgerRows) -> None:
        """The run's rows of a ledger table, beside it, ready to append."""
        incoming = _name(METADATA_SCHEMA, entry.table + INCOMING_SUFFIX)
        self.session.sql(f"DROP TABLE IF EXISTS {incoming}")
        self.session.createDataFrame(entry.rows).write.saveAsTable(incoming, format="parquet")

    def _append_incoming(self, table: str) -> None:
        """Append a ledger table's incoming rows; a column either side lacks is added to the
        table, or NULL in the rows. Appending, unlike a swap, never drops the table's history:
        a crash here loses at most this run's records."""
        target = _name(METADATA_SCHEMA, table)
        incoming = _name(METADATA_SCHEMA, table + INCOMING_SUFFIX)
        if not self.session.catalog.tableExists(f"{METADATA_SCHEMA}.{table}"):
            self.session.sql(f"ALTER TABLE {incoming} RENAME TO {target}")
            return
        rows = self.session.table(incoming)
        present = set(self.session.table(target).columns)
        added = [field for field in rows.schema.fields if field.name not in present]
        if added:
            columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in added)
            self.session.sql(f"ALTER TABLE {target} ADD COLUMNS ({columns})")
            self.session.catalog.refreshTable(f"{METADATA_SCHEMA}.{table}")
        aligned = [
            (functions.col(f"`{f.name}`") if f.name in rows.columns else functions.lit(None))
            .cast(f.dataType)
            .alias(f.name)
            for f in self.session.table(target).schema.fields
        ]
        rows.select(*aligned).write.insertInto(target)
        self.session.sql(f"DROP TABLE IF EXISTS {incoming}")

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
        try:
            tracker = self._context.statusTracker()
        except AttributeError:  # another warehouse of this process stopped the shared context
            return False
        stages = [tracker.getStageInfo(stage) for stage in tracker.getActiveStageIds()]
        active = [stage for stage in stages if stage is not None]
        return bool(active) and all(stage.numActiveTasks == 0 for stage in active)
