"""Kalshi public market data (keyless): the KXFEDDECISION series, one event per FOMC meeting.

GET /trade-api/v2/markets?series_ticker=KXFEDDECISION&status=open&limit=200 returns `markets[]`; each market is one
outcome of a meeting, its ticker `KXFEDDECISION-25DEC-C25` ending in H0 (hold), H25 / H26 (hike 25 bp / more than
25 bp) or C25 / C26 (cut 25 bp / more than 25 bp). Prices are dollar strings (`yes_bid_dollars` "0.1200" = 12 %);
older payloads sent integer cents (`yes_bid` 12), which are still accepted. `previous_*` fields are the same prices
a day earlier. In the dollar format every price, the event ticker, `yes_sub_title` and `close_time` are required: a
renamed field is an error, never a missing price.
GET /trade-api/v2/events?...&with_nested_markets=true carries the same markets inside `events[]`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import (
    expect_dict,
    expect_list,
    field,
    integer,
    num_text,
    optional,
    string,
    text,
    upstream_message,
)
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


PRICES = ("yes_bid", "yes_ask", "last_price", "previous_yes_bid", "previous_yes_ask", "previous_price")


def _dollar_price(market: dict[str, Any], name: str, ticker: str) -> float:
    """A dollar price (0..1) from `<name>_dollars`, a string such as "0.1200"."""
    return field(SOURCE, market, f"{name}_dollars", ticker, num_text)


def _legacy_price(market: dict[str, Any], name: str, ticker: str) -> float | None:
    """Legacy integer cents `<name>`; None when absent (older payloads did not always carry every price)."""
    cents = optional(SOURCE, market, name, ticker, integer)
    return None if cents is None else cents / 100


def _time(source: str, value: Any, what: str) -> datetime:
    raw = text(source, value, what)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadPayloadError(source, f"{what}: {raw[:40]!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise BadPayloadError(source, f"{what}: {raw[:40]!r} has no time zone")
    return parsed.astimezone(UTC)


def _outcome(market: dict[str, Any], i: int) -> FedOutcome | None:
    ticker = market.get("ticker")
    if not isinstance(ticker, str) or not ticker:
        raise BadPayloadError(SOURCE, f"market {i}: missing ticker")
    bracket = bracket_of(ticker)
    if bracket is None:
        return None
    suffix = ticker.rsplit("-", 1)[-1]
    if not any(f"{name}_dollars" in market for name in PRICES):
        # The older integer-cents format, read as before: whatever prices it carries.
        event = market.get("event_ticker")
        bid, ask, last, prev_bid, prev_ask, prev = (_legacy_price(market, name, ticker) for name in PRICES)
        event = market.get("event_ticker")
        event = event if isinstance(event, str) and event else ticker.rsplit("-", 1)[0]
        label = str(market.get("yes_sub_title") or market.get("subtitle") or suffix)
        closes = None if market.get("close_time") is None else _time(SOURCE, market["close_time"], ticker)
    else:
        # The current format carries every price as a dollar string, the event, the label and the close time.
        bid, ask, last, prev_bid, prev_ask, prev = (_dollar_price(market, name, ticker) for name in PRICES)
        event = field(SOURCE, market, "event_ticker", ticker, text)
        label = field(SOURCE, market, "yes_sub_title", ticker, string) or suffix
        closes = field(SOURCE, market, "close_time", ticker, _time)
    return FedOutcome(
        ticker=ticker,
        event=event,
        bracket=bracket[0],
        bp=bracket[1],
        label=label,
        yes_bid=bid,
        yes_ask=ask,
        last_price=last,
        previous_yes_bid=prev_bid,
        previous_yes_ask=prev_ask,
        previous_price=prev,
        close_time=closes,
    )


def _outcomes(markets: list[Any]) -> list[FedOutcome]:
    rows = []
    for i, market in enumerate(markets):
        outcome = _outcome(expect_dict(SOURCE, market, f"market {i}"), i)
        if outcome is not None:
            rows.append(outcome)
    return rows


def _body(response: httpx.Response, what: str) -> dict[str, Any]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), what)
    error = body.get("error")
    if error:
        # Kalshi's error shape: {"error": {"code": "...", "message": "...", "service": "..."}}.
        described = error.get("message") or error.get("code") if isinstance(error, dict) else error
        raise BadPayloadError(SOURCE, f"error: {upstream_message(described)}")
    return body


def parse_markets(response: httpx.Response) -> list[FedOutcome]:
    """Fed-decision outcomes of a /markets page; markets whose ticker has no H/C suffix are left out."""
    body = _body(response, "markets response")
    return _outcomes(field(SOURCE, body, "markets", "markets response", expect_list))


def parse_events(response: httpx.Response) -> list[FedOutcome]:
    """The same from /events?with_nested_markets=true."""
    body = _body(response, "events response")
    rows: list[FedOutcome] = []
    for i, raw in enumerate(field(SOURCE, body, "events", "events response", expect_list)):
        event = expect_dict(SOURCE, raw, f"event {i}")
        rows.extend(_outcomes(field(SOURCE, event, "markets", f"event {i}", expect_list)))
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
