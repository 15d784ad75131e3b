"""Closed candles read through the history store: repeated as_of queries reach no upstream, nothing leaks forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fetchers import coinbase
from fetchers.http import Http, HttpConfig
from server.settings import DEFAULT_BASE_URLS
from store.base import CoverageStore, SeriesKey, StoreError
from store.sqlite import SqliteStore
from tests.fakes import FakeUpstream, base_urls
from tests.fakes.data import coinbase_daily, day_ts
from tools.history import candle_store
from tools.venues import COINBASE

pytestmark = pytest.mark.anyio

ARGS = {"as_of": "2025-11-24", "days": 60}
MakeStore = Callable[[], CoverageStore]


async def call(make_client, args: dict, **kw) -> dict:
    async with make_client(**kw) as client:  # a fresh server: new HTTP layer, new in-process cache
        result = await client.call_tool("get_coinbase_premium", args)
    assert not result.is_error, result.content
    return result.structured_content


async def test_repeated_as_of_query_on_a_fresh_server_makes_no_upstream_request(make_client, fake) -> None:
    first = await call(make_client, ARGS)
    assert fake.count("coinbase", "/candles") >= 2  # BTC-USD and USDT-USD
    assert fake.count("binance", "/klines") >= 1
    before = len(fake.requests)
    second = await call(make_client, ARGS)
    assert len(fake.requests) == before  # zero upstream requests: every closed bar came from the store
    assert second["history"] == first["history"]
    assert second["streak"] == first["streak"]
    assert second["avg_30d_pct"] == first["avg_30d_pct"]
    assert {s["name"] for s in second["sources"]} >= {"coinbase", "binance"}  # provenance survives the store


async def test_store_holds_the_real_closes_under_documented_series(make_client, settings) -> None:
    await call(make_client, ARGS)
    store = SqliteStore(settings.resolved_db_path())
    day = datetime(2025, 11, 24, tzinfo=UTC)
    close = await store.latest(SeriesKey("coinbase", "close", "BTC-USD", "1d"), day)
    assert close is not None
    assert close.ts == day
    assert close.value == pytest.approx(coinbase_daily()[day_ts("2025-11-24")][3])
    assert (await store.latest(SeriesKey("binance", "close", "BTC-USDT", "1d"), day)) is not None
    await store.close()


async def test_data_fetched_later_never_leaks_into_an_earlier_as_of(make_client, fake) -> None:
    now_answer = await call(make_client, {"days": 10})  # fills the store up to the last closed day, 2025-11-25
    assert now_answer["history"][-1]["ts"].startswith("2025-11-25")
    before = len(fake.requests)
    out = await call(make_client, {"as_of": "2025-11-21T12:00:00Z", "days": 5})
    assert out["history"][-1]["ts"].startswith("2025-11-20")  # 11-21 had not closed at noon, though it is stored
    assert all(bar["ts"] < "2025-11-21" for bar in out["history"])
    # the 300-day window now starts 4 days earlier: only those old days are asked for, nothing near as_of
    new = [r for r in fake.requests[before:] if "/candles" in r.url.path or "/klines" in r.url.path]
    assert new
    for request in new:
        end = request.url.params.get("end") or datetime.fromtimestamp(int(request.url.params["endTime"]) / 1000, UTC)
        assert str(end) < "2025-02"


async def test_only_the_missing_days_are_fetched(make_client, fake) -> None:
    await call(make_client, {"as_of": "2025-11-20", "days": 30})
    fake.requests.clear()
    out = await call(make_client, {"as_of": "2025-11-24", "days": 30})
    assert out["history"][-1]["ts"].startswith("2025-11-24")
    candle_calls = [r for r in fake.requests if r.url.path.endswith("/products/BTC-USD/candles")]
    assert len(candle_calls) == 1
    assert candle_calls[0].url.params["start"].startswith("2025-11-21")
    klines = [r for r in fake.requests if r.url.path.endswith("/klines")]
    assert len(klines) == 1
    assert int(klines[0].url.params["startTime"]) == day_ts("2025-11-21") * 1000


async def test_stored_bars_are_served_with_a_warning_when_the_gap_cannot_be_fetched(make_client, fake) -> None:
    await call(make_client, {"as_of": "2025-11-20", "days": 30})
    fake.faults["coinbase"] = lambda request, path: httpx.Response(503, text="down")
    out = await call(make_client, {"as_of": "2025-11-24", "days": 30})
    assert out["history"][-1]["ts"].startswith("2025-11-20")  # the stored days stand; 11-21..24 are missing
    assert any("are missing" in w and "stored bars served" in w for w in out["warnings"])


class BrokenStore(SqliteStore):
    async def coverage(self, key, start, end):  # type: ignore[no-untyped-def]
        raise StoreError("disk I/O error")


async def test_a_failing_store_degrades_to_plain_fetches(tmp_path: Path, fake: FakeUpstream) -> None:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        http = Http(client, HttpConfig(base_urls=base_urls(list(DEFAULT_BASE_URLS))))
        start, end = datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 10, tzinfo=UTC)
        now = datetime(2025, 11, 26, tzinfo=UTC)
        rows, fetches = await candle_store.fetch_candles(
            BrokenStore(tmp_path / "x.sqlite3"), COINBASE, http, "BTC-USD", "1d", start, end, closed_by=now
        )
        plain, _ = await coinbase.fetch_candles(http, "BTC-USD", "1d", start, end, closed_by=now)
    assert rows == plain
    assert len(rows) == 10
    assert fetches


async def test_a_closed_range_with_no_bars_is_remembered(make_store: MakeStore, fake: FakeUpstream) -> None:
    store = make_store()  # on SQLite and on PostgreSQL (tests/services.py)
    start, end = datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 31, tzinfo=UTC)
    now = datetime(2025, 11, 26, tzinfo=UTC)
    for _ in range(2):
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            http = Http(client, HttpConfig(base_urls=base_urls(list(DEFAULT_BASE_URLS))))
            rows, _ = await candle_store.fetch_candles(
                store, COINBASE, http, "USDT-USD", "1d", start, end, closed_by=now
            )
        assert rows == []
    assert fake.count("coinbase", "/products/USDT-USD/candles") == 1
    assert await candle_store.missing_runs(store, "coinbase", "USDT-USD", "1d", start, end) == []
    missing = await candle_store.missing_runs(store, "coinbase", "USDT-USD", "1d", start, end + timedelta(days=2))
    assert missing == [(end + timedelta(days=1), end + timedelta(days=2))]
    await store.close()


async def test_a_bar_answered_just_after_its_close_is_not_stored(make_store: MakeStore, fake: FakeUpstream) -> None:
    store = make_store()  # on SQLite and on PostgreSQL (tests/services.py)
    now = datetime(2025, 11, 25, 0, 0, 30, tzinfo=UTC)  # the 11-24 bar closed 30 s ago
    start, end = datetime(2025, 11, 20, tzinfo=UTC), datetime(2025, 11, 24, tzinfo=UTC)
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        http = Http(client, HttpConfig(base_urls=base_urls(list(DEFAULT_BASE_URLS))), clock=now.timestamp)
        rows, _ = await candle_store.fetch_candles(store, COINBASE, http, "BTC-USD", "1d", start, end, closed_by=now)
    assert [c.open_time.day for c in rows if c.closed] == [20, 21, 22, 23, 24]
    stored = await store.read(SeriesKey("coinbase", "close", "BTC-USD", "1d"))
    assert [o.ts.day for o in stored] == [20, 21, 22, 23]
    assert await candle_store.missing_runs(store, "coinbase", "BTC-USD", "1d", start, end) == [(end, end)]
    await store.close()
