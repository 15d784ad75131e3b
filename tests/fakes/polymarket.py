"""Fake Polymarket Gamma API: a Fed-decision event hand-built in the exact format of a real /events capture.

The real capture (shared/payloads/polymarket) is a Kraken-IPO event; the Fed event here copies its event and market
objects and replaces slug, titles, dates and prices. `outcomes`, `outcomePrices` and `clobTokenIds` stay JSON
strings inside the JSON, as Gamma sends them. The CLOB's /prices-history serves daily points per Yes token in the
format of the real capture (`{"history": [{"t", "p"}]}`). Prices are test inputs, not market history.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import PAYLOADS

REAL_EVENTS = PAYLOADS / "polymarket" / "polymarket_gamma_events_limit2_2026-07.json"


@cache
def real_events() -> list[dict[str, Any]]:
    return list(json.loads(REAL_EVENTS.read_text()))


def fed_market(title: str, bid: float, ask: float, last: float, day_change: float, n: int) -> dict[str, Any]:
    market = copy.deepcopy(real_events()[0]["markets"][0])
    yes = round((bid + ask) / 2, 4)
    market.update(
        id=str(900000 + n),
        question=f"Fed {title} after December 2025 meeting?",
        slug=f"fed-{title.replace(' ', '-').replace('+', '')}-after-december-2025-meeting",
        groupItemTitle=title,
        endDate="2025-12-10T12:00:00Z",
        outcomes=json.dumps(["Yes", "No"]),
        outcomePrices=json.dumps([str(yes), str(round(1 - yes, 4))]),
        clobTokenIds=json.dumps([str(10**70 + 2 * n), str(10**70 + 2 * n + 1)]),
        bestBid=bid,
        bestAsk=ask,
        lastTradePrice=last,
        oneDayPriceChange=day_change,
        spread=round(ask - bid, 4),
        active=True,
        closed=False,
    )
    return market


def fed_event() -> dict[str, Any]:
    event = copy.deepcopy(real_events()[0])
    event.update(
        id="70001",
        ticker="fed-decision-in-december",
        slug="fed-decision-in-december",
        title="Fed decision in December?",
        endDate="2025-12-10T12:00:00Z",
        closed=False,
        markets=[
            fed_market("50+ bps decrease", 0.010, 0.012, 0.011, 0.0, 1),
            fed_market("25 bps decrease", 0.800, 0.810, 0.805, 0.35, 2),
            fed_market("No change", 0.180, 0.190, 0.185, -0.35, 3),
            fed_market("25+ bps increase", 0.002, 0.004, 0.003, 0.0, 4),
        ],
    )
    return event


def cut25_path(day: date) -> float:
    """Test input for the "25 bps decrease" Yes price: 0.95 until 2025-11-12, down to 0.30 on 11-20, 0.80 on 11-26."""
    if day <= date(2025, 11, 12):
        return 0.95
    if day <= date(2025, 11, 20):
        return round(0.95 - (day - date(2025, 11, 12)).days * (0.65 / 8), 4)
    return round(0.30 + (day - date(2025, 11, 20)).days * (0.50 / 6), 4)


def history_for(n: int) -> list[tuple[date, float]]:
    """Daily Yes prices of market n (1: 50+ bps decrease, 2: 25 bps decrease, 3: no change, 4: increase)."""
    days = [date(2025, 10, 1) + timedelta(days=i) for i in range((date(2025, 11, 26) - date(2025, 10, 1)).days + 1)]
    prices = {
        1: lambda d: 0.01,
        2: cut25_path,
        3: lambda d: round(0.99 - cut25_path(d) - 0.003, 4),
        4: lambda d: 0.003,
    }[n]
    return [(d, prices(d)) for d in days]


def clob(request: httpx.Request, path: str) -> httpx.Response:
    if path != "/prices-history":
        return httpx.Response(404, json={"error": "not found"})
    token = request.url.params.get("market", "")
    for n in (1, 2, 3, 4):
        if token == str(10**70 + 2 * n):
            points = [
                {"t": int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()), "p": p} for d, p in history_for(n)
            ]
            return httpx.Response(200, json={"history": points})
    return httpx.Response(400, json={"error": "invalid token id"})


def handler(request: httpx.Request, path: str) -> httpx.Response:
    if path != "/events":
        return httpx.Response(404, json={"error": "not found"})
    slug = request.url.params.get("slug")
    events = [fed_event()] if slug == "fed-decision-in-december" else []
    return httpx.Response(200, json=events)


def register(fake: FakeUpstream) -> None:
    fake.handlers.update(polymarket=handler, polymarket_clob=clob)
