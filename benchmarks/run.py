"""``nox -s benchmark``: the build against hand-written SQL, side by side, on the same files.

Every measured step runs in its own Python process, so its peak RSS (``peak_rss_mb``: of that
process) is its own; each step runs ``--repeat`` times and the table shows the median time
and the largest peak. Steps, per retail size (``--sizes``, default 1M and 10M sales):

- ``baseline_duckdb``: the hand-written DuckDB SQL of ``retail_duckdb.sql`` (same rules and
  tables as the build); ``build_duckdb``: ``medallion-ibis build`` on DuckDB;
- ``core_sql_duckdb``: the reference project's core work only (type, clean, one daily
  aggregate; no lineage, quarantine or other tables), an extra line for scale;
- up to ``--pg-max-size``: ``baseline_postgres`` and ``build_postgres``, and the bronze load
  of the sales file (``load_postgres``) against a plain ``COPY`` of it (``copy_postgres``);
  these two time only the moving of the rows (see ``Stopwatch``); ``copy_bronze_postgres``
  is the server's share of that load alone (the same ``COPY`` of the same bronze rows, from a
  file DuckDB wrote beforehand), and ``bare_load_postgres`` the load without line numbers
  and row hash, to show what those two guarantees cost.

After the runs of a size, the oracle compares the baseline's gold tables and quarantine with
the build's (EXCEPT ALL both ways) and the benchmark fails on any difference. Then crm_erp at
1× and 10× the reference data's 60,398 order lines (growth should be linear), and the CLI's
start-up (``medallion-ibis --help``, median of 10). Results go to ``benchmarks/results.json``.

Example:

    nox -s benchmark -- --sizes 1M --repeat 3
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medallion_ibis.config import Settings
    from medallion_ibis.model import Lineage

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

RESULTS_FILE = HERE / "results.json"
CRM_ERP_REFERENCE_SALES = 60_398
"""Order lines in the reference CRM/ERP data set's sales_details.csv."""
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/medallion_bench"
HELP_RUNS = 10
SALES_COLUMNS = (
    "transaction_id",
    "customer_id",
    "product_id",
    "product_name",
    "category",
    "quantity",
    "unit_price",
    "transaction_date",
    "sales_rep_id",
    "store_location",
)
CORE_SQL = """
CREATE TABLE bronze_sales AS
    SELECT * FROM read_csv('{path}', all_varchar = true, header = true, quote = '"',
                           escape = '"', strict_mode = true, auto_detect = false,
                           columns = {columns});
CREATE TABLE silver_sales AS
    SELECT TRY_CAST(transaction_id AS BIGINT) AS transaction_id,
           TRY_CAST(customer_id AS BIGINT) AS customer_id,
           upper(trim(category)) AS category_clean,
           upper(trim(store_location)) AS store_location_clean,
           CASE WHEN TRY_CAST(quantity AS BIGINT) > 0 THEN TRY_CAST(quantity AS BIGINT) END
               AS quantity_valid,
           CASE WHEN TRY_CAST(unit_price AS DECIMAL(18, 2)) >= 0
                THEN TRY_CAST(unit_price AS DECIMAL(18, 2)) END AS unit_price_valid,
           quantity_valid * unit_price_valid AS total_amount,
           TRY_CAST(transaction_date AS DATE) AS transaction_date_clean
    FROM bronze_sales
    WHERE transaction_id IS NOT NULL AND customer_id IS NOT NULL AND product_id IS NOT NULL;
CREATE TABLE gold_daily AS
    SELECT transaction_date_clean, store_location_clean, category_clean,
           count(DISTINCT transaction_id) AS transactions,
           count(DISTINCT customer_id) AS customers,
           round(sum(total_amount), 2) AS revenue,
           sum(quantity_valid) AS quantity
    FROM silver_sales
    WHERE total_amount IS NOT NULL AND transaction_date_clean IS NOT NULL
    GROUP BY ALL;
"""


# ------------------------------------------------------------------------------ child steps
# Each runs in a fresh process; imports stay inside so the parent stays light.


@dataclass
class Stopwatch:
    """The seconds a step counts: the whole step, unless it marks the part that counts.

    The bronze load and the ``COPY`` it is compared with mark only the moving of the rows: a
    build connects, opens its DuckDB reader and creates its staged tables once for all its
    files, and the ``COPY`` line's connection and ``CREATE TABLE`` are left out alike. Those
    marked parts also count the CPU seconds spent meanwhile by this process (all its threads)
    and by the PostgreSQL server's processes: on a machine with few cores the sum of the two,
    over the cores, is a floor under the wall-clock time.
    """

    seconds: float | None = None
    client_cpu: float | None = None
    server_cpu: float | None = None

    @contextmanager
    def timed(self) -> Iterator[None]:
        clock = time.perf_counter()
        client, server = own_cpu_seconds(), postgres_cpu_seconds()
        yield
        self.seconds = time.perf_counter() - clock
        self.client_cpu = own_cpu_seconds() - client
        self.server_cpu = postgres_cpu_seconds() - server


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu_seconds() -> float:
    """User and system CPU seconds of every process on this machine named ``postgres``: the
    backend serving the ``COPY`` and the WAL writer, checkpointer and others it keeps busy.
    (Only meaningful when the server runs here, as it does for the benchmark.)"""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, _, rest = text.partition(") ")
        if name.endswith("(postgres"):
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class StepArgs:
    seeds: Path
    scratch: Path
    pg_url: str
    memory_limit: str | None = None
    """Passed to the build's ``memory-limit`` setting and to the DuckDB baseline (``2GB``)."""
    stopwatch: Stopwatch = field(default_factory=Stopwatch)


def _settings(args: StepArgs, **fields: Any) -> "Settings":
    """The build's settings, with ``--memory-limit`` passed through when one was given."""
    from medallion_ibis.config import Settings, parse_memory

    if args.memory_limit is not None:
        fields["memory_limit"] = parse_memory(args.memory_limit)
    return Settings(target_dir=args.scratch / "target", **fields)


def _fresh(path: Path) -> Path:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    return path


def core_sql_duckdb(args: StepArgs) -> None:
    import duckdb

    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in SALES_COLUMNS) + "}"
    path = args.seeds / "retail" / "raw_sales.csv"
    with duckdb.connect(str(_fresh(args.scratch / "core.duckdb"))) as con:
        con.execute(CORE_SQL.format(path=path, columns=columns))


def baseline_duckdb(args: StepArgs) -> None:
    import baseline

    database = _fresh(args.scratch / "baseline.duckdb")
    baseline.run_duckdb(args.seeds, database, baseline.RunValues.now(), args.memory_limit)


def build_duckdb(args: StepArgs) -> None:
    from medallion_ibis.runner import build

    database = _fresh(args.scratch / "build.duckdb")
    build(_settings(args, pipelines=("retail",), seeds=args.seeds, duckdb_path=database))


def build_crm_erp(args: StepArgs) -> None:
    from medallion_ibis.runner import build

    database = _fresh(args.scratch / "crm_erp.duckdb")
    build(_settings(args, pipelines=("crm_erp",), seeds=args.seeds, duckdb_path=database))


def _normalised_sales_csv(args: StepArgs) -> Path:
    """The sales file re-quoted by DuckDB: PostgreSQL's parser refuses the original (a bare
    quote inside an unquoted value)."""
    import duckdb

    target = args.scratch / "sales_normalised.csv"
    if not target.exists():
        columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in SALES_COLUMNS) + "}"
        path = args.seeds / "retail" / "raw_sales.csv"
        duckdb.execute(
            f"""COPY (SELECT * FROM read_csv('{path}', all_varchar = true, header = true,
                quote = '"', escape = '"', auto_detect = false, columns = {columns}))
                TO '{target}' (HEADER false)"""
        )
    return target


def _bronze_rows_csv(args: StepArgs) -> tuple[Path, tuple[str, ...], dict[str, object]]:
    """The rows the bronze load sends for the sales file (values, line number, row hash),
    written once beforehand by the load's own export, with the columns they fill and the
    lineage values the batch shares."""
    import ibis

    from medallion_ibis.backends.postgres import bronze_rows
    from medallion_ibis.backends.postgres_copy import csv_stream
    from medallion_ibis.examples.retail.sources import SALES

    reader = ibis.duckdb.connect()
    per_row, per_batch = bronze_rows(reader, args.seeds / SALES.path, SALES, _lineage())
    target = args.scratch / "bronze_rows.csv"
    if not target.exists():
        query = str(reader.compile(per_row))
        with csv_stream(reader.con, query) as rows, target.open("wb") as file:
            shutil.copyfileobj(rows, file)
    return target, per_row.columns, per_batch


def prepare_copy_postgres(args: StepArgs) -> None:
    _normalised_sales_csv(args)
    _bronze_rows_csv(args)


def copy_postgres(args: StepArgs) -> None:
    """Plain COPY of the (already normalised) sales rows from the client: the floor."""
    import psycopg

    path = _normalised_sales_csv(args)
    table = f"bench_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg_url, autocommit=True) as con:
        con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} text' for c in SALES_COLUMNS)})")
        try:
            statement = f"COPY {table} FROM STDIN (FORMAT csv)"
            with (
                args.stopwatch.timed(),
                con.cursor().copy(statement) as copy,
                path.open("rb") as rows,
            ):
                while chunk := rows.read(1 << 20):
                    copy.write(chunk)
        finally:
            con.execute(f"DROP TABLE {table}")


def load_postgres(args: StepArgs) -> None:
    """Our bronze load of the sales file (DuckDB parse, line numbers, row hash, COPY)."""
    from medallion_ibis.backends.postgres import PostgresWarehouse
    from medallion_ibis.examples.retail.sources import SALES

    warehouse = PostgresWarehouse(args.pg_url)
    try:
        warehouse.prepare()
        warehouse.stage_empty("bench_sales", SALES)
        with args.stopwatch.timed():
            warehouse.load_source("bench_sales", args.seeds / SALES.path, SALES, _lineage())
        warehouse.discard_staging()
    finally:
        warehouse.close()


def copy_bronze_postgres(args: StepArgs) -> None:
    """The server's share of the bronze load alone: the same ``COPY`` of the same rows into
    the same staged table, lineage defaults included, read from the file DuckDB wrote
    beforehand instead of from DuckDB parsing, numbering and hashing as it goes."""
    import psycopg
    from psycopg import sql

    from medallion_ibis.backends.base import STAGING_SCHEMA
    from medallion_ibis.backends.postgres import PostgresWarehouse
    from medallion_ibis.backends.postgres_copy import copy_csv
    from medallion_ibis.examples.retail.sources import SALES

    path, per_row, per_batch = _bronze_rows_csv(args)
    warehouse = PostgresWarehouse(args.pg_url)
    try:
        warehouse.prepare()
        warehouse.stage_empty("bench_bronze_rows", SALES)
        target = sql.Identifier(STAGING_SCHEMA, "bench_bronze_rows")
        with (
            psycopg.connect(args.pg_url) as con,
            con.cursor() as cursor,
            path.open("rb") as rows,
            args.stopwatch.timed(),
        ):
            copy_csv(cursor, target, rows, per_row, per_batch)
            con.commit()
        warehouse.discard_staging()
    finally:
        warehouse.close()


def bare_load_postgres(args: StepArgs) -> None:
    """The bronze load without its two costliest guarantees: the same DuckDB reader, pipe,
    COPY, staged table and batch lineage, but no line numbers and no row hash (left NULL)."""
    import ibis
    import psycopg
    from psycopg import sql

    from medallion_ibis.backends.base import STAGING_SCHEMA
    from medallion_ibis.backends.postgres import PostgresWarehouse, reader_threads
    from medallion_ibis.backends.postgres_copy import copy_bronze
    from medallion_ibis.examples.retail.sources import SALES
    from medallion_ibis.ingest import parsed_csv, per_batch_lineage

    reader = ibis.duckdb.connect(threads=reader_threads())
    warehouse = PostgresWarehouse(args.pg_url)
    try:
        warehouse.prepare()
        warehouse.stage_empty("bench_bare", SALES)
        target = sql.Identifier(STAGING_SCHEMA, "bench_bare")
        per_batch = per_batch_lineage(SALES, _lineage())
        with psycopg.connect(args.pg_url) as con, con.cursor() as cursor, args.stopwatch.timed():
            query = str(reader.compile(parsed_csv(reader, args.seeds / SALES.path, SALES, "s")))
            copy_bronze(cursor, target, reader.con, query, SALES.columns, per_batch)
            con.commit()
        warehouse.discard_staging()
    finally:
        warehouse.close()


def _lineage() -> "Lineage":
    from medallion_ibis.examples.retail.sources import SALES
    from medallion_ibis.model import Lineage

    now = datetime.now(UTC).replace(tzinfo=None)
    return Lineage(run_id="benchmark", loaded_at=now, source_file=SALES.path, batch_id=1)


def baseline_postgres(args: StepArgs) -> None:
    import baseline

    baseline.run_postgres(args.seeds, args.scratch, args.pg_url, baseline.RunValues.now())


def build_postgres(args: StepArgs) -> None:
    from medallion_ibis.runner import build

    build(
        _settings(
            args, backend="postgres", pipelines=("retail",), seeds=args.seeds, pg_url=args.pg_url
        )
    )


STEPS: dict[str, Callable[[StepArgs], None]] = {
    step.__name__: step
    for step in (
        core_sql_duckdb,
        baseline_duckdb,
        build_duckdb,
        build_crm_erp,
        copy_postgres,
        load_postgres,
        copy_bronze_postgres,
        bare_load_postgres,
        baseline_postgres,
        build_postgres,
    )
}


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started the step's program: Linux's
    ``VmHWM``. ``ru_maxrss`` would do only where /proc is missing: Linux carries the
    parent's peak at the fork across ``exec``, so a small step showed the size of the
    benchmark's own process (315 MB for a ``COPY`` that needs 70)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(name: str, args: StepArgs) -> None:
    """In the child: run one step, print its seconds and peak RSS as the last line (JSON)."""
    clock = time.perf_counter()
    STEPS[name](args)
    whole = time.perf_counter() - clock
    stopwatch = args.stopwatch
    seconds = whole if stopwatch.seconds is None else stopwatch.seconds
    cpu = {"client_cpu": stopwatch.client_cpu, "server_cpu": stopwatch.server_cpu}
    print(json.dumps({"seconds": seconds, "peak_mb": peak_rss_mb(), **cpu}))


# ----------------------------------------------------------------------------------- parent


@dataclass
class Measured:
    """One line of the table: a step on one data set, its runs, and what it is compared to."""

    case: str
    step: str
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    """CPU seconds of the marked part, for the steps that mark one (see ``Stopwatch``)."""
    compared_to: "Measured | None" = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def ratio(self) -> float | None:
        """Median time over the reference's median time."""
        if self.compared_to is None or not self.seconds or not self.compared_to.seconds:
            return None
        return self.median / self.compared_to.median

    @property
    def ratio_to(self) -> str:
        reference = self.compared_to
        if reference is None:
            return ""
        return reference.step if reference.case == self.case else reference.case

    def as_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "step": self.step,
            "median_seconds": self.median if self.seconds else None,
            "peak_mb_max": max(self.peak_mb, default=None),
            "runs_seconds": self.seconds,
            "runs_peak_mb": self.peak_mb,
            "runs_client_cpu_seconds": self.client_cpu,
            "runs_server_cpu_seconds": self.server_cpu,
            "ratio": self.ratio,
            "ratio_to": self.ratio_to,
        }


def run_once(line: Measured, args: StepArgs) -> None:
    """One run of a step in a fresh process; a failure stops the benchmark."""
    command = [sys.executable, __file__, "--child", line.step, "--seeds", str(args.seeds)]
    command += ["--scratch", str(args.scratch), "--pg-url", args.pg_url]
    if args.memory_limit is not None:
        command += ["--memory-limit", args.memory_limit]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{line.case} {line.step} failed:\n{done.stderr[-4000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    line.seconds.append(report["seconds"])
    line.peak_mb.append(report["peak_mb"])
    if report["client_cpu"] is not None:
        line.client_cpu.append(report["client_cpu"])
        line.server_cpu.append(report["server_cpu"])
    print(
        f"  {line.case:<18} {line.step:<18} {report['seconds']:8.2f} s {report['peak_mb']:7.0f} MB"
    )


@dataclass
class Group:
    """Steps on one data set, and the oracle that compares the baseline with the build."""

    args: StepArgs
    lines: list[Measured]
    oracle: Callable[[], list[str]] | None = None


SAME = "same rows"


def verdict(differences: list[str]) -> str:
    """What the oracle found, printed at once so a difference is seen even mid-run."""
    if not differences:
        return SAME
    text = "DIFFERENT: " + "; ".join(differences)
    print(text, file=sys.stderr)
    return text


@dataclass
class Report:
    """Everything results.json holds, saved after every run so a long benchmark stopped
    early keeps what it measured."""

    path: Path
    started: datetime
    facts: dict[str, Any]
    repeat: int
    memory_limit: str | None
    lines: list[Measured] = field(default_factory=list)
    oracle: dict[str, str] = field(default_factory=dict)
    help_runs: list[float] = field(default_factory=list)

    def save(self) -> None:
        document = {
            "date": self.started.isoformat(timespec="seconds"),
            "machine": self.facts,
            "repeat": self.repeat,
            "memory_limit": self.memory_limit,
            "oracle": self.oracle,
            "cli_help_seconds": {
                "median": statistics.median(self.help_runs) if self.help_runs else None,
                "runs": self.help_runs,
            },
            "results": [line.as_json() for line in self.lines],
        }
        self.path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def retail_group(size: int, options: argparse.Namespace, data: Path, scratch: Path) -> Group:
    import baseline

    case = f"retail {label(size)}"
    seeds = generate("retail", data / f"retail-{size}", size, options.seed)
    args = StepArgs(seeds, scratch / f"retail-{size}", options.pg_url, options.memory_limit)
    args.scratch.mkdir(exist_ok=True)
    base = Measured(f"{case} duckdb", "baseline_duckdb")
    lines = [
        base,
        Measured(base.case, "build_duckdb", compared_to=base),
        Measured(base.case, "core_sql_duckdb", compared_to=base),
    ]
    return Group(
        args,
        lines,
        lambda: baseline.duckdb_differences(
            args.scratch / "baseline.duckdb", args.scratch / "build.duckdb"
        ),
    )


def postgres_group(size: int, options: argparse.Namespace, data: Path, scratch: Path) -> Group:
    import baseline

    case = f"retail {label(size)} postgres"
    seeds = generate("retail", data / f"retail-{size}", size, options.seed)
    args = StepArgs(seeds, scratch / f"retail-{size}-pg", options.pg_url, options.memory_limit)
    args.scratch.mkdir(exist_ok=True)
    prepare_copy_postgres(args)
    base = Measured(case, "baseline_postgres")
    copied = Measured(case, "copy_postgres")
    lines = [
        base,
        Measured(case, "build_postgres", compared_to=base),
        copied,
        Measured(case, "load_postgres", compared_to=copied),
        Measured(case, "copy_bronze_postgres", compared_to=copied),
        Measured(case, "bare_load_postgres", compared_to=copied),
    ]
    return Group(args, lines, lambda: baseline.postgres_differences(options.pg_url))


def crm_erp_groups(options: argparse.Namespace, data: Path, scratch: Path) -> list[Group]:
    groups: list[Group] = []
    first: Measured | None = None
    for scale in [int(text) for text in options.crm_erp_scales.split(",") if text]:
        sales = CRM_ERP_REFERENCE_SALES * scale
        seeds = generate("crm_erp", data / f"crm_erp-{scale}x", sales, options.seed)
        args = StepArgs(seeds, scratch / f"crm_erp-{scale}x", options.pg_url, options.memory_limit)
        args.scratch.mkdir(exist_ok=True)
        line = Measured(f"crm_erp {scale}x", "build_crm_erp", compared_to=first)
        first = first or line
        groups.append(Group(args, [line]))
    return groups


def run_matrix(options: argparse.Namespace, data: Path, scratch: Path, report: Report) -> None:
    """Round after round over every step, so that a benchmark stopped early has measured
    each step at least once; the oracle runs after the first round."""
    pg_max = parse_size(options.pg_max_size)
    sizes = [parse_size(text) for text in options.sizes.split(",") if text]
    groups = [retail_group(size, options, data, scratch) for size in sizes]
    if any(size <= pg_max for size in sizes):
        prepare_postgres(options.pg_url)
        groups += [postgres_group(s, options, data, scratch) for s in sizes if s <= pg_max]
    groups += crm_erp_groups(options, data, scratch)
    report.lines = [line for group in groups for line in group.lines]
    for round_number in range(options.repeat):
        for group in groups:
            for line in group.lines:
                run_once(line, group.args)
                report.save()
            if round_number == 0 and group.oracle is not None:
                report.oracle[group.lines[0].case] = verdict(group.oracle())
                report.save()


def help_seconds(runs: int = HELP_RUNS) -> list[float]:
    """Wall-clock seconds of ``medallion-ibis --help``, each a new interpreter."""
    script = shutil.which("medallion-ibis")
    command = (
        [script, "--help"]
        if script
        else [sys.executable, "-c", "from medallion_ibis.cli import main; main()", "--help"]
    )
    seconds = []
    for _ in range(runs):
        clock = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - clock)
    return seconds


def parse_size(text: str) -> int:
    """1M, 10M, 250k or a plain number of sales rows."""
    units = {"k": 1_000, "m": 1_000_000}
    suffix = text[-1].lower()
    return int(float(text[:-1]) * units[suffix]) if suffix in units else int(text)


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size:,}"


def generate(pipeline: str, folder: Path, sales: int, seed: int) -> Path:
    """Generated sources under ``folder`` (kept between runs of the benchmark)."""
    from medallion_ibis.generate import write_crm_erp_seeds, write_retail_seeds

    writer = write_retail_seeds if pipeline == "retail" else write_crm_erp_seeds
    marker = folder / f".{pipeline}-{sales}-{seed}"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        writer(folder / pipeline, sales=sales, seed=seed)
        marker.touch()
    return folder


def prepare_postgres(pg_url: str) -> None:
    """Start from an empty database: drop and create the one ``--pg-url`` names (the
    benchmark's own, ``medallion_bench`` by default). Tables left by an earlier run, perhaps of
    another version, would make the build measure something else, or refuse to append."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parts = conninfo_to_dict(pg_url)
    name = str(parts.get("dbname", "postgres"))
    server = make_conninfo(pg_url, dbname="postgres")
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model and the versions that matter, for results.json."""
    from importlib.metadata import version

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    commit = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    branch = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--abbrev-ref", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "cpu": cpu,
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "versions": {
            name: version(name) for name in ("duckdb", "ibis-framework", "psycopg", "pandera")
        },
        "git": f"{branch}@{commit}",
    }


def cpu_cell(client: list[float], server: list[float], digits: int) -> str:
    """Median CPU seconds of this process and of the server's, for the steps that count them
    (see ``Stopwatch``); empty for the others."""
    if not client or not server:
        return ""
    return f"{statistics.median(client):.{digits}f} + {statistics.median(server):.{digits}f}"


def print_table(lines: list[Measured], help_runs: list[float]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="medallion-ibis benchmark (median of runs; peak RSS = largest)")
    for heading in ("case", "step", "seconds", "CPU s (client + server)", "peak RSS", "ratio"):
        table.add_column(heading, justify="left" if heading in ("case", "step") else "right")
    for line in lines:
        ratio = f"{line.ratio:.2f}× {line.ratio_to}" if line.ratio is not None else ""
        peak = f"{max(line.peak_mb):,.0f} MB"
        cpu = cpu_cell(line.client_cpu, line.server_cpu, digits=2)
        table.add_row(line.case, line.step, f"{line.median:.2f}", cpu, peak, ratio)
    table.add_row("cli", "--help", f"{statistics.median(help_runs):.3f}", "", "", "")
    Console(width=max(Console().width, 110)).print(table)


def markdown(results: Path) -> str:
    """The README's table, from a results.json."""
    document = json.loads(results.read_text())
    rows = [
        "| data | step | seconds | CPU s (client + server) | peak RSS | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for line in document["results"]:
        if line["median_seconds"] is None:
            continue
        ratio = f"{line['ratio']:.2f}× {line['ratio_to']}" if line["ratio"] is not None else ""
        client, server = line.get("runs_client_cpu_seconds"), line.get("runs_server_cpu_seconds")
        cpu = cpu_cell(client or [], server or [], digits=1)
        runs = len(line["runs_seconds"])
        rows.append(
            f"| {line['case']} | `{line['step']}` | {line['median_seconds']:.1f} "
            f"(n={runs}) | {cpu} | {line['peak_mb_max']:,.0f} MB | {ratio} |"
        )
    help_seconds = document["cli_help_seconds"]["median"]
    rows.append(f"| CLI | `medallion-ibis --help` | {help_seconds:.2f} (n=10) | | | |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,10M", help="retail sales rows, e.g. 1M,10M")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (median shown)")
    parser.add_argument("--pg-max-size", default="1M", help="PostgreSQL steps up to this size")
    parser.add_argument("--crm-erp-scales", default="1,10", help="multiples of the reference")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--data-dir", type=Path, help="keep generated data here between runs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    parser.add_argument(
        "--memory-limit",
        help="the build's memory-limit setting (and the DuckDB baseline's), e.g. 2GB; "
        "needs a medallion-ibis that has the setting",
    )
    parser.add_argument("--markdown", type=Path, help="print RESULTS.json as the README table")
    parser.add_argument("--child", choices=list(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--seeds", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.markdown:
        print(markdown(options.markdown))
        return
    if options.child:
        args = StepArgs(options.seeds, options.scratch, options.pg_url, options.memory_limit)
        run_child(options.child, args)
        return
    facts = machine()
    report = Report(options.output, datetime.now(UTC), facts, options.repeat, options.memory_limit)
    report.help_runs = help_seconds()
    report.save()
    with tempfile.TemporaryDirectory(prefix="medallion-bench-") as temporary:
        Path(temporary).chmod(0o755)  # the PostgreSQL server reads the baseline's bronze CSVs
        run_matrix(options, options.data_dir or Path(temporary), Path(temporary), report)
    print_table(report.lines, report.help_runs)
    print(f"Wrote {options.output}")
    failed = [case for case, found in report.oracle.items() if found != SAME]
    if failed:
        raise SystemExit(
            "The baseline and the build hold different rows (see above): " + ", ".join(failed)
        )


if __name__ == "__main__":
    main()
