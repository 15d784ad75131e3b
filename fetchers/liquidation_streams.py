"""Public liquidation WebSocket streams: Binance USD-M `<symbol>@forceOrder` and Bybit v5 `allLiquidation.<symbol>`.

Addresses: `wss://fstream.binance.com/market/ws/btcusdt@forceOrder` and `wss://stream.bybit.com/v5/public/linear`
(subscribe `{"op":"subscribe","args":["allLiquidation.BTCUSDT"]}`), both bases overridable like every upstream.

Neither venue serves its liquidations over REST, so `windvane collect` listens for a bounded window and the tool
later reads what was recorded. Parsers are pure (raw text -> events) and raise BadPayloadError on drift; `listen`
keeps one connection open for a bounded time, reconnecting with backoff, and records when it was live, because a
minute without events only means "no liquidations" if the connection was up for the whole minute.

Binance pushes at most one liquidation per symbol per second (the latest in each 1,000 ms), so its stream
undercounts. Bybit pushes every liquidation, batched every 500 ms. `websockets` is imported only inside `listen`:
start-up and the MCP server never need it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio

from fetchers import parsing
from fetchers.errors import BadPayloadError
from fetchers.parsing import expect_dict, expect_list, ms_json, num_text

# A WebSocket control message (subscribe, ping): JSON, so untyped by nature.
JsonMessage = dict[str, Any]

log = logging.getLogger("windvane.streams")

BINANCE_SOURCE = "binance_futures_ws"
BYBIT_SOURCE = "bybit_ws"
BYBIT_LINEAR_PATH = "/v5/public/linear"
# Bybit drops a connection that sends nothing for a while; its docs ask for a ping about every 20 seconds.
BYBIT_PING_EVERY_S = 20.0
BYBIT_PING = {"op": "ping"}


class SubscriptionRefused(BadPayloadError):
    """The venue answered the subscription with an error: listening longer will not help."""


@dataclass(frozen=True, slots=True)
class LiquidationEvent:
    venue: str  # "binance" or "bybit"
    symbol: str  # the venue's symbol, e.g. BTCUSDT
    time: datetime  # when the liquidation order traded (UTC)
    long: bool  # True: a long position was force-closed
    usd: float  # base quantity x price (USDT counted as USD)


def symbol(asset: str) -> str:
    """The USDT-margined perpetual both venues name the same way."""
    return f"{asset.upper()}USDT"


def binance_path(asset: str) -> str:
    """Raw-stream path under the base (default `wss://fstream.binance.com/market`, where Binance moved the
    regular market streams in 2026; a base of `wss://fstream.binance.com` gives the pre-2026 address)."""
    return f"/ws/{symbol(asset).lower()}@forceOrder"


def bybit_subscribe(assets: list[str]) -> JsonMessage:
    return {"op": "subscribe", "args": [f"allLiquidation.{symbol(a)}" for a in assets]}


def _load(source: str, raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadPayloadError(source, f"malformed JSON message ({type(exc).__name__})") from None


def parse_binance_force_order(raw: str | bytes) -> list[LiquidationEvent]:
    """One `forceOrder` event; `S=SELL` closes a long. USD = original quantity x average price.

    Replies to control requests (`{"result": null, "id": 1}`) carry no event and give [].
    """
    msg = expect_dict(BINANCE_SOURCE, _load(BINANCE_SOURCE, raw), "message")
    if msg.get("e") != "forceOrder":
        if "id" in msg and "result" in msg:
            return []
        raise BadPayloadError(BINANCE_SOURCE, f"unexpected event type {str(msg.get('e'))[:40]!r}")
    order = parsing.field(BINANCE_SOURCE, msg, "o", "message", expect_dict)
    side = order.get("S")
    if side not in ("SELL", "BUY"):
        raise BadPayloadError(BINANCE_SOURCE, f"o.S: expected SELL or BUY, got {str(side)[:20]!r}")
    sym = order.get("s")
    if not isinstance(sym, str) or not sym:
        raise BadPayloadError(BINANCE_SOURCE, "o.s: missing symbol")
    qty = parsing.field(BINANCE_SOURCE, order, "q", "o", num_text)
    price = parsing.field(BINANCE_SOURCE, order, "ap", "o", num_text)
    when = parsing.field(BINANCE_SOURCE, order, "T", "o", ms_json)
    return [LiquidationEvent("binance", sym, when, side == "SELL", qty * price)]


def parse_bybit_all_liquidation(raw: str | bytes) -> list[LiquidationEvent]:
    """An `allLiquidation.<symbol>` push (a batch); `S=Buy` means a long was liquidated, `p` is the bankruptcy price.

    Operation replies (subscribe acknowledgements, pongs) carry `op` and no topic, and give [].
    """
    msg = expect_dict(BYBIT_SOURCE, _load(BYBIT_SOURCE, raw), "message")
    topic = msg.get("topic")
    if topic is None and "op" in msg:
        if msg.get("success") is False:
            raise SubscriptionRefused(BYBIT_SOURCE, f"{msg.get('op')} refused: {str(msg.get('ret_msg'))[:80]}")
        return []
    if not isinstance(topic, str) or not topic.startswith("allLiquidation."):
        raise BadPayloadError(BYBIT_SOURCE, f"unexpected topic {str(topic)[:60]!r}")
    events = []
    for i, item in enumerate(parsing.field(BYBIT_SOURCE, msg, "data", "message", expect_list)):
        where = f"data[{i}]"
        row = expect_dict(BYBIT_SOURCE, item, where)
        side = row.get("S")
        if side not in ("Buy", "Sell"):
            raise BadPayloadError(BYBIT_SOURCE, f"data[{i}].S: expected Buy or Sell, got {str(side)[:20]!r}")
        sym = row.get("s")
        if not isinstance(sym, str) or not sym:
            raise BadPayloadError(BYBIT_SOURCE, f"data[{i}].s: missing symbol")
        qty = parsing.field(BYBIT_SOURCE, row, "v", where, num_text)
        price = parsing.field(BYBIT_SOURCE, row, "p", where, num_text)
        when = parsing.field(BYBIT_SOURCE, row, "T", where, ms_json)
        events.append(LiquidationEvent("bybit", sym, when, side == "Buy", qty * price))
    return events


@dataclass
class StreamRun:
    """What one `listen` call saw. `live` holds the spans during which the subscription was up."""

    url: str
    messages: int = 0
    events: int = 0
    bad_messages: int = 0
    connects: int = 0
    drops: int = 0
    live: list[tuple[datetime, datetime]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the latest MAX_ERRORS only
    gave_up: str | None = None  # set when retrying is pointless (geo-block, refused subscription, bad URL)

    def error(self, text: str) -> None:
        self.errors = [*self.errors[-(MAX_ERRORS - 1) :], text]


MAX_ERRORS = 20


def _now() -> datetime:
    return datetime.now(UTC)


def _safe_url(url: str) -> str:
    """scheme://host/path only: a query could hold a token some proxy needs."""
    return url.split("?", 1)[0]


async def listen(
    url: str,
    subscribe_msg: JsonMessage | None,
    duration_s: float,
    on_event: Callable[[LiquidationEvent], None],
    *,
    parse: Callable[[str | bytes], list[LiquidationEvent]],
    ping_msg: JsonMessage | None = None,
    ping_every_s: float = BYBIT_PING_EVERY_S,
    clock: Callable[[], datetime] = _now,
    stop: anyio.Event | None = None,
    open_timeout_s: float = 10.0,
    max_backoff_s: float = 30.0,
) -> StreamRun:
    """Listen on `url` for `duration_s` seconds (or until `stop` is set), reconnecting on drops with backoff.

    Every parsed event goes to `on_event`. A message that fails to parse is skipped and counted, never fatal.
    Handshake refusals that retrying cannot fix (HTTP 451/403, a bad URL) end the run early with `gave_up` set.
    """
    listener = _Listener(
        url, subscribe_msg, on_event, parse, ping_msg, ping_every_s, clock, stop, open_timeout_s, max_backoff_s
    )
    return await listener.run(anyio.current_time() + duration_s)


class _Listener:
    """One `listen` call: its connection loop, and the StreamRun it fills."""

    def __init__(
        self,
        url: str,
        subscribe_msg: JsonMessage | None,
        on_event: Callable[[LiquidationEvent], None],
        parse: Callable[[str | bytes], list[LiquidationEvent]],
        ping_msg: JsonMessage | None,
        ping_every_s: float,
        clock: Callable[[], datetime],
        stop: anyio.Event | None,
        open_timeout_s: float,
        max_backoff_s: float,
    ) -> None:
        self.url, self.subscribe_msg, self.on_event, self.parse = url, subscribe_msg, on_event, parse
        self.ping_msg, self.ping_every_s, self.clock, self.stop = ping_msg, ping_every_s, clock, stop
        self.open_timeout_s, self.max_backoff_s = open_timeout_s, max_backoff_s
        self.result = StreamRun(url=_safe_url(url))
        self.deadline = 0.0

    def remaining(self) -> float:
        return max(0.0, self.deadline - anyio.current_time())

    def done(self) -> bool:
        stopped = self.stop is not None and self.stop.is_set()
        return self.remaining() <= 0 or stopped or self.result.gave_up is not None

    async def run(self, deadline: float) -> StreamRun:
        self.deadline = deadline
        backoff = 0.5
        while not self.done():
            if await self.session():
                backoff = 0.5  # it was up: reconnect quickly, then back off again if it keeps failing
            if self.done():
                break
            with anyio.move_on_after(min(backoff, self.remaining())):
                if self.stop is None:
                    await anyio.sleep_forever()
                else:
                    await self.stop.wait()
            backoff = min(backoff * 2, self.max_backoff_s)
        if self.result.gave_up:
            log.warning("%s: stopped listening: %s", self.result.url, self.result.gave_up)
        return self.result

    def handle(self, raw: str | bytes) -> None:
        run = self.result
        run.messages += 1
        try:
            events = self.parse(raw)
        except BadPayloadError as exc:
            run.bad_messages += 1
            log.warning("%s: skipped a bad message (%d so far): %s", run.url, run.bad_messages, exc.message)
            if isinstance(exc, SubscriptionRefused):
                run.gave_up = exc.message
            return
        for event in events:
            run.events += 1
            self.on_event(event)

    async def pinger(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        text = json.dumps(self.ping_msg)
        while True:
            await anyio.sleep(self.ping_every_s)
            try:
                await ws.send(text)
            except ConnectionClosed:
                return

    async def read(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                self.handle(raw)
                if self.result.gave_up:
                    return
        except ConnectionClosed as exc:
            self.result.error(f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})")

    async def connect(self) -> Any | None:
        """An open connection, or None (with the reason recorded) when the handshake failed."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

        run = self.result
        try:
            return await connect(
                self.url, open_timeout=max(0.001, min(self.open_timeout_s, self.remaining())), close_timeout=2
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            run.error(f"handshake refused (HTTP {status})")
            if status in (403, 451):
                run.gave_up = f"HTTP {status} (geo-blocked or refused)"
        except InvalidURI as exc:
            run.gave_up = f"invalid URL ({exc.msg})"
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            run.error(f"connect failed ({type(exc).__name__})")
        return None

    async def session(self) -> bool:
        """One connection, until the deadline, `stop`, or a drop. True if it went live."""
        from websockets.exceptions import ConnectionClosed

        ws = await self.connect()
        if ws is None:
            return False
        run = self.result
        run.connects += 1
        try:
            if self.subscribe_msg is not None:
                await ws.send(json.dumps(self.subscribe_msg))
            started = self.clock()
            with anyio.move_on_after(self.remaining()):
                async with anyio.create_task_group() as tg:
                    if self.ping_msg is not None:
                        tg.start_soon(self.pinger, ws)
                    if self.stop is not None:
                        tg.start_soon(_cancel_when_set, self.stop, tg.cancel_scope)
                    await self.read(ws)
                    tg.cancel_scope.cancel()
            run.live.append((started, self.clock()))
        except ConnectionClosed as exc:
            run.error(f"connection closed while subscribing ({exc.rcvd.code if exc.rcvd else 'no frame'})")
        finally:
            await ws.close()
        if not self.done():
            run.drops += 1
        return True


async def _cancel_when_set(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()
