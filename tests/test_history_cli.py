"""`windvane import`, `history`, `backfill` and `collect` on the real shared files and the fake upstream."""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import anyio.to_thread
import httpx
import pytest

from server.cli import main
from server.commands import backfill as backfill_cmd
from server.commands import collect as collect_cmd
from server.settings import Settings
from store.base import SeriesKey
from store.sqlite import SqliteStore
from tests import broken_collector, collector_tools
from tests.conftest import FROZEN_NOW
from tests.fakes import FakeUpstream
from tests.fakes.data import DATA, binance_daily, coinbase_daily, day_ts
from tools.history import candle_store
from tools.premium.tool import SPEC as PREMIUM

# main() points the root logger at the captured stderr of the moment: restore_logging puts it back
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("restore_logging")]

ETF_FILE = DATA / "01_us_spot_btc_etf_flows_farside" / "farside_btc_etf_flows_daily.csv"
COINBASE_FILE = DATA / "02_coinbase_btcusd_candles" / "coinbase_btcusd_1d.csv"
BINANCE_FILE = DATA / "03_binance_btcusdt_spot_candles" / "binance_btcusdt_spot_1d.csv"


@pytest.fixture
def db_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("WINDVANE_DB_PATH", str(path))
    return path


async def cli(argv: list[str]) -> int:
    """The `windvane` entry point, run in a worker thread as the real CLI runs outside any event loop."""
    return await anyio.to_thread.run_sync(main, argv)


def file_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


async def counts(path: Path) -> dict[SeriesKey, int]:
    store = SqliteStore(path)
    try:
        return {s.key: s.rows for s in await store.summary()}
    finally:
        await store.close()


@pytest.mark.usefixtures("shared_data")  # imports the real files in ../shared
async def test_etf_flow_import_matches_the_file_and_never_stores_empty_as_zero(db_env: Path, capsys) -> None:
    assert await cli(["import", "--etf-flows", str(ETF_FILE)]) == 0
    rows = file_rows(ETF_FILE)
    assert len(rows) == 579
    tickers = [c for c in rows[0] if c not in ("date", "Total")]
    stored = await counts(db_env)
    for ticker in tickers:
        non_empty = sum(1 for r in rows if r[ticker].strip())
        assert stored.get(SeriesKey("farside", "net_flow_usd", "BTC", ticker), 0) == non_empty, ticker
    trading_days = [r for r in rows if any(r[t].strip() for t in tickers)]
    assert len(rows) - len(trading_days) == 16  # the market-holiday rows (PROVENANCE.md)
    assert stored[SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL")] == len(trading_days)
    assert "579 rows read" in capsys.readouterr().out

    store = SqliteStore(db_env)
    total = SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL")
    holiday = datetime(2024, 1, 15, tzinfo=UTC)  # Total 0.0 with every fund empty: no trading, not a zero flow
    assert await store.read(total, holiday, holiday) == []
    msbt = SeriesKey("farside", "net_flow_usd", "BTC", "MSBT")  # empty before 2026: absent, not 0
    assert await store.read(msbt, end=datetime(2025, 12, 31, tzinfo=UTC)) == []
    nov = (datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 21, tzinfo=UTC))
    nov_total = await store.read(total, *nov)
    assert len(nov_total) == 15
    assert sum(o.value for o in nov_total) == pytest.approx(-3_536.9e6, abs=1)  # PROVENANCE.md, in US$
    ibit = await store.read(SeriesKey("farside", "net_flow_usd", "BTC", "IBIT"), *nov)
    assert sum(o.value for o in ibit) == pytest.approx(-2_199.1e6, abs=1)
    # an imported day counts as known at the end of that day, not before
    assert nov_total[0].fetched_at == nov_total[0].ts + timedelta(days=1)
    await store.close()


@pytest.mark.usefixtures("shared_data")  # imports the real files in ../shared
async def test_candle_imports_match_the_files(db_env: Path) -> None:
    assert await cli(["import", "--candles", str(COINBASE_FILE), "--venue", "coinbase"]) == 0
    assert await cli(["import", "--candles", str(BINANCE_FILE), "--venue", "binance"]) == 0
    stored = await counts(db_env)
    cb_rows, bn_rows = len(file_rows(COINBASE_FILE)), len(file_rows(BINANCE_FILE))
    assert (cb_rows, bn_rows) == (3883, 2051)
    for field in candle_store.FIELDS:  # the last row of each file is the forming day: dropped
        assert stored[SeriesKey("coinbase", field, "BTC-USD", "1d")] == cb_rows - 1
        assert stored[SeriesKey("binance", field, "BTC-USDT", "1d")] == bn_rows - 1
    store = SqliteStore(db_env)
    day = datetime(2025, 11, 24, tzinfo=UTC)
    cb = await store.read(SeriesKey("coinbase", "close", "BTC-USD", "1d"), day, day)
    assert cb[0].value == coinbase_daily()[day_ts("2025-11-24")][3]
    bn = await store.read(SeriesKey("binance", "high", "BTC-USDT", "1d"), day, day)
    assert bn[0].value == float(binance_daily()[day_ts("2025-11-24") * 1000][2])
    await store.close()


@pytest.mark.usefixtures("shared_data")  # imports the real files in ../shared
async def test_keep_last_keeps_every_row(db_env: Path) -> None:
    assert await cli(["import", "--candles", str(COINBASE_FILE), "--venue", "coinbase", "--keep-last"]) == 0
    assert (await counts(db_env))[SeriesKey("coinbase", "close", "BTC-USD", "1d")] == 3883


async def test_a_malformed_file_is_refused_whole(db_env: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2025-01-01,1,2,0.5,1.5,10\n2025-01-02,1,2,x,1.5,10\n")
    assert await cli(["import", "--candles", str(bad), "--venue", "coinbase"]) == 2
    assert "line 3" in capsys.readouterr().err
    assert await counts(db_env) == {}
    assert await cli(["import", "--candles", str(bad)]) == 2  # no --venue


async def test_imported_candles_answer_the_premium_with_no_upstream_request(
    make_client, fake: FakeUpstream, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WINDVANE_DB_PATH", str(settings.resolved_db_path()))
    assert await cli(["import", "--candles", str(COINBASE_FILE), "--venue", "coinbase"]) == 0
    assert await cli(["import", "--candles", str(BINANCE_FILE), "--venue", "binance"]) == 0
    async with make_client() as client:
        out = (
            await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24", "days": 60, "detail": "full"})
        ).structured_content
    assert fake.count("coinbase", "/products/BTC-USD/candles") == 0
    assert fake.count("binance") == 0
    assert len(out["history"]) == 60
    assert out["streak"]["days"] == 26  # same answer as from the live endpoints (test_premium_tool)


@pytest.mark.usefixtures("shared_data")  # imports the real files in ../shared
async def test_history_lists_series_with_counts_and_filters(db_env: Path, capsys) -> None:
    await cli(["import", "--candles", str(BINANCE_FILE), "--venue", "binance"])
    await cli(["import", "--etf-flows", str(ETF_FILE)])
    capsys.readouterr()
    assert await cli(["history", "--series", "close"]) == 0
    out = capsys.readouterr().out
    assert "binance/close/BTC-USDT/1d" in out
    assert "2021-01-01T00:00:00Z" in out
    assert "2050" in out
    assert "farside" not in out
    assert await cli(["history", "--json", "--series", "IBIT"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(s["series"], s["rows"]) for s in listed] == [("farside/net_flow_usd/BTC/IBIT", 563)]


def _backfill_args(since: str, until: str) -> argparse.Namespace:
    return argparse.Namespace(since=date.fromisoformat(since), until=date.fromisoformat(until))


async def test_backfill_resumes_after_an_interruption(
    settings: Settings, fake: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tools.premium.tool.SUPPORTED_ASSETS", ("BTC",))  # the fake serves BTC only
    # This test is about resuming the premium's candle chunks; other tools' backfills have tests of their own.
    monkeypatch.setattr("tools.registry.tool_specs", lambda: (PREMIUM,))
    real = fake.handlers["coinbase"]

    def flaky(request: httpx.Request, path: str) -> httpx.Response:
        # the chunk holding mid-2025 fails: the run is cut short there
        if path.endswith("BTC-USD/candles") and request.url.params["start"] < "2025-07" < request.url.params["end"]:
            return httpx.Response(503, text="down")
        return real(request, path)

    fake.handlers["coinbase"] = flaky
    kwargs = {"transport": fake.transport(), "clock": lambda: FROZEN_NOW}
    assert await backfill_cmd.execute(_backfill_args("2024-01-01", "2025-11-24"), settings, **kwargs) == 1
    key = SeriesKey("coinbase", "close", "BTC-USD", "1d")
    partial = (await counts(settings.resolved_db_path()))[key]
    expected_days = (date(2025, 11, 24) - date(2024, 1, 1)).days + 1
    assert 0 < partial < expected_days

    fake.handlers["coinbase"] = real
    fake.requests.clear()
    assert await backfill_cmd.execute(_backfill_args("2024-01-01", "2025-11-24"), settings, **kwargs) == 0
    # only the failed chunk is fetched again; the finished ones cost nothing
    assert fake.count("coinbase", "/products/BTC-USD/candles") == 1
    assert fake.count("coinbase", "/products/USDT-USD/candles") == 0
    assert fake.count("binance") == 0
    stored = await counts(settings.resolved_db_path())
    assert stored[key] == expected_days
    assert stored[SeriesKey("binance", "close", "BTC-USDT", "1d")] == expected_days

    fake.requests.clear()  # a third run has nothing left to do
    assert await backfill_cmd.execute(_backfill_args("2024-01-01", "2025-11-24"), settings, **kwargs) == 0
    assert fake.requests == []


async def test_backfill_rejects_reversed_dates(settings: Settings, fake: FakeUpstream) -> None:
    args = _backfill_args("2025-02-01", "2025-01-01")
    assert await backfill_cmd.execute(args, settings, transport=fake.transport()) == 2


async def test_collect_once_records_and_survives_a_broken_collector(
    settings: Settings, fake: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_ins = (
        PREMIUM,  # has no collector: skipped
        replace(PREMIUM, name="broken_collector", collect=broken_collector.collect),
        replace(PREMIUM, name="collector_tools", collect=collector_tools.collect),
    )
    monkeypatch.setattr("tools.registry.tool_specs", lambda: stand_ins)
    args = argparse.Namespace(once=True, every=3600.0)
    code = await collect_cmd.execute(args, settings, transport=fake.transport(), clock=lambda: FROZEN_NOW)
    assert code == 1  # one collector failed, and says so
    store = SqliteStore(settings.resolved_db_path())
    rows = await store.read(SeriesKey("test", "snapshot", "BTC", "venue"))
    assert [(r.ts, r.value) for r in rows] == [(FROZEN_NOW, 42.0)]
    await store.close()


def test_collect_interval_parsing() -> None:
    assert collect_cmd.duration("1h") == 3600
    assert collect_cmd.duration("15m") == 900
    assert collect_cmd.duration("90") == 90
    with pytest.raises(argparse.ArgumentTypeError):
        collect_cmd.duration("1 week")
    with pytest.raises(argparse.ArgumentTypeError):
        collect_cmd.duration("1s")
