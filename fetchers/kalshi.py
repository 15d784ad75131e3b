"""Kalshi public market data (keyless): the KXFEDDECISION series, one event per FOMC meeting.

GET /trade-api/v2/markets?series_ticker=KXFEDDECISION&status=open&limit=200 returns `markets[]`; each market is one
outcome of a meeting, its ticker `KXFEDDECISION-25DEC-C25` ending in H0 (hold), H25 / H26 (hike 25 bp / more than
25 bp) or C25 / C26 (cut 25 bp / more than 25 bp). Prices are dollar strings (`yes_bid_dollars` "0.1200" = 12 %);
older payloads sent integer cents (`yes_bid` 12), which are still accepted. `previous_*` fields are the same prices
a day earlier. GET /trade-api/v2/events?...&with_nested_markets=true carries the same markets inside `events[]`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, num
from schemas.macro_rows import FedOutcome

SOURCE = "kalshi"
FED_SERIES = "KXFEDDECISION"
_SUFFIX = re.compile(r"^([HC])(\d{1,3})$")
_EVENT = re.compile(r"-(\d{2})(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def bracket_of(ticker: str) -> tuple[str, int] | None:
    """('hold', 0), ('cut', -25), ('cut', -26) = more than 25 bp, ('hike', 25) ... from a market ticker's suffix."""
    match = _SUFFIX.match(ticker.rsplit("-", 1)[-1])
    if match is None:
        return None
    kind, size = match.group(1), int(match.group(2))
    if size == 0:
        return ("hold", 0) if kind == "H" else None
    return ("hike", size) if kind == "H" else ("cut", -size)


def event_month(event_ticker: str) -> tuple[int, int] | None:
    """(year, month) of the meeting an event ticker such as KXFEDDECISION-25DEC covers."""
    match = _EVENT.search(event_ticker)
    if match is None:
        return None
    return 2000 + int(match.group(1)), _MONTHS.index(match.group(2)) + 1


def _price(market: dict[str, Any], name: str, ticker: str) -> float | None:
    """A dollar price (0..1) from `<name>_dollars`, or from legacy integer cents `<name>`; None when absent."""
    raw = market.get(f"{name}_dollars")
    if raw is not None and raw != "":
        return num(SOURCE, raw, f"{ticker} {name}_dollars")
    cents = market.get(name)
    if cents is not None and cents != "":
        return num(SOURCE, cents, f"{ticker} {name}") / 100
    return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _outcome(market: dict[str, Any], i: int) -> FedOutcome | None:
    ticker = market.get("ticker")
    if not isinstance(ticker, str) or not ticker:
        raise BadPayloadError(SOURCE, f"market {i}: missing ticker")
    bracket = bracket_of(ticker)
    if bracket is None:
        return None
    event = market.get("event_ticker")
    return FedOutcome(
        ticker=ticker,
        event=event if isinstance(event, str) and event else ticker.rsplit("-", 1)[0],
        bracket=bracket[0],
        bp=bracket[1],
        label=str(market.get("yes_sub_title") or market.get("subtitle") or ticker.rsplit("-", 1)[-1]),
        yes_bid=_price(market, "yes_bid", ticker),
        yes_ask=_price(market, "yes_ask", ticker),
        last_price=_price(market, "last_price", ticker),
        previous_yes_bid=_price(market, "previous_yes_bid", ticker),
        previous_yes_ask=_price(market, "previous_yes_ask", ticker),
        previous_price=_price(market, "previous_price", ticker),
        close_time=_time(market.get("close_time")),
    )


def _outcomes(markets: list[Any]) -> list[FedOutcome]:
    rows = []
    for i, market in enumerate(markets):
        outcome = _outcome(expect_dict(SOURCE, market, f"market {i}"), i)
        if outcome is not None:
            rows.append(outcome)
    return rows


def parse_markets(response: httpx.Response) -> list[FedOutcome]:
    """Fed-decision outcomes of a /markets page; markets whose ticker has no H/C suffix are left out."""
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "markets response")
    return _outcomes(expect_list(SOURCE, body.get("markets"), "markets"))


def parse_events(response: httpx.Response) -> list[FedOutcome]:
    """The same from /events?with_nested_markets=true."""
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "events response")
    rows: list[FedOutcome] = []
    for i, event in enumerate(expect_list(SOURCE, body.get("events"), "events")):
        event = expect_dict(SOURCE, event, f"event {i}")
        rows.extend(_outcomes(expect_list(SOURCE, event.get("markets", []), f"event {i} markets")))
    return rows


async def fetch_fed_outcomes(http: Http) -> Fetched[list[FedOutcome]]:
    """Every open KXFEDDECISION outcome (all upcoming meetings); odds move by the minute, so cache briefly."""
    return await http.get(
        SOURCE,
        "/trade-api/v2/markets",
        parse_markets,
        params={"series_ticker": FED_SERIES, "status": "open", "limit": 200},
        ttl_s=120.0,
    )
