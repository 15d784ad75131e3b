"""What an import file is, read from its content: which asset an ETF flow table covers, in which units, and which
layout and bar size a candle file has. A flag that contradicts the content is refused, never obeyed: the issue
this answers was the real Farside ETH table written over BTC's totals because `--asset` defaulted to BTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from fetchers.sosovalue import FUNDS
from schemas.market import INTERVAL_SECONDS

DETECT = "detect"
# A US spot fund's daily flow has never come near US$10bn; a table with larger cells is not in US$ millions (the
# Artemis and DefiLlama exports of the same flows are in US$).
MAX_DAILY_FLOW_USD_M = 10_000.0
# Farside rounds each cell to 0.1 US$m: a Total further from its funds' sum than this is a misread table.
TOTAL_TOLERANCE_USD_M = 0.5


class ImportMismatchError(ValueError):
    """The file's content contradicts the flags (or cannot be identified): nothing is written."""


def fund_assets(tickers: Iterable[str]) -> dict[str, list[str]]:
    """Asset -> the header's tickers that are that asset's US spot funds."""
    found: dict[str, list[str]] = {}
    for ticker in tickers:
        for asset, funds in FUNDS.items():
            if ticker.upper() in funds:
                found.setdefault(asset, []).append(ticker.upper())
    return found


def etf_asset(name: str, tickers: Sequence[str], flag: str) -> tuple[str, str]:
    """The table's asset and how it was known ("detected from ..." or "from --asset ..."), or a refusal."""
    found = fund_assets(tickers)
    if len(found) > 1:
        mixed = "; ".join(f"{asset} funds {', '.join(t)}" for asset, t in sorted(found.items()))
        raise ImportMismatchError(f"{name}: the table mixes {mixed}; split it into one table per asset")
    if not found:
        if flag == DETECT:
            raise ImportMismatchError(
                f"{name}: no known US spot fund among the tickers {', '.join(tickers[:6])}: cannot tell the asset; "
                "pass --asset BTC|ETH"
            )
        return flag, f"from --asset {flag} (no ticker is a known fund)"
    asset, known = next(iter(found.items()))
    if flag not in (DETECT, asset):
        raise ImportMismatchError(
            f"{name}: --asset {flag} but the table's funds are {asset} funds ({', '.join(known[:4])}); "
            f"drop --asset or pass --asset {asset}"
        )
    return asset, f"detected from its funds {', '.join(known[:4])}" + (", ..." if len(known) > 4 else "")


def check_units(name: str, line: int, column: str, value_usd_m: float) -> None:
    if abs(value_usd_m) > MAX_DAILY_FLOW_USD_M:
        raise ImportMismatchError(
            f"{name} line {line}: {column}={value_usd_m:,.0f} is not a daily flow in US$ millions (the table looks "
            "like US$); convert it to US$ millions (Farside's unit) first"
        )


def check_total(name: str, line: int, funds_usd_m: Sequence[float], total_usd_m: float | None) -> None:
    if total_usd_m is None or not funds_usd_m:
        return
    if abs(sum(funds_usd_m) - total_usd_m) > TOTAL_TOLERANCE_USD_M:
        raise ImportMismatchError(
            f"{name} line {line}: Total {total_usd_m:,.1f} is not the sum of the fund cells ({sum(funds_usd_m):,.1f}); "
            "the columns do not line up with the header"
        )


@dataclass(frozen=True)
class CandleLayout:
    name: str  # for the plan: "Coinbase export (timestamp,open,...)"
    venue: str | None  # the venue the layout belongs to, when it tells
    time_column: str


# data.binance.vision's USD-M futures dumps carry this header; spot dumps have none, and windvane's "binance" candle
# series is spot: perpetual bars imported as spot would stand for a different market.
_BINANCE_FUTURES = ("count", "taker_buy_volume", "taker_buy_quote_volume")


def candle_layout(name: str, header: Sequence[str], venue_flag: str) -> CandleLayout:
    """The layout of a candle file's header, checked against `--venue` (or taking the venue from it)."""
    if "open_time" in header and "close_time" in header:
        if all(c in header for c in _BINANCE_FUTURES):
            raise ImportMismatchError(
                f"{name}: the header is Binance USD-M futures' (count, taker_buy_volume): perpetual bars, not spot; "
                "windvane imports spot candles only"
            )
        layout = CandleLayout("Binance kline (open_time in unix ms)", "binance", "open_time")
    elif "timestamp" in header:
        layout = CandleLayout("Coinbase-style export (ISO timestamp)", "coinbase", "timestamp")
    else:
        column = next((c for c in ("open_time", "time", "date") if c in header), None)
        if column is None:
            raise ImportMismatchError(f"{name}: no time column (timestamp|open_time|time|date) in {list(header[:8])}")
        layout = CandleLayout(f"candles by {column}", None, column)
    if venue_flag == DETECT and layout.venue is None:
        raise ImportMismatchError(f"{name}: the layout does not tell the venue; pass --venue coinbase|binance")
    if venue_flag not in (DETECT, layout.venue) and layout.venue is not None:
        raise ImportMismatchError(
            f"{name}: --venue {venue_flag} but the file is a {layout.name} ({layout.venue}); "
            f"drop --venue or pass --venue {layout.venue}"
        )
    return layout


def bar_interval(name: str, opens: Sequence[datetime], flag: str) -> str:
    """The bar size from the spacing of the bar opens (the smallest gap), checked against `--interval`."""
    ordered = sorted(set(opens))
    gaps = [int((b - a).total_seconds()) for a, b in pairwise(ordered)]
    if not gaps:
        if flag == DETECT:
            raise ImportMismatchError(f"{name}: fewer than two bars, the bar size cannot be told; pass --interval")
        return flag
    step = min(gaps)
    found = next((label for label, seconds in INTERVAL_SECONDS.items() if seconds == step), None)
    supported = ("1d", "1h")
    if found not in supported:
        raise ImportMismatchError(
            f"{name}: its bars are {step // 3600}h apart; windvane stores {' or '.join(supported)} candles"
        )
    if flag not in (DETECT, found):
        raise ImportMismatchError(f"{name}: --interval {flag} but its bars are {found} apart; drop --interval")
    return found
