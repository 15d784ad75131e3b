"""Polymarket Gamma API (keyless): the fallback source for Fed-decision odds.

GET /events?slug=fed-decision-in-december returns a JSON array of events, each with `markets[]`. Inside a market,
`outcomes`, `outcomePrices` and `clobTokenIds` are JSON-encoded STRINGS inside the JSON (`"[\"Yes\", \"No\"]"`), so
they are decoded a second time and checked to line up. A Fed-decision event has one market per bracket, named by
`groupItemTitle`: "50+ bps decrease", "25 bps decrease", "No change", "25+ bps increase".
`bestBid`/`bestAsk`/`lastTradePrice` are the Yes token's prices; `oneDayPriceChange` its change over a day.

Price history (source `polymarket_clob`): GET https://clob.polymarket.com/prices-history?market=<Yes token id>
&interval=max&fidelity=1440 returns `{"history": [{"t": <unix s>, "p": 0.65}, ...]}`, used for past `as_of` odds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import (
    expect_dict,
    expect_list,
    field,
    flag,
    num_json,
    num_text,
    optional,
    require,
    s_json,
    string,
    text,
    upstream_message,
)
from schemas.macro_rows import FedOutcome

SOURCE = "polymarket"
CLOB_SOURCE = "polymarket_clob"
_BPS = re.compile(r"(\d+)\s*\+?\s*bps?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PolyMarket:
    slug: str
    question: str
    group_title: str
    outcomes: tuple[str, ...]
    outcome_prices: tuple[float, ...]
    clob_token_ids: tuple[str, ...]
    best_bid: float | None
    best_ask: float | None
    last_trade_price: float | None
    one_day_price_change: float | None
    active: bool
    closed: bool
    end_date: datetime | None

    def yes_token(self) -> str | None:
        for name, token in zip(self.outcomes, self.clob_token_ids, strict=False):
            if name.strip().lower() == "yes":
                return token
        return None

    def yes_price(self) -> float | None:
        for name, price in zip(self.outcomes, self.outcome_prices, strict=False):
            if name.strip().lower() == "yes":
                return price
        return None


@dataclass(frozen=True, slots=True)
class PolyEvent:
    slug: str
    title: str
    end_date: datetime | None
    closed: bool
    markets: tuple[PolyMarket, ...]


def _json_list(value: Any, what: str) -> list[Any]:
    """A list that Gamma sends JSON-encoded inside a string (an already decoded list is a changed format)."""
    if not isinstance(value, str):
        raise BadPayloadError(SOURCE, f"{what}: expected a JSON-encoded list string, got {type(value).__name__}")
    try:
        decoded = json.loads(value)
    except json.JSONDecodeError:
        raise BadPayloadError(SOURCE, f"{what}: not valid JSON inside the string") from None
    return expect_list(SOURCE, decoded, what)


def _time(source: str, value: Any, what: str) -> datetime:
    raw = text(source, value, what)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadPayloadError(source, f"{what}: {raw[:40]!r} is not an ISO-8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _present(raw: dict[str, Any], key: str) -> Any:
    """An optional JSON-encoded list: absent or null is no list ("[]"); anything else must decode."""
    value = raw.get(key)
    return "[]" if value is None else value


def _strings(values: list[Any], what: str) -> tuple[str, ...]:
    return tuple(text(SOURCE, v, f"{what}[{i}]") for i, v in enumerate(values))


def _market(raw: dict[str, Any], where: str) -> PolyMarket:
    slug = field(SOURCE, raw, "slug", where, text)
    outcomes = _strings(_json_list(field(SOURCE, raw, "outcomes", slug), f"{slug} outcomes"), f"{slug} outcomes")
    # A market not yet deployed (active false) comes without outcomePrices and clobTokenIds: it is unpriced.
    raw_prices = _json_list(_present(raw, "outcomePrices"), f"{slug} outcomePrices")
    prices = tuple(num_text(SOURCE, p, f"{slug} outcomePrices[{i}]") for i, p in enumerate(raw_prices))
    tokens = _strings(_json_list(_present(raw, "clobTokenIds"), f"{slug} clobTokenIds"), f"{slug} clobTokenIds")
    if (prices and len(prices) != len(outcomes)) or (tokens and len(tokens) != len(outcomes)):
        raise BadPayloadError(
            SOURCE, f"{slug}: {len(outcomes)} outcomes, {len(prices)} prices, {len(tokens)} token ids do not line up"
        )
    # Quotes are absent on markets that never traded (bestBid is often missing): None then, never zero.
    return PolyMarket(
        slug=slug,
        question=field(SOURCE, raw, "question", slug, string),
        group_title=optional(SOURCE, raw, "groupItemTitle", slug, string) or "",
        outcomes=outcomes,
        outcome_prices=prices,
        clob_token_ids=tokens,
        best_bid=optional(SOURCE, raw, "bestBid", slug, num_json),
        best_ask=optional(SOURCE, raw, "bestAsk", slug, num_json),
        last_trade_price=optional(SOURCE, raw, "lastTradePrice", slug, num_json),
        one_day_price_change=optional(SOURCE, raw, "oneDayPriceChange", slug, num_json),
        active=field(SOURCE, raw, "active", slug, flag),
        closed=field(SOURCE, raw, "closed", slug, flag),
        end_date=optional(SOURCE, raw, "endDate", slug, _time),
    )


def _body(response: httpx.Response) -> list[Any]:
    body = decode_json(response, SOURCE)
    if isinstance(body, dict) and "error" in body:
        raise BadPayloadError(SOURCE, f"error: {upstream_message(body['error'])}")
    return expect_list(SOURCE, body, "events")


def parse_events(response: httpx.Response) -> list[PolyEvent]:
    events = []
    for i, raw_event in enumerate(_body(response)):
        where = f"event {i}"
        raw = expect_dict(SOURCE, raw_event, where)
        markets = tuple(
            _market(expect_dict(SOURCE, m, f"{where} market {j}"), f"{where} market {j}")
            for j, m in enumerate(field(SOURCE, raw, "markets", where, expect_list))
        )
        events.append(
            PolyEvent(
                slug=field(SOURCE, raw, "slug", where, text),
                title=field(SOURCE, raw, "title", where, string),
                end_date=optional(SOURCE, raw, "endDate", where, _time),
                closed=field(SOURCE, raw, "closed", where, flag),
                markets=markets,
            )
        )
    return events


def bracket_of(title: str) -> tuple[str, int] | None:
    """('cut', -25), ('cut', -26) for "50+ bps decrease" (more than 25 bp), ('hold', 0), ('hike', 25) ..."""
    text = title.strip().lower()
    if "no change" in text:
        return ("hold", 0)
    match = _BPS.search(text)
    if match is None:
        return None
    # Brackets above 25 bp are open-ended ("50+ bps decrease"): coded 26 = "more than 25 bp", as Kalshi's C26.
    size = min(int(match.group(1)), 26)
    if "decrease" in text or "cut" in text:
        return ("cut", -size)
    if "increase" in text or "hike" in text:
        return ("hike", size)
    return None


def fed_outcomes(event: PolyEvent, *, include_closed: bool = False) -> list[FedOutcome]:
    """The markets of a Fed-decision event as outcomes (open ones only unless `include_closed`, for history);
    markets that name no bracket are left out."""
    rows = []
    for market in event.markets:
        if market.closed and not include_closed:
            continue
        bracket = bracket_of(market.group_title or market.question)
        if bracket is None:
            continue
        last = market.last_trade_price if market.last_trade_price is not None else market.yes_price()
        previous = None
        if market.last_trade_price is not None and market.one_day_price_change is not None:
            previous = market.last_trade_price - market.one_day_price_change
        rows.append(
            FedOutcome(
                ticker=market.slug,
                event=event.slug,
                bracket=bracket[0],
                bp=bracket[1],
                label=market.group_title or market.question,
                yes_bid=market.best_bid,
                yes_ask=market.best_ask,
                last_price=last,
                previous_price=previous,
                close_time=market.end_date,
                token_id=market.yes_token(),
            )
        )
    return rows


async def fetch_events(http: Http, slug: str) -> Fetched[list[PolyEvent]]:
    return await http.get(SOURCE, "/events", parse_events, params={"slug": slug}, ttl_s=120.0)


def parse_price_history(response: httpx.Response) -> list[tuple[datetime, float]]:
    """(time, price 0..1) points, oldest first."""
    body = expect_dict(CLOB_SOURCE, decode_json(response, CLOB_SOURCE), "prices-history response")
    if "error" in body and "history" not in body:
        raise BadPayloadError(CLOB_SOURCE, f"error: {upstream_message(body['error'])}")
    points = []
    for i, raw in enumerate(field(CLOB_SOURCE, body, "history", "response", expect_list)):
        where = f"history {i}"
        point = expect_dict(CLOB_SOURCE, raw, where)
        require(CLOB_SOURCE, point, ("t", "p"), where)
        price = field(CLOB_SOURCE, point, "p", where, num_json)
        if not 0 <= price <= 1:
            raise BadPayloadError(CLOB_SOURCE, f"history {i}: price {price} is outside 0..1")
        points.append((field(CLOB_SOURCE, point, "t", where, s_json), price))
    return sorted(points)


async def fetch_price_history(http: Http, token_id: str) -> Fetched[list[tuple[datetime, float]]]:
    """The Yes token's daily price history; an hour's cache is plenty for daily points."""
    return await http.get(
        CLOB_SOURCE,
        "/prices-history",
        parse_price_history,
        params={"market": token_id, "interval": "max", "fidelity": 1440},
        ttl_s=3600.0,
    )
