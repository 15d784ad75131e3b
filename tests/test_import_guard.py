"""`windvane import` cannot corrupt the history: it reads what a file is from its content, refuses flags that
contradict it, prints its plan, and never overwrites a stored value unless told to (issue 15, item 1)."""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

from server.cli import main
from server.settings import Settings
from store.base import Observation, SeriesKey, StoreError
from store.sqlite import SqliteStore
from tests.fakes.data import DATA
from tools.history import candle_store

# main() points the root logger at the captured stderr of the moment: restore_logging puts it back
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("restore_logging")]

FARSIDE = DATA / "01_us_spot_btc_etf_flows_farside"
BTC_FILE = FARSIDE / "farside_btc_etf_flows_daily.csv"
ETH_FILE = FARSIDE / "farside_eth_etf_flows_daily.csv"
COINBASE_FILE = DATA / "02_coinbase_btcusd_candles" / "coinbase_btcusd_1d.csv"
COINBASE_6H = DATA / "02_coinbase_btcusd_candles" / "coinbase_btcusd_6h.csv"
BINANCE_4H = DATA / "03_binance_btcusdt_spot_candles" / "binance_btcusdt_spot_4h.csv"
BINANCE_PERP = DATA / "04_binance_btcusdt_usdm_perp_1h" / "BTCUSDT-1h-2025-11.csv"
BTC_TOTAL = SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL")


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Path:
    path = settings.resolved_db_path()
    monkeypatch.setenv("WINDVANE_DB_PATH", str(path))
    return path


async def cli(argv: list[str]) -> int:
    return await anyio.to_thread.run_sync(main, argv)


def contents(path: Path) -> list[tuple[object, ...]]:
    """Every stored row and coverage span, as SQLite holds them (fetched_at included): the whole store's state."""
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT * FROM observations ORDER BY 1, 2, 3, 4, 5").fetchall()
        spans = conn.execute("SELECT source, metric, asset, venue, start_ts, end_ts FROM coverage ORDER BY 1, 2, 3, 4")
        return [*rows, *spans.fetchall()]


def edited(src: Path, dst: Path, day: str, column: str, value: str) -> Path:
    """A copy of a Farside table with one cell changed (and the Total kept equal to the funds' sum)."""
    with src.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    at, total = header.index(column), header.index("Total")
    for row in rows[1:]:
        if row[0] == day:
            delta = float(value) - float(row[at] or 0)
            row[at] = value
            row[total] = f"{float(row[total]) + delta:.1f}"
    with dst.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return dst


@pytest.mark.usefixtures("shared_data")
async def test_the_eth_table_without_asset_is_stored_as_eth_and_btc_keeps_its_month(
    db: Path, make_client, capsys
) -> None:
    assert await cli(["import", "--etf-flows", str(BTC_FILE)]) == 0
    btc_only = [r for r in contents(db) if r[2] == "BTC"]
    assert await cli(["import", "--etf-flows", str(ETH_FILE)]) == 0
    out = capsys.readouterr().out
    assert "ETH (detected from its funds ETHA" in out
    assert "farside/net_flow_usd/ETH/<ETHA|" in out
    assert "2024-07-23..2026-04-10" in out

    assert [r for r in contents(db) if r[2] == "BTC"] == btc_only  # nothing of BTC touched
    eth_rows = [r for r in contents(db) if r[2] == "ETH"]
    assert {r[3] for r in eth_rows} >= {"ETHA", "FETH", "ETHE", "TOTAL"}

    # Through the tool, from the store: BTC's 1-21 Nov 2025 month-to-date is Farside's -3,536.9 US$m.
    async with make_client() as client:
        result = await client.call_tool("get_etf_flows", {"asset": "BTC", "as_of": "2025-11-22", "detail": "full"})
    flows = result.structured_content
    assert any(s["endpoint"] == "store:farside/net_flow_usd/BTC" for s in flows["sources"])
    assert flows["month_to_date_usd"] == pytest.approx(-3_536.9e6, abs=1)
    funds = {t for day in flows["days"] for t in day["funds"]}
    assert "IBIT" in funds
    assert not funds & {"ETHA", "FETH", "ETHE"}


@pytest.mark.usefixtures("shared_data")
async def test_an_asset_flag_the_content_contradicts_is_refused_in_one_line(db: Path, capsys) -> None:
    assert await cli(["import", "--etf-flows", str(ETH_FILE), "--asset", "BTC"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--asset BTC" in err
    assert "ETH funds" in err
    assert contents(db) == []
    assert await cli(["import", "--etf-flows", str(ETH_FILE), "--asset", "ETH"]) == 0  # agreeing is fine


@pytest.mark.usefixtures("shared_data")
async def test_candle_flags_the_content_contradicts_are_refused(db: Path, capsys) -> None:
    refused = [
        (["--candles", str(COINBASE_FILE), "--venue", "binance"], "Coinbase-style"),
        (["--candles", str(COINBASE_FILE), "--interval", "1h"], "1d apart"),
        (["--candles", str(BINANCE_4H)], "4h apart"),  # no 4h series: never stored as 1h bars
        (["--candles", str(COINBASE_6H), "--venue", "coinbase"], "6h apart"),
        (["--candles", str(BINANCE_PERP)], "futures"),
    ]
    for argv, said in refused:
        assert await cli(["import", *argv]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert said in err, err
    assert contents(db) == []


async def test_a_table_in_us_dollars_or_with_misaligned_columns_is_refused(db: Path, tmp_path: Path, capsys) -> None:
    dollars = tmp_path / "dollars.csv"
    dollars.write_text("date,IBIT,FBTC,Total\n2025-11-20,-355500000,-190400000,-545900000\n")
    assert await cli(["import", "--etf-flows", str(dollars)]) == 2
    assert "not a daily flow in US$ millions" in capsys.readouterr().err
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("date,IBIT,FBTC,Total\n2025-11-20,-355.5,-190.4,-355.5\n")
    assert await cli(["import", "--etf-flows", str(shifted)]) == 2
    assert "not the sum of the fund cells" in capsys.readouterr().err
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("date,AAA,BBB,Total\n2025-11-20,1.0,2.0,3.0\n")
    assert await cli(["import", "--etf-flows", str(unknown)]) == 2
    assert "pass --asset" in capsys.readouterr().err
    assert contents(db) == []


@pytest.mark.usefixtures("shared_data")
async def test_dry_run_prints_the_plan_and_writes_nothing(db: Path, capsys) -> None:
    assert await cli(["import", "--etf-flows", str(BTC_FILE), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "BTC (detected from its funds IBIT" in out
    assert "579 rows read" in out
    assert "2024-01-11..2026-04-10" in out
    assert "6635 new" in out  # 6619 figures and 16 holiday-row markers
    assert "nothing written" in out
    assert contents(db) == []
    assert await cli(["import", "--candles", str(COINBASE_FILE), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "1d candles" in out
    assert "coinbase/<open|high|low|close|volume>/BTC-USD/1d" in out
    assert contents(db) == []


@pytest.mark.usefixtures("shared_data")
async def test_a_conflicting_reimport_changes_nothing_without_replace(db: Path, tmp_path: Path, capsys) -> None:
    assert await cli(["import", "--etf-flows", str(BTC_FILE)]) == 0
    assert await cli(["import", "--etf-flows", str(BTC_FILE)]) == 0  # identical rows are not conflicts
    assert "0 new, 6635 identical" in capsys.readouterr().out
    before = contents(db)

    revised = edited(BTC_FILE, tmp_path / "revised.csv", "2025-11-20", "IBIT", "-400.0")  # Farside: -355.5
    assert await cli(["import", "--etf-flows", str(revised)]) == 1
    err = capsys.readouterr().err
    assert "2 stored value(s) differ" in err  # IBIT and the Total
    assert "farside/net_flow_usd/BTC/IBIT 2025-11-20T00:00Z: stored -355,500,000.00, file -400,000,000.00" in err
    assert "--replace" in err
    assert contents(db) == before

    assert await cli(["import", "--etf-flows", str(revised), "--replace"]) == 0
    assert "2 of them replacing stored values" in capsys.readouterr().out
    after = contents(db)
    changed = [r for r in after if r not in before]
    assert sorted((r[3], r[5]) for r in changed) == [("IBIT", -400e6), ("TOTAL", (-903.2 - 44.5) * 1e6)]
    assert len(after) == len(before)


@pytest.mark.usefixtures("shared_data")
async def test_conflicts_are_listed_first_few_and_counted(db: Path, tmp_path: Path, capsys) -> None:
    assert await cli(["import", "--candles", str(COINBASE_FILE)]) == 0
    with COINBASE_FILE.open(newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows[-41:-1]:  # 40 stored bars, each with a different close
        row[4] = f"{float(row[4]) + 1:.2f}"
    changed = tmp_path / "changed.csv"
    with changed.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    before = contents(db)
    assert await cli(["import", "--candles", str(changed)]) == 1
    err = capsys.readouterr().err
    assert "40 stored value(s) differ" in err
    assert err.count("coinbase/close/BTC-USD/1d ") == 5
    assert "... and 35 more" in err
    assert contents(db) == before


async def refused_write_leaves_nothing(store: Any, key: SeriesKey, cover: SeriesKey, t0: datetime) -> None:
    """Rows and two coverage spans in one write, the second span refused by the database: none of it is kept."""
    rows = [Observation(key, t0 + timedelta(days=i), 2.0, t0) for i in range(3)]
    late = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(StoreError, match="refused"):
        await store.upsert_covered(rows, [(cover, t0, t0 + timedelta(days=3)), (cover, late, late + timedelta(1))])
    assert [(o.ts, o.value) for o in await store.read(key)] == [(t0, 1.0)]
    assert await store.coverage(cover, t0, late + timedelta(days=2)) == []


@pytest.mark.usefixtures("shared_data")
async def test_a_candle_import_writes_its_rows_and_coverage_together(db: Path) -> None:
    assert await cli(["import", "--candles", str(COINBASE_FILE)]) == 0  # venue and bar size from the content
    store = SqliteStore(db)
    try:
        key = candle_store.coverage_key("coinbase", "BTC-USD", "1d")
        closes = await store.read(SeriesKey("coinbase", "close", "BTC-USD", "1d"))
        spans = await store.coverage(key, closes[0].ts, closes[-1].ts)
    finally:
        await store.close()
    assert len(closes) == 3882
    assert spans[0][0] == closes[0].ts
    assert spans[-1][1] > closes[-1].ts


async def test_a_failed_write_leaves_neither_rows_nor_coverage(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from store.base import Observation

    store = SqliteStore(tmp_path / "s.sqlite3")
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    key = SeriesKey("coinbase", "close", "BTC-USD", "1d")
    cover = candle_store.coverage_key("coinbase", "BTC-USD", "1d")
    try:
        await store.upsert([Observation(key, t0, 1.0, t0)])
        with sqlite3.connect(store.path) as conn:  # a later span's insert fails inside the transaction
            conn.execute(
                "CREATE TRIGGER no_2026 BEFORE INSERT ON coverage WHEN NEW.start_ts > 1767225600000 "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        await refused_write_leaves_nothing(store, key, cover, t0)
    finally:
        await store.close()


async def test_rows_and_coverage_are_written_together_on_every_backend(make_store) -> None:
    from datetime import UTC, datetime, timedelta

    from store.base import Observation

    store = make_store()
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    day = timedelta(days=1)
    key = SeriesKey("coinbase", "close", "BTC-USD", "1d")
    cover = candle_store.coverage_key("coinbase", "BTC-USD", "1d")
    try:
        await store.check_writable()  # a healthy store takes writes; the probe leaves nothing behind
        assert await store.coverage(cover, t0 - 10 * day, t0 + 10 * day) == []
        rows = [Observation(key, t0 + i * day, 100.0 + i, t0 + (i + 1) * day) for i in range(4)]
        spans = [(cover, t0, t0 + 2 * day), (cover, t0 + 2 * day, t0 + 4 * day)]  # touching: merged into one
        assert await store.upsert_covered(rows, spans) == 4
        assert [(o.ts, o.value) for o in await store.read(key)] == [(r.ts, r.value) for r in rows]
        assert await store.coverage(cover, t0, t0 + 4 * day) == [(t0, t0 + 4 * day)]
    finally:
        await store.close()


async def test_a_failed_postgres_write_leaves_neither_rows_nor_coverage(postgres_url: str) -> None:
    from datetime import UTC, datetime

    import asyncpg

    from store.base import Observation
    from store.postgres import PostgresStore

    store = PostgresStore(postgres_url)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    key = SeriesKey("coinbase", "close", "BTC-USD", "1d")
    cover = candle_store.coverage_key("coinbase", "BTC-USD", "1d")
    try:
        await store.upsert([Observation(key, t0, 1.0, t0)])
        conn = await asyncpg.connect(postgres_url)
        try:  # a later span's insert fails inside the transaction
            await conn.execute(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
                "LANGUAGE plpgsql"
            )
            await conn.execute(
                "CREATE TRIGGER no_2026 BEFORE INSERT ON coverage FOR EACH ROW "
                "WHEN (NEW.start_ts > 1767225600000) EXECUTE FUNCTION refuse()"
            )
        finally:
            await conn.close()
        await refused_write_leaves_nothing(store, key, cover, t0)
    finally:
        await store.close()
