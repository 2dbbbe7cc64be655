"""How close does a medallion-ibis build stay to the engine itself?

Generates retail sources with ``--sales`` rows, then measures, each in a fresh subprocess so
that peak memory is the step's own:

- ``raw_sql``: hand-written DuckDB SQL doing the core work (read the CSV as text, type and
  clean the sales, aggregate the daily summary) with no lineage, quarantine or contracts;
- ``build_duckdb``: ``medallion-ibis build --pipeline retail`` on DuckDB (all three gold
  tables, quarantine, contracts, atomic publish);
- ``copy_postgres``: PostgreSQL ``COPY`` of the sales rows (already normalised CSV), the
  floor for any loader;
- ``load_postgres``: our bronze load of the same file into PostgreSQL (DuckDB parse, lineage,
  COPY);
- ``build_postgres``: the full retail build on PostgreSQL.

It prints seconds and peak RSS per step and the ratios that matter: build/raw SQL on DuckDB
and load/COPY on PostgreSQL. Ratios, not absolute times, are comparable across machines.

Example:

    python benchmarks/build_vs_raw_sql.py --sales 1000000
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg

from medallion_ibis.backends.postgres import PostgresWarehouse
from medallion_ibis.config import DEFAULT_PG_URL, Settings
from medallion_ibis.examples.retail.sources import SALES
from medallion_ibis.generate import write_retail_seeds
from medallion_ibis.model import Lineage
from medallion_ibis.runner import build

RAW_SQL = """
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


def raw_sql(seeds: Path, scratch: Path, pg_url: str) -> None:
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in SALES.columns) + "}"
    with duckdb.connect(str(scratch / "raw.duckdb")) as con:
        con.execute(RAW_SQL.format(path=seeds / SALES.path, columns=columns))


def build_duckdb(seeds: Path, scratch: Path, pg_url: str) -> None:
    build(Settings(pipelines=("retail",), seeds=seeds, duckdb_path=scratch / "ours.duckdb"))


def normalised_sales_csv(seeds: Path, scratch: Path) -> Path:
    """The sales file re-quoted by DuckDB, so PostgreSQL's parser can read it."""
    target = scratch / "sales_normalised.csv"
    if not target.exists():
        columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in SALES.columns) + "}"
        duckdb.execute(
            f"""COPY (SELECT * FROM read_csv('{seeds / SALES.path}', all_varchar = true,
                header = true, quote = '"', escape = '"', auto_detect = false,
                columns = {columns})) TO '{target}' (HEADER false)"""
        )
    return target


def copy_postgres(seeds: Path, scratch: Path, pg_url: str) -> None:
    path = normalised_sales_csv(seeds, scratch)
    table = f"bench_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} text' for c in SALES.columns)})")
        try:
            statement = f"COPY {table} FROM STDIN (FORMAT csv)"
            with con.cursor().copy(statement) as copy, path.open("rb") as rows:
                while chunk := rows.read(1 << 20):
                    copy.write(chunk)
        finally:
            con.execute(f"DROP TABLE {table}")


def load_postgres(seeds: Path, scratch: Path, pg_url: str) -> None:
    warehouse = PostgresWarehouse(pg_url)
    try:
        warehouse.prepare()
        lineage = Lineage("benchmark", time_now(), SALES.path, batch_id=1)
        warehouse.stage_empty("bench_sales", SALES)
        warehouse.load_source("bench_sales", seeds / SALES.path, SALES, lineage)
        warehouse.discard_staging()
    finally:
        warehouse.close()


def build_postgres(seeds: Path, scratch: Path, pg_url: str) -> None:
    build(Settings(backend="postgres", pipelines=("retail",), seeds=seeds, pg_url=pg_url))


def time_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


STEPS: dict[str, Callable[[Path, Path, str], None]] = {
    "raw_sql": raw_sql,
    "build_duckdb": build_duckdb,
    "copy_postgres": copy_postgres,
    "load_postgres": load_postgres,
    "build_postgres": build_postgres,
}


def run_step(name: str, seeds: Path, scratch: Path, pg_url: str) -> None:
    """Child process: run one step and print its seconds and peak RSS as JSON."""
    clock = time.perf_counter()
    STEPS[name](seeds, scratch, pg_url)
    seconds = time.perf_counter() - clock
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step": name, "seconds": seconds, "peak_mb": peak_mb}))


def measure(name: str, seeds: Path, scratch: Path, pg_url: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--step", name, "--seeds", str(seeds)]
    command += ["--scratch", str(scratch), "--pg-url", pg_url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--seeds", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        run_step(args.step, args.seeds, args.scratch, args.pg_url)
        return
    with tempfile.TemporaryDirectory(prefix="medallion-bench-") as folder:
        seeds, scratch = Path(folder) / "seeds", Path(folder) / "scratch"
        scratch.mkdir()
        write_retail_seeds(seeds / "retail", sales=args.sales, seed=args.seed)
        results = {name: measure(name, seeds, scratch, args.pg_url) for name in STEPS}
    print(f"retail, {args.sales:,} sales rows")
    for name, result in results.items():
        print(f"  {name:<15} {result['seconds']:7.2f} s  peak {result['peak_mb']:7.0f} MB")
    ratio = results["build_duckdb"]["seconds"] / results["raw_sql"]["seconds"]
    print(f"  build_duckdb / raw_sql      : {ratio:5.2f}x time")
    ratio = results["load_postgres"]["seconds"] / results["copy_postgres"]["seconds"]
    print(f"  load_postgres / copy_postgres: {ratio:5.2f}x time")
    ratio = results["build_postgres"]["seconds"] / results["build_duckdb"]["seconds"]
    print(f"  build_postgres / build_duckdb: {ratio:5.2f}x time")


if __name__ == "__main__":
    main()
