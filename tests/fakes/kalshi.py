"""Fake Kalshi: KXFEDDECISION markets hand-built in the exact format of a real /trade-api/v2/markets capture.

The real captures in shared/payloads/kalshi are not Fed markets, so each Fed market here starts as a copy of a real
market object (every key and value type as Kalshi sends them) with the ticker, titles and prices replaced.
Prices are test inputs chosen to exercise the probability rule (tight spread -> mid, wide -> last price), not market
history. `MARKETS` can be edited by a test.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import PAYLOADS

REAL_MARKETS = PAYLOADS / "kalshi" / "kalshi_v2_markets_limit3_2026-07-25.json"
REAL_EVENTS = PAYLOADS / "kalshi" / "kalshi_v2_events_with_nested_markets_limit2_2026-07.json"


@cache
def template() -> dict[str, Any]:
    return dict(json.loads(REAL_MARKETS.read_text())["markets"][0])


def _d(value: float) -> str:
    return f"{value:.4f}"


def fed_market(
    event: str,
    suffix: str,
    subtitle: str,
    bid: float,
    ask: float,
    last: float,
    prev: tuple[float, float, float] | None = None,
    close_time: str = "2025-12-10T18:55:00Z",
) -> dict[str, Any]:
    market = copy.deepcopy(template())
    market.pop("floor_strike", None)
    market.pop("strike_type", None)
    pb, pa, pl = prev if prev is not None else (bid, ask, last)
    market.update(
        ticker=f"{event}-{suffix}",
        event_ticker=event,
        title="Fed decision in Dec 2025?",
        subtitle=subtitle,
        yes_sub_title=subtitle,
        no_sub_title=subtitle,
        close_time=close_time,
        yes_bid_dollars=_d(bid),
        yes_ask_dollars=_d(ask),
        no_bid_dollars=_d(1 - ask),
        no_ask_dollars=_d(1 - bid),
        last_price_dollars=_d(last),
        previous_yes_bid_dollars=_d(pb),
        previous_yes_ask_dollars=_d(pa),
        previous_price_dollars=_d(pl),
    )
    return market


def default_markets() -> list[dict[str, Any]]:
    dec, jan = "KXFEDDECISION-25DEC", "KXFEDDECISION-26JAN"
    return [
        fed_market(dec, "H0", "Fed maintains rate", 0.30, 0.32, 0.31, (0.55, 0.57, 0.56)),
        fed_market(dec, "C25", "Cut 25bps", 0.68, 0.70, 0.69, (0.42, 0.44, 0.43)),
        fed_market(dec, "C26", "Cut >25bps", 0.00, 0.02, 0.01, (0.00, 0.02, 0.01)),
        fed_market(dec, "H25", "Hike 25bps", 0.00, 0.01, 0.01),
        fed_market(dec, "H26", "Hike >25bps", 0.00, 0.01, 0.00),
        fed_market(jan, "H0", "Fed maintains rate", 0.50, 0.54, 0.52, close_time="2026-01-28T18:55:00Z"),
        # A wide book (spread 0.20): the last price, not the mid, is the probability.
        fed_market(jan, "C25", "Cut 25bps", 0.30, 0.50, 0.41, close_time="2026-01-28T18:55:00Z"),
        fed_market(jan, "C26", "Cut >25bps", 0.01, 0.03, 0.02, close_time="2026-01-28T18:55:00Z"),
    ]


MARKETS: list[dict[str, Any]] = default_markets()


def handler(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if path == "/trade-api/v2/markets":
        rows = [m for m in MARKETS if m["event_ticker"].startswith(params.get("series_ticker", "") + "-")]
        if params.get("status") == "open":
            rows = [m for m in rows if m["status"] == "active"]
        return httpx.Response(200, json={"cursor": "", "markets": rows[: int(params.get("limit", 100))]})
    if path == "/trade-api/v2/events":
        return httpx.Response(200, content=REAL_EVENTS.read_bytes(), headers={"content-type": "application/json"})
    return httpx.Response(404, json={"error": {"code": "not_found", "message": "not found"}})


def register(fake: FakeUpstream) -> None:
    fake.handlers.update(kalshi=handler)
