"""Bronze keeps history: files matched by glob or folder are loaded once each, as batches
named by their SHA-256; reruns load nothing; a corrected file is a new batch that wins in
silver; only --full-refresh drops rows; non-UTF-8 sources land as UTF-8 text.

One scenario of four builds runs per engine (DuckDB, PostgreSQL) and every test reads what
it recorded after each build.
"""

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pytest
from helpers import connect, fresh_database, rows
from ibis import _

from medallion_ibis import (
    DATE,
    INT,
    MONEY,
    QUARANTINE,
    STAMP,
    TEXT,
    KeyScreen,
    Pipeline,
    RunContext,
    Source,
    column,
    conform,
    parse_decimal,
    parse_int,
    parse_iso_date,
    table,
    with_lineage,
)
from medallion_ibis.config import Settings, resolve_settings
from medallion_ibis.errors import ConfigurationError, InputFileError, SourceShrank
from medallion_ibis.runner import BuildResult, Progress, build

ORDERS = Source(
    "bronze_orders",
    "shop/orders_*.csv",
    columns=("order_id", "customer", "amount", "ordered_on"),
    system="shop",
)
CUSTOMERS = Source(
    "bronze_customers", "shop/customers", columns=("name", "city"), system="crm", encoding="cp1252"
)
PIPELINE = Pipeline("history", sources=(ORDERS, CUSTOMERS))
KEYS = KeyScreen(ORDERS.table, required=("order_id",), integer=("order_id",), key=("order_id",))
SILVER = table(
    "silver_orders",
    {
        "order_id": column(INT),
        "customer": column(TEXT, nullable=True),
        "amount": column(MONEY, nullable=True),
        "ordered_on": column(DATE, nullable=True),
    },
    unique=["order_id"],
    lineage=True,
)
GOLD = table(
    "gold_revenue",
    {"orders": column(INT), "revenue": column(MONEY), "_gold_created_at": column(STAMP)},
)


@PIPELINE.model(layer="silver", inputs=(ORDERS.table,), contract=SILVER)
def silver_orders(bronze_orders: ir.Table) -> ir.Table:
    """One row per order id."""
    typed = with_lineage(
        KEYS.accepted(bronze_orders),
        order_id=parse_int(_.order_id),
        customer=_.customer,
        amount=parse_decimal(_.amount).cast(MONEY),
        ordered_on=parse_iso_date(_.ordered_on),
    )
    return conform(typed, SILVER)


@PIPELINE.model(layer="gold", inputs=("silver_orders",), contract=GOLD)
def gold_revenue(silver_orders: ir.Table, *, run: RunContext) -> ir.Table:
    """Orders and revenue in total."""
    totals = silver_orders.aggregate(orders=_.count(), revenue=_.amount.sum().cast(MONEY))
    return totals.mutate(_gold_created_at=run.stamp())


@PIPELINE.model(
    layer="silver", inputs=(ORDERS.table,), contract=QUARANTINE, partition_column="pipeline"
)
def quarantine(bronze_orders: ir.Table) -> ir.Table:
    """Orders kept out of silver."""
    return KEYS.rejected(bronze_orders, PIPELINE.name)


HEADER = "order_id,customer,amount,ordered_on\n"
DAY_ONE = HEADER + "1,ann,10.00,2024-06-01\n2,bob,20.00,2024-06-01\n3,cy,30.00,2024-06-01\n"
DAY_TWO = HEADER + "3,cy,33.00,2024-06-02\n4,dee,40.00,2024-06-02\n"
DAY_ONE_CORRECTED = HEADER + "1,ann,11.00,2024-06-01\n2,bob,20.00,2024-06-01\n"
CUSTOMER_TEXT = "name,city\nZoë Café,Köln\n€ Trader,Montréal\n"
DAY_ONE_FILE = "shop/orders_2024-06-01.csv"
DAY_TWO_FILE = "shop/orders_2024-06-02.csv"
CUSTOMER_FILE = "shop/customers/all.csv"


class Announcements(Progress):
    """Keeps what a build announces before doing it."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def announce(self, message: str) -> None:
        self.messages.append(message)


@dataclass
class Snapshot:
    """What one build did and what it left published."""

    result: BuildResult
    announced: list[str]
    batches: list[dict[str, Any]]
    bronze: list[tuple[Any, ...]]
    customers: list[tuple[Any, ...]]
    silver: list[tuple[Any, ...]]
    gold: list[tuple[Any, ...]]
    quarantine: list[dict[str, Any]]
    loaded: dict[str, int] = field(default_factory=dict)


Reader = Callable[[], AbstractContextManager[ibis.BaseBackend]]
"""Opens a connection to the warehouse the builds publish to, for reading it back."""


def run_build(settings: Settings, reader: Reader) -> Snapshot:
    progress = Announcements()
    result = build(settings, progress, {PIPELINE.name: PIPELINE})
    with reader() as con:
        log = con.table("batches", database="_medallion").order_by("batch_id")
        return Snapshot(
            result=result,
            announced=progress.messages,
            batches=log.to_pyarrow().to_pylist(),
            bronze=rows(con, "bronze", ORDERS.table, drop=("_loaded_at",)),
            customers=rows(con, "bronze", CUSTOMERS.table, drop=("_loaded_at",)),
            silver=rows(con, "silver", "silver_orders", drop=("_loaded_at",)),
            gold=rows(con, "gold", "gold_revenue", drop=("_gold_created_at",)),
            quarantine=con.table("quarantine", database="silver").to_pyarrow().to_pylist(),
            loaded={step.node: step.rows or 0 for step in result.steps if step.rows is not None},
        )


def run_history(settings: Settings, reader: Reader) -> list[Snapshot]:
    """Four builds into the warehouse of ``settings``: two days of orders and a cp1252
    customer file; the same files again; the first day's file corrected; a full refresh."""
    seeds = settings.seeds
    (seeds / "shop" / "customers").mkdir(parents=True)
    (seeds / DAY_ONE_FILE).write_text(DAY_ONE)
    (seeds / DAY_TWO_FILE).write_text(DAY_TWO)
    (seeds / CUSTOMER_FILE).write_bytes(CUSTOMER_TEXT.encode("cp1252"))
    snapshots = [run_build(settings, reader), run_build(settings, reader)]
    (seeds / DAY_ONE_FILE).write_text(DAY_ONE_CORRECTED)
    snapshots.append(run_build(settings, reader))
    snapshots.append(run_build(dataclasses.replace(settings, full_refresh=True), reader))
    return snapshots


def history_settings(root: Path, **changes: Any) -> Settings:
    return Settings(
        pipelines=(PIPELINE.name,),
        seeds=root / "seeds",
        as_of=date(2024, 6, 30),
        duckdb_path=root / "warehouse.duckdb",
        target_dir=root / "target",
        **changes,
    )


@contextmanager
def duckdb_reader(path: Path) -> Iterator[ibis.BaseBackend]:
    con = connect(duckdb_path=path)
    try:
        yield con
    finally:
        con.disconnect()


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Snapshot]]:
    """The scenario of ``run_history`` on each engine (Spark: tests/test_pyspark_history.py)."""
    root = tmp_path_factory.mktemp("history")
    if request.param == "duckdb":
        settings = history_settings(root)
        yield run_history(settings, lambda: duckdb_reader(settings.duckdb_path))
        return
    with fresh_database(request.getfixturevalue("pg_server_url")) as url:

        @contextmanager
        def postgres_reader() -> Iterator[ibis.BaseBackend]:
            con = connect(pg_url=url)
            try:
                yield con
            finally:
                con.disconnect()

        yield run_history(history_settings(root, backend="postgres", pg_url=url), postgres_reader)


@pytest.fixture
def corrected(history: list[Snapshot]) -> Snapshot:
    return history[2]


def test_a_glob_source_loads_every_matching_file_as_one_batch_each(
    history: list[Snapshot],
) -> None:
    first = history[0]
    assert [
        (b["batch_id"], b["source_table"], b["file_path"], b["rows"]) for b in first.batches
    ] == [
        (1, "bronze_orders", DAY_ONE_FILE, 3),
        (2, "bronze_orders", DAY_TWO_FILE, 2),
        (3, "bronze_customers", CUSTOMER_FILE, 2),
    ]
    assert sorted((row[-1], row[4]) for row in first.bronze) == [
        (1, DAY_ONE_FILE),
        (1, DAY_ONE_FILE),
        (1, DAY_ONE_FILE),
        (2, DAY_TWO_FILE),
        (2, DAY_TWO_FILE),
    ]
    assert first.loaded["bronze.bronze_orders"] == 5


def test_the_batch_log_records_each_file_it_loaded(history: list[Snapshot]) -> None:
    first = history[0]
    log = {b["file_path"]: b for b in first.batches}
    for name, text, encoding in [
        (DAY_ONE_FILE, DAY_ONE, "utf-8"),
        (DAY_TWO_FILE, DAY_TWO, "utf-8"),
        (CUSTOMER_FILE, CUSTOMER_TEXT, "cp1252"),
    ]:
        data = text.encode(encoding)
        entry = log[name]
        assert (entry["sha256"], entry["file_size"], entry["encoding"]) == (
            hashlib.sha256(data).hexdigest(),
            len(data),
            encoding,
        )
        assert (entry["pipeline"], entry["run_id"], entry["full_refresh"]) == (
            "history",
            first.result.run_id,
            True,
        )
        assert entry["loaded_at"] == first.result.started_at


def test_a_rerun_on_the_same_files_loads_nothing_and_publishes_the_same_tables(
    history: list[Snapshot],
) -> None:
    first, again = history[0], history[1]
    assert again.result.published
    assert again.batches == first.batches
    assert again.loaded["bronze.bronze_orders"] == again.loaded["bronze.bronze_customers"] == 0
    assert (again.bronze, again.customers, again.silver, again.gold) == (
        first.bronze,
        first.customers,
        first.silver,
        first.gold,
    )
    assert sorted(r["_row_number"] for r in again.quarantine) == sorted(
        r["_row_number"] for r in first.quarantine
    )


def test_within_the_first_load_the_later_file_wins(history: list[Snapshot]) -> None:
    silver = {row[0]: row for row in history[0].silver}
    assert (str(silver[3][2]), silver[3][-1]) == ("33.00", 2)  # orders_2024-06-02.csv
    (repeated,) = history[0].quarantine
    assert (repeated["_batch_id"], repeated["_row_number"], repeated["reason"]) == (
        1,
        4,
        f"order_id 3 is repeated; the record on line 2 of {DAY_TWO_FILE} (batch 2) is kept",
    )


def test_a_corrected_file_is_a_new_batch_and_its_records_win(corrected: Snapshot) -> None:
    assert [(b["batch_id"], b["file_path"], b["rows"]) for b in corrected.batches[3:]] == [
        (4, DAY_ONE_FILE, 2)
    ]
    assert corrected.batches[3]["full_refresh"] is False
    assert len(corrected.bronze) == 7  # nothing dropped: 3 + 2 + 2
    silver = {row[0]: (str(row[2]), row[-1], row[6]) for row in corrected.silver}
    # order 1 and 2 from the corrected file, 3 from the second day (the corrected file lacks
    # it, so batch 2 stays the latest with that key), 4 untouched.
    assert silver == {
        1: ("11.00", 4, 2),
        2: ("20.00", 4, 3),
        3: ("33.00", 2, 2),
        4: ("40.00", 2, 3),
    }
    reasons = {(r["_batch_id"], r["_row_number"]): r["reason"] for r in corrected.quarantine}
    assert reasons == {
        (1, 2): f"order_id 1 is repeated; the record on line 2 of {DAY_ONE_FILE} (batch 4) is kept",
        (1, 3): f"order_id 2 is repeated; the record on line 3 of {DAY_ONE_FILE} (batch 4) is kept",
        (1, 4): f"order_id 3 is repeated; the record on line 2 of {DAY_TWO_FILE} (batch 2) is kept",
    }
    assert all(r["_source_file"] == DAY_ONE_FILE for r in corrected.quarantine)


def test_a_full_refresh_says_what_it_drops_and_rebuilds_from_the_files_present(
    history: list[Snapshot],
) -> None:
    refreshed = history[3]
    assert refreshed.announced == [
        "full refresh: bronze.bronze_orders is rebuilt from the 2 file(s) present; its 7 rows "
        "of 3 earlier batch(es) are dropped",
        "full refresh: bronze.bronze_customers is rebuilt from the 1 file(s) present; its 2 "
        "rows of 1 earlier batch(es) are dropped",
    ]
    assert [(b["batch_id"], b["file_path"], b["full_refresh"]) for b in refreshed.batches[4:]] == [
        (5, DAY_ONE_FILE, True),
        (6, DAY_TWO_FILE, True),
        (7, CUSTOMER_FILE, True),
    ]
    assert len(refreshed.batches) == 7  # the log keeps the history of every load
    assert sorted(row[-1] for row in refreshed.bronze) == [5, 5, 6, 6]
    assert refreshed.gold == history[2].gold


def test_a_cp1252_file_lands_as_utf8_text(history: list[Snapshot]) -> None:
    assert sorted(row[:2] for row in history[0].customers) == [
        ("Zoë Café", "Köln"),
        ("€ Trader", "Montréal"),
    ]


# --- failures, each on a small DuckDB build of its own ----------------------------------------


def write_files(tmp_path: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = tmp_path / "seeds" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_no_matching_file_is_one_sentence_and_exit_code_2(tmp_path: Path) -> None:
    write_files(tmp_path, {CUSTOMER_FILE: CUSTOMER_TEXT.encode("cp1252")})
    with pytest.raises(InputFileError) as raised:
        build(history_settings(tmp_path), pipelines={PIPELINE.name: PIPELINE})
    assert raised.value.exit_code == 2
    assert str(raised.value) == (
        f"{tmp_path / 'seeds' / 'shop' / 'orders_*.csv'}: no file matches this pattern "
        "(source bronze_orders of shop)"
    )


def test_an_empty_folder_source_is_refused(tmp_path: Path) -> None:
    write_files(tmp_path, {DAY_ONE_FILE: DAY_ONE.encode()})
    (tmp_path / "seeds" / "shop" / "customers").mkdir()
    with pytest.raises(InputFileError, match=r"customers: no \*\.csv file in this folder"):
        build(history_settings(tmp_path), pipelines={PIPELINE.name: PIPELINE})


def test_every_matched_file_is_header_checked_before_anything_is_loaded(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            DAY_ONE_FILE: DAY_ONE.encode(),
            DAY_TWO_FILE: b"order_id,amount\n1,2\n",
            CUSTOMER_FILE: CUSTOMER_TEXT.encode("cp1252"),
        },
    )
    settings = history_settings(tmp_path)
    with pytest.raises(InputFileError, match=r"orders_2024-06-02\.csv:1: header does not match"):
        build(settings, pipelines={PIPELINE.name: PIPELINE})
    assert not settings.duckdb_path.exists()


def test_a_byte_not_valid_in_the_declared_encoding_names_file_and_line(tmp_path: Path) -> None:
    # 0x81 has no character in Windows-1252.
    write_files(
        tmp_path,
        {
            DAY_ONE_FILE: DAY_ONE.encode(),
            CUSTOMER_FILE: b"name,city\nAnn,Paris\nBob,Ber\x81lin\n",
        },
    )
    with pytest.raises(InputFileError) as raised:
        build(history_settings(tmp_path), pipelines={PIPELINE.name: PIPELINE})
    assert str(raised.value) == (
        f"{tmp_path / 'seeds' / CUSTOMER_FILE}:3: not valid cp1252 (byte 0x81 at column 8); "
        "is the source's encoding right?"
    )


def test_latin1_files_land_as_utf8_text(tmp_path: Path) -> None:
    latin = dataclasses.replace(CUSTOMERS, encoding="latin-1")
    pipeline = dataclasses.replace(PIPELINE, sources=(ORDERS, latin))
    write_files(
        tmp_path,
        {DAY_ONE_FILE: DAY_ONE.encode(), CUSTOMER_FILE: "name,city\nJosé,Sète\n".encode("latin-1")},
    )
    settings = history_settings(tmp_path)
    assert build(settings, pipelines={pipeline.name: pipeline}).published
    con = connect(duckdb_path=settings.duckdb_path)
    try:
        landed = rows(con, "bronze", CUSTOMERS.table)
        encodings = con.table("batches", database="_medallion").encoding.to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    assert landed[0][:2] == ("José", "Sète")
    assert sorted(encodings) == ["latin-1", "utf-8"]


def test_an_encoding_that_does_not_keep_ascii_is_refused() -> None:
    with pytest.raises(ValueError, match="encoding 'utf-16' is not a text encoding"):
        Source("t", "t.csv", ("a",), "s", encoding="utf-16")


def test_a_full_refresh_that_would_drop_most_rows_needs_allow_shrink(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            DAY_ONE_FILE: DAY_ONE.encode(),
            DAY_TWO_FILE: DAY_TWO.encode(),
            CUSTOMER_FILE: CUSTOMER_TEXT.encode("cp1252"),
        },
    )
    settings = history_settings(tmp_path)
    pipelines = {PIPELINE.name: PIPELINE}
    build(settings, pipelines=pipelines)
    (tmp_path / "seeds" / DAY_ONE_FILE).unlink()  # 2 of 5 order rows remain
    refresh = dataclasses.replace(settings, full_refresh=True)
    with pytest.raises(SourceShrank) as raised:
        build(refresh, pipelines=pipelines)
    assert str(raised.value) == (
        "the full refresh of bronze.bronze_orders would keep 2 rows of the 5 it drops: files "
        "missing or truncated are probably a broken export, so nothing was published; if the "
        "data really shrank, build again with --allow-shrink"
    )
    # Without a full refresh nothing is dropped: the missing file's rows stay in bronze.
    assert build(settings, pipelines=pipelines).steps[0].rows == 0
    assert build(dataclasses.replace(refresh, allow_shrink=True), pipelines=pipelines).published
    con = connect(duckdb_path=settings.duckdb_path)
    try:
        assert con.table(ORDERS.table, database="bronze").count().execute() == 2
    finally:
        con.disconnect()


def test_a_bronze_table_without_batches_asks_for_a_full_refresh(tmp_path: Path) -> None:
    write_files(
        tmp_path, {DAY_ONE_FILE: DAY_ONE.encode(), CUSTOMER_FILE: CUSTOMER_TEXT.encode("cp1252")}
    )
    settings = history_settings(tmp_path)
    con = ibis.duckdb.connect(str(settings.duckdb_path))
    con.raw_sql("CREATE SCHEMA bronze")
    con.raw_sql("CREATE TABLE bronze.bronze_orders (order_id VARCHAR, _row_number BIGINT)")
    con.disconnect()
    with pytest.raises(ConfigurationError) as raised:
        build(settings, pipelines={PIPELINE.name: PIPELINE})
    assert raised.value.exit_code == 2
    assert str(raised.value).startswith(
        "bronze.bronze_orders has other columns than source bronze_orders now lands (missing: "
        "customer, amount, ordered_on, _source_file, "
    )
    assert str(raised.value).endswith(
        "rebuild it from the files present with --full-refresh (its current rows are dropped)"
    )
    assert build(
        dataclasses.replace(settings, full_refresh=True), pipelines={PIPELINE.name: PIPELINE}
    ).published


def test_full_refresh_is_a_setting_like_any_other(tmp_path: Path) -> None:
    def resolved(flags: dict[str, Any], environ: dict[str, str]) -> bool:
        return resolve_settings(flags, environ=environ, project_dir=tmp_path).full_refresh

    assert resolved({}, {}) is False
    assert resolved({}, {"MEDALLION_FULL_REFRESH": "true"}) is True
    assert resolved({"full-refresh": True}, {}) is True
