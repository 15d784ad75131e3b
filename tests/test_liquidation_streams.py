"""Liquidation streams: parsers on the venues' exact formats, and `listen`/`collect_streams` against a loopback
WebSocket server replaying those messages (connect, subscribe, ping, drop and reconnect, bad message, geo-block)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from fetchers import liquidation_streams as ls
from fetchers.errors import BadPayloadError
from fetchers.http import Http, HttpConfig
from store.sqlite import SqliteStore
from tools.deps import Deps
from tools.leverage.streams import (
    LONG_METRIC,
    SHORT_METRIC,
    collect_streams,
    complete_minutes,
    minute_observations,
    series,
    window_seconds,
)
from tools.venues import BINANCE_STREAM as BINANCE
from tools.venues import BYBIT_STREAM as BYBIT

pytestmark = pytest.mark.anyio

T0 = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def binance_msg(sym: str, side: str, qty: str, avg_price: str, at: datetime) -> str:
    """A forceOrder event with every field of Binance's documented example."""
    return json.dumps(
        {
            "e": "forceOrder",
            "E": ms(at) + 3,
            "o": {
                "s": sym,
                "S": side,
                "o": "LIMIT",
                "f": "IOC",
                "q": qty,
                "p": str(round(float(avg_price) * 0.99, 1)),
                "ap": avg_price,
                "X": "FILLED",
                "l": qty,
                "z": qty,
                "T": ms(at),
            },
        }
    )


def bybit_msg(sym: str, rows: list[tuple[str, str, str, datetime]]) -> str:
    """An allLiquidation push: rows of (S, v, p, T) as Bybit documents them."""
    data = [{"T": ms(at), "s": sym, "S": side, "v": v, "p": p} for side, v, p, at in rows]
    ts = ms(max(r[3] for r in rows)) + 270
    return json.dumps({"topic": f"allLiquidation.{sym}", "type": "snapshot", "ts": ts, "data": data})


BYBIT_ACK = json.dumps({"success": True, "ret_msg": "", "conn_id": "d30fdpbt-0x5ku", "req_id": "", "op": "subscribe"})
BYBIT_PONG = json.dumps({"success": True, "ret_msg": "pong", "conn_id": "d30fdpbt-0x5ku", "req_id": "", "op": "ping"})


# -- parsers -------------------------------------------------------------------------------------------------------


def test_binance_documented_example() -> None:
    raw = (
        '{"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.014",'
        '"p":"9910","ap":"9910","X":"FILLED","l":"0.014","z":"0.014","T":1568014460893}}'
    )
    [event] = ls.parse_binance_force_order(raw)
    assert event.venue == "binance"
    assert event.symbol == "BTCUSDT"
    assert event.long is True  # SELL closes a long
    assert event.usd == pytest.approx(0.014 * 9910)
    assert event.time == datetime.fromtimestamp(1568014460.893, UTC)


def test_binance_buy_is_a_short_and_uses_the_average_price() -> None:
    [event] = ls.parse_binance_force_order(binance_msg("ETHUSDT", "BUY", "2.5", "3000", T0))
    assert event.long is False
    assert event.usd == pytest.approx(7500.0)  # q x ap, not the limit price p


def test_binance_control_reply_carries_no_event() -> None:
    assert ls.parse_binance_force_order('{"result":null,"id":1}') == []


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("not json{", "malformed JSON"),
        ('{"e":"aggTrade"}', "unexpected event type"),
        ('{"e":"forceOrder","o":{"s":"BTCUSDT","S":"HOLD","q":"1","ap":"1","T":1}}', "o.S"),
        ('{"e":"forceOrder","o":{"s":"BTCUSDT","S":"SELL","ap":"1","T":1}}', "o.q"),
        ('{"e":"forceOrder","o":{"s":"BTCUSDT","S":"SELL","q":"1","ap":"x","T":1}}', "o.ap"),
        ("[1, 2]", "expected an object"),
    ],
)
def test_binance_drift_is_a_bad_payload(raw: str, needle: str) -> None:
    with pytest.raises(BadPayloadError, match=needle):
        ls.parse_binance_force_order(raw)


def test_bybit_documented_example() -> None:
    raw = (
        '{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,'
        '"data":[{"T":1739502302929,"s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"}]}'
    )
    [event] = ls.parse_bybit_all_liquidation(raw)
    assert event.venue == "bybit"
    assert event.symbol == "ROSEUSDT"
    assert event.long is False  # Sell: a short was liquidated
    assert event.usd == pytest.approx(20000 * 0.04499)
    assert event.time == datetime.fromtimestamp(1739502302.929, UTC)


def test_bybit_batch_buy_is_a_long() -> None:
    events = ls.parse_bybit_all_liquidation(
        bybit_msg("BTCUSDT", [("Buy", "0.5", "86000", T0), ("Sell", "0.25", "87000", T0 + timedelta(seconds=1))])
    )
    assert [(e.long, e.usd) for e in events] == [(True, 43000.0), (False, 21750.0)]


def test_bybit_operation_replies_carry_no_event() -> None:
    assert ls.parse_bybit_all_liquidation(BYBIT_ACK) == []
    assert ls.parse_bybit_all_liquidation(BYBIT_PONG) == []


def test_bybit_refused_subscription_is_reported() -> None:
    refused = '{"success":false,"ret_msg":"error:handler not found,topic:allLiquidation.XUSDT","op":"subscribe"}'
    with pytest.raises(ls.SubscriptionRefused, match="subscribe refused"):
        ls.parse_bybit_all_liquidation(refused)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ('{"topic":"publicTrade.BTCUSDT","data":[]}', "unexpected topic"),
        ('{"topic":"allLiquidation.BTCUSDT","data":{}}', "data: expected a list"),
        (
            '{"topic":"allLiquidation.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Long","v":"1","p":"1"}]}',
            r"data\[0\].S",
        ),
        ('{"topic":"allLiquidation.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","p":"1"}]}', r"data\[0\].v"),
    ],
)
def test_bybit_drift_is_a_bad_payload(raw: str, needle: str) -> None:
    with pytest.raises(BadPayloadError, match=needle):
        ls.parse_bybit_all_liquidation(raw)


def test_stream_addresses_follow_the_venues_docs() -> None:
    assert ls.binance_path("btc") == "/ws/btcusdt@forceOrder"
    assert ls.bybit_subscribe(["BTC", "ETH"]) == {
        "op": "subscribe",
        "args": ["allLiquidation.BTCUSDT", "allLiquidation.ETHUSDT"],
    }


# -- per-minute sums -----------------------------------------------------------------------------------------------


def test_complete_minutes_need_the_whole_minute_live() -> None:
    spans = [(T0 + timedelta(seconds=30), T0 + timedelta(minutes=3, seconds=5))]
    assert complete_minutes(spans) == [T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    # A drop at 12:05:20 and a reconnect at 12:05:40 lose minute 12:05 and nothing else.
    spans = [
        (T0 + timedelta(minutes=4), T0 + timedelta(minutes=5, seconds=20)),
        (T0 + timedelta(minutes=5, seconds=40), T0 + timedelta(minutes=7, seconds=5)),
    ]
    assert complete_minutes(spans) == [T0 + timedelta(minutes=4), T0 + timedelta(minutes=6)]
    assert complete_minutes([(T0, T0 + timedelta(seconds=59))]) == []
    # Up at 12:00:00 but gone at 12:01:01: a liquidation from 12:00:59.9 may still have been on its way.
    assert complete_minutes([(T0, T0 + timedelta(seconds=61))]) == []
    assert complete_minutes([(T0, T0 + timedelta(seconds=62))]) == [T0]


def test_minute_sums_record_zero_minutes_and_skip_partial_ones() -> None:
    def ev(sym: str, at: datetime, long: bool, usd: float) -> ls.LiquidationEvent:
        return ls.LiquidationEvent("bybit", sym, at, long, usd)

    events = [
        ev("BTCUSDT", T0 + timedelta(seconds=45), True, 999.0),  # minute 12:00 was only half listened: dropped
        ev("BTCUSDT", T0 + timedelta(minutes=1, seconds=5), True, 100.0),
        ev("BTCUSDT", T0 + timedelta(minutes=1, seconds=50), True, 50.5),
        ev("BTCUSDT", T0 + timedelta(minutes=1, seconds=51), False, 20.0),
        ev("SOLUSDT", T0 + timedelta(minutes=1, seconds=52), True, 7.0),  # not an asset we record
    ]
    spans = [(T0 + timedelta(seconds=30), T0 + timedelta(minutes=3, seconds=2))]
    rows = minute_observations(BYBIT, ("BTC",), events, spans, T0 + timedelta(minutes=3))
    got = {(o.key.metric, o.ts): o.value for o in rows}
    m1, m2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    assert got == {
        (LONG_METRIC, m1): 150.5,
        (SHORT_METRIC, m1): 20.0,
        (LONG_METRIC, m2): 0.0,  # listened in full, nothing liquidated: a real zero
        (SHORT_METRIC, m2): 0.0,
    }
    assert {o.key for o in rows} == {series(BYBIT, LONG_METRIC, "BTC"), series(BYBIT, SHORT_METRIC, "BTC")}
    assert rows[0].key.source == "bybit_stream"


def test_window_ends_on_a_minute_boundary() -> None:
    # 12:00:20 + 50 s = 12:01:10 -> ends 12:02:02 (boundary + 2 s for late deliveries): minute 12:01 whole.
    assert window_seconds(T0 + timedelta(seconds=20), 50) == 102
    assert window_seconds(T0 + timedelta(seconds=20), 120) == 162  # -> 12:03:02: minutes 12:01 and 12:02
    assert window_seconds(T0, 120) == 122
    start = T0 + timedelta(seconds=20)
    end = start + timedelta(seconds=window_seconds(start, 50))
    assert complete_minutes([(start, end)]) == [T0 + timedelta(minutes=1)]


# -- listen against a loopback server --------------------------------------------------------------------------


Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def ws_server(handler: Handler, process_request: Any = None) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, process_request=process_request, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


class Collector:
    """Gathers events and sets `stop` once `want` have arrived, so tests end on data, not on a timer."""

    def __init__(self, want: int) -> None:
        self.events: list[ls.LiquidationEvent] = []
        self.want = want
        self.stop = anyio.Event()

    def __call__(self, event: ls.LiquidationEvent) -> None:
        self.events.append(event)
        if len(self.events) >= self.want:
            self.stop.set()


async def test_listen_binance_replays_events_in_order() -> None:
    paths: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        paths.append(ws.request.path if ws.request else "")
        await ws.send(binance_msg("BTCUSDT", "SELL", "0.014", "9910", T0))
        await ws.send(binance_msg("BTCUSDT", "BUY", "0.5", "86000", T0 + timedelta(seconds=2)))
        await ws.wait_closed()

    got = Collector(2)
    async with ws_server(handler) as base:
        run = await ls.listen(
            base + ls.binance_path("BTC"), None, 30, got, parse=ls.parse_binance_force_order, stop=got.stop
        )
    assert paths == ["/ws/btcusdt@forceOrder"]
    assert [(e.long, e.usd) for e in got.events] == [(True, pytest.approx(138.74)), (False, 43000.0)]
    assert (run.connects, run.drops, run.events, run.bad_messages) == (1, 0, 2, 0)
    assert len(run.live) == 1


async def test_listen_bybit_subscribes_and_pings() -> None:
    received: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        received.append(json.loads(await ws.recv()))
        await ws.send(BYBIT_ACK)
        received.append(json.loads(await ws.recv()))  # the data only comes once the client has pinged
        await ws.send(BYBIT_PONG)
        await ws.send(bybit_msg("BTCUSDT", [("Buy", "0.01", "86500", T0)]))
        await ws.wait_closed()

    got = Collector(1)
    async with ws_server(handler) as base:
        run = await ls.listen(
            base + ls.BYBIT_LINEAR_PATH,
            ls.bybit_subscribe(["BTC"]),
            30,
            got,
            parse=ls.parse_bybit_all_liquidation,
            ping_msg=ls.BYBIT_PING,
            ping_every_s=0.01,
            stop=got.stop,
        )
    assert received == [{"op": "subscribe", "args": ["allLiquidation.BTCUSDT"]}, {"op": "ping"}]
    assert [(e.long, e.usd) for e in got.events] == [(True, pytest.approx(865.0))]
    assert run.messages == 3
    assert run.bad_messages == 0


async def test_listen_reconnects_after_the_server_drops_it() -> None:
    connections = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            await ws.send(binance_msg("BTCUSDT", "SELL", "1", "86000", T0))
            await ws.close(code=1011, reason="server restart")  # what a venue does on maintenance
            return
        await ws.send(binance_msg("BTCUSDT", "BUY", "2", "86100", T0 + timedelta(minutes=1)))
        await ws.wait_closed()

    got = Collector(2)
    async with ws_server(handler) as base:
        run = await ls.listen(
            base + ls.binance_path("BTC"), None, 30, got, parse=ls.parse_binance_force_order, stop=got.stop
        )
    assert [e.usd for e in got.events] == [86000.0, 172200.0]
    assert (run.connects, run.drops) == (2, 1)
    assert len(run.live) == 2  # the gap between the two spans is not counted as listened
    assert any("1011" in e for e in run.errors)


async def test_bad_json_message_is_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("not json{")
        await ws.send('{"e":"forceOrder","o":{"s":"BTCUSDT","S":"SELL"}}')
        await ws.send(binance_msg("BTCUSDT", "SELL", "0.1", "86000", T0))
        await ws.wait_closed()

    got = Collector(1)
    with caplog.at_level(logging.WARNING, logger="windvane.streams"):
        async with ws_server(handler) as base:
            run = await ls.listen(
                base + ls.binance_path("BTC"), None, 30, got, parse=ls.parse_binance_force_order, stop=got.stop
            )
    assert [e.usd for e in got.events] == [pytest.approx(8600.0)]
    assert (run.messages, run.bad_messages, run.drops) == (3, 2, 0)
    warnings = [r.getMessage() for r in caplog.records]
    assert any("skipped a bad message (1 so far)" in w and "malformed JSON" in w for w in warnings)
    assert any("(2 so far)" in w and "o.q" in w for w in warnings)


async def test_geo_blocked_handshake_gives_up_without_retrying() -> None:
    attempts = 0

    def refuse(connection: ServerConnection, request: Request) -> Response:
        nonlocal attempts
        attempts += 1
        return connection.respond(451, "Unavailable For Legal Reasons\n")

    async def handler(ws: ServerConnection) -> None:  # never reached
        await ws.wait_closed()

    async with ws_server(handler, process_request=refuse) as base:
        run = await ls.listen(
            base + ls.binance_path("BTC"), None, 30, lambda e: None, parse=ls.parse_binance_force_order
        )
    assert attempts == 1
    assert run.gave_up is not None
    assert "451" in run.gave_up
    assert run.live == []
    assert run.events == 0


async def test_refused_subscription_stops_listening() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(
            '{"success":false,"ret_msg":"error:handler not found,topic:allLiquidation.XUSDT","op":"subscribe"}'
        )
        await ws.wait_closed()

    async with ws_server(handler) as base:
        run = await ls.listen(
            base + ls.BYBIT_LINEAR_PATH,
            ls.bybit_subscribe(["X"]),
            30,
            lambda e: None,
            parse=ls.parse_bybit_all_liquidation,
        )
    assert run.gave_up is not None
    assert "refused" in run.gave_up
    assert (run.connects, run.drops, run.bad_messages) == (1, 0, 1)


# -- collect_streams: events from both venues -> per-minute sums in the store -------------------------------------


class SteppedClock:
    """Wall time for the live spans, moved by the test (the real clock would make minute boundaries random)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_collect_streams_records_each_complete_minute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = T0 + timedelta(seconds=30)
    m1, m2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    binance_by_path = {
        "/ws/btcusdt@forceOrder": [
            binance_msg("BTCUSDT", "SELL", "0.2", "86000", T0 + timedelta(seconds=40)),  # partial minute 12:00
            binance_msg("BTCUSDT", "SELL", "0.5", "86000", m1 + timedelta(seconds=3)),
            binance_msg("BTCUSDT", "SELL", "0.25", "86200", m1 + timedelta(seconds=9)),
            binance_msg("BTCUSDT", "BUY", "1", "86500", m2 + timedelta(seconds=30)),
        ],
        "/ws/ethusdt@forceOrder": [binance_msg("ETHUSDT", "BUY", "10", "2900", m2 + timedelta(seconds=1))],
    }
    bybit_pushes = [
        bybit_msg(
            "BTCUSDT",
            [("Buy", "0.1", "86000", m1 + timedelta(seconds=1)), ("Sell", "0.3", "86100", m1 + timedelta(seconds=1))],
        ),
        bybit_msg("ETHUSDT", [("Buy", "4", "2950", m2 + timedelta(seconds=59))]),
    ]
    total = sum(len(v) for v in binance_by_path.values()) + 3
    clock = SteppedClock(start)
    stop = anyio.Event()
    seen = 0

    def counted(
        parse: Callable[[str | bytes], list[ls.LiquidationEvent]],
    ) -> Callable[[str | bytes], list[ls.LiquidationEvent]]:
        def wrapper(raw: str | bytes) -> list[ls.LiquidationEvent]:
            nonlocal seen
            events = parse(raw)
            seen += len(events)
            if seen == total:  # everything is in: the window "ends" at 12:03:05
                clock.now = T0 + timedelta(minutes=3, seconds=5)
                stop.set()
            return events

        return wrapper

    monkeypatch.setattr(ls, "parse_binance_force_order", counted(ls.parse_binance_force_order))
    monkeypatch.setattr(ls, "parse_bybit_all_liquidation", counted(ls.parse_bybit_all_liquidation))

    async def binance(ws: ServerConnection) -> None:
        for msg in binance_by_path[ws.request.path if ws.request else ""]:
            await ws.send(msg)
        await ws.wait_closed()

    async def bybit(ws: ServerConnection) -> None:
        assert json.loads(await ws.recv()) == ls.bybit_subscribe(["BTC", "ETH"])
        await ws.send(BYBIT_ACK)
        for msg in bybit_pushes:
            await ws.send(msg)
        await ws.wait_closed()

    store = SqliteStore(tmp_path / "w.sqlite3")
    async with ws_server(binance) as binance_base, ws_server(bybit) as bybit_base, httpx.AsyncClient() as client:
        http = Http(client, HttpConfig(base_urls={ls.BINANCE_SOURCE: binance_base, ls.BYBIT_SOURCE: bybit_base}))
        written = await collect_streams(Deps(http=http, store=store), 20, clock=clock, stop=stop)

    async def values(venue: Any, metric: str, asset: str) -> dict[datetime, float]:
        return {o.ts: o.value for o in await store.read(series(venue, metric, asset))}

    assert written == 16  # 2 venues x 2 assets x 2 complete minutes x long/short
    assert await values(BINANCE, LONG_METRIC, "BTC") == {m1: 43000.0 + 21550.0, m2: 0.0}
    assert await values(BINANCE, SHORT_METRIC, "BTC") == {m1: 0.0, m2: 86500.0}
    assert await values(BINANCE, SHORT_METRIC, "ETH") == {m1: 0.0, m2: 29000.0}
    assert await values(BYBIT, LONG_METRIC, "BTC") == {m1: 8600.0, m2: 0.0}
    assert await values(BYBIT, SHORT_METRIC, "BTC") == {m1: 25830.0, m2: 0.0}
    assert await values(BYBIT, LONG_METRIC, "ETH") == {m1: 0.0, m2: 11800.0}
    [row] = await store.read(series(BYBIT, LONG_METRIC, "ETH"), m2, m2)
    assert row.fetched_at == T0 + timedelta(minutes=3, seconds=5)
    await store.close()


async def test_collect_streams_skips_a_non_websocket_url(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = SqliteStore(tmp_path / "w.sqlite3")
    async with httpx.AsyncClient() as client:
        urls = {ls.BINANCE_SOURCE: "http://fake.test/binance_futures_ws", ls.BYBIT_SOURCE: "http://fake.test/bybit_ws"}
        with caplog.at_level(logging.WARNING, logger="windvane.collect"):
            written = await collect_streams(Deps(http=Http(client, HttpConfig(base_urls=urls)), store=store), 5)
    await store.close()
    assert written == 0
    assert sum("not a ws:// or wss:// URL" in r.getMessage() for r in caplog.records) == 3  # BTC, ETH, Bybit


# -- configuration and wiring --------------------------------------------------------------------------------------


def test_default_addresses_and_overrides() -> None:
    from server.settings import load_settings

    default = load_settings({})
    assert default.base_url(ls.BINANCE_SOURCE) + ls.binance_path("BTC") == (
        "wss://fstream.binance.com/market/ws/btcusdt@forceOrder"
    )
    assert default.base_url(ls.BYBIT_SOURCE) + ls.BYBIT_LINEAR_PATH == "wss://stream.bybit.com/v5/public/linear"
    assert default.liquidation_stream_s == 120.0
    custom = load_settings(
        {
            "WINDVANE_BINANCE_FUTURES_WS_BASE_URL": "wss://fstream.binance.com",
            "WINDVANE_BYBIT_WS_BASE_URL": "ws://127.0.0.1:9001/",
            "WINDVANE_LIQUIDATION_STREAM_SECONDS": "0",
        }
    )
    assert (
        custom.base_url(ls.BINANCE_SOURCE) + ls.binance_path("ETH") == "wss://fstream.binance.com/ws/ethusdt@forceOrder"
    )
    assert custom.base_url(ls.BYBIT_SOURCE) == "ws://127.0.0.1:9001"
    assert custom.liquidation_stream_s == 0.0


async def test_windvane_collect_passes_the_stream_window_and_counts_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from server.commands import collect as collect_cmd
    from tests.conftest import FROZEN_NOW, make_settings
    from tests.fakes import default_fake
    from tools.leverage import tool as leverage

    windows: list[float] = []

    async def streams(deps: Deps, seconds: float) -> int:
        windows.append(seconds)
        assert deps.store is not None
        return await deps.store.upsert(
            minute_observations(BYBIT, ("BTC",), [], [(T0, T0 + timedelta(seconds=65))], FROZEN_NOW)
        )

    monkeypatch.setattr(leverage, "collect_streams", streams)
    monkeypatch.setattr("tools.registry.tool_specs", lambda: (leverage.SPEC,))
    settings = make_settings(tmp_path, liquidation_stream_s=75.0)
    args = argparse.Namespace(once=True, every=3600.0)
    fake = default_fake()
    assert await collect_cmd.execute(args, settings, transport=fake.transport(), clock=lambda: FROZEN_NOW) == 0
    assert windows == [75.0]
    store = SqliteStore(settings.resolved_db_path())
    assert [o.value for o in await store.read(series(BYBIT, LONG_METRIC, "BTC"))] == [0.0]
    await store.close()
