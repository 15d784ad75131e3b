"""Example arguments per tool, for the e2e clients and the fuzz test.

Everything iterates over what tools/list returns; this table only says which arguments are valid or invalid for a
tool it knows, and what a correct answer must contain. A tool not listed here gets the generic example: every tool
accepts `as_of`, so `as_of='2025-11-24'` is valid and `as_of='yesterday'` is a tool error naming the ISO format.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.data import DATA, binance_daily, coinbase_daily, day_ts

Check = Callable[[dict[str, Any]], list[str]]
AS_OF = "2025-11-24"


def check_common(out: dict[str, Any]) -> list[str]:
    """The contract's fields every tool result carries."""
    problems = [f"missing {name}" for name in ("as_of", "sources", "warnings") if name not in out]
    for source in out.get("sources", []):
        for name in ("name", "endpoint", "fetched_at", "stale", "age_seconds"):
            if name not in source:
                problems.append(f"source {source.get('name')} lacks {name}")
        if "?" in str(source.get("endpoint")):
            problems.append(f"endpoint carries a query: {source.get('endpoint')}")
    return problems


def _close(a: object, b: float, tol: float = 1e-6) -> bool:
    return isinstance(a, int | float) and abs(float(a) - b) <= tol


def check_premium(out: dict[str, Any]) -> list[str]:
    """Real numbers: Coinbase and Binance daily closes for 2025-11-24 from ../shared/data."""
    problems = check_common(out)
    cb = coinbase_daily()[day_ts(AS_OF)][3]
    ref = float(binance_daily()[day_ts(AS_OF) * 1000][4])
    cur = out.get("current", {})
    expect = {
        "coinbase_price": cb,
        "reference_price": ref,
        "premium_usd": cb - ref,
        "premium_pct": 100 * (cb / ref - 1),
    }
    for name, value in expect.items():
        if not _close(cur.get(name), value):
            problems.append(f"current.{name}={cur.get(name)!r}, expected {value:.6f}")
    if cur.get("reference_venue") != "binance":
        problems.append(f"reference_venue={cur.get('reference_venue')!r}")
    # The default summary: the latest 5 of the 30 daily bars, the 25 before them counted in `omitted`.
    history = out.get("history", [])
    if len(history) != 5 or not str(history[-1].get("ts", "")).startswith(AS_OF):
        problems.append("history is not the latest 5 daily bars ending 2025-11-24")
    if out.get("omitted", {}).get("history") != 25:
        problems.append(f"omitted={out.get('omitted')!r}, expected 25 history bars left out")
    streak = out.get("streak", {})
    # Coinbase closed below Binance every day from 2025-10-30 to 2025-11-24 (shared/data/README.md).
    if (streak.get("sign"), streak.get("days"), streak.get("since")) != ("negative", 26, "2025-10-30"):
        problems.append(f"streak={streak!r}")
    return problems


def _fields(out: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    """The contract's minimum fields (shared/contract.md): present, even when null."""
    return [f"missing {name}" for name in names if name not in out]


def _nulls_explained(out: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    """A null figure must come with a reason in `warnings` (never a silent gap)."""
    nulls = [name for name in names if out.get(name) is None]
    return [f"{nulls} null with no warning"] if nulls and not out.get("warnings") else []


def _csv_value(path: str, column: str, day: str) -> float:
    with (DATA / path).open() as fh:
        for row in csv.DictReader(fh):
            if row.get("date", row.get("observation_date")) == day:
                return float(row[column])
    raise KeyError(day)


def check_etf(out: dict[str, Any]) -> list[str]:
    """Farside's daily totals for 2025-10-16 (-530.9 M USD) and 2025-11-24 (-151.0 M USD) from ../shared/data."""
    names = (
        "days",
        "month_to_date_usd",
        "month_to_date_by_fund_usd",
        "record_monthly_outflow",
        "record_monthly_inflow",
        "streak",
        "largest_fund",
        "outflow_below_100m",
        "price_impact_estimate_pct",
    )
    problems = check_common(out) + _fields(out, names)
    by_day = {d["date"]: d for d in out.get("days", [])}
    for day in ("2025-10-16", "2025-11-24"):
        expected = 1e6 * _csv_value("01_us_spot_btc_etf_flows_farside/farside_btc_etf_flows_daily.csv", "Total", day)
        got = by_day.get(day, {}).get("total_usd")
        if not _close(got, expected, tol=1.0):
            problems.append(f"{day} total_usd={got!r}, expected {expected}")
    if any(d["date"] > AS_OF for d in out.get("days", [])):
        problems.append("a day after as_of leaked in")
    return problems


def check_macro(out: dict[str, Any]) -> list[str]:
    """FRED's S&P 500 and Nasdaq closes for 2025-11-24 from ../shared/data."""
    names = ("indices", "fed", "btc_nasdaq", "btc_drawdown_from_high_pct", "crypto_market_cap", "halving")
    problems = check_common(out) + _fields(out, names)
    by_symbol = {i.get("symbol"): i for i in out.get("indices", [])}
    for symbol, path in (("SP500", "fred_sp500_daily.csv"), ("NASDAQCOM", "fred_nasdaqcom_daily.csv")):
        expected = _csv_value(f"09_us_equity_indices/{path}", symbol, AS_OF)
        got = by_symbol.get(symbol, {})
        if not _close(got.get("close"), expected, tol=1e-6) or got.get("date") != AS_OF:
            problems.append(f"{symbol}={got!r}, expected close {expected} on {AS_OF}")
    return problems + _nulls_explained(out, ("btc_drawdown_from_high_pct",))


def check_leverage(out: dict[str, Any]) -> list[str]:
    """Funding normalised across venues' intervals (the 2x error users report), and OI summed over venues."""
    problems = check_common(out) + _fields(out, ("liquidations", "open_interest", "funding", "order_book"))
    for row in out.get("funding", []):
        rate, hours = row.get("rate_pct"), row.get("interval_hours")
        if isinstance(rate, int | float) and isinstance(hours, int | float):
            if not _close(row.get("rate_8h_pct"), rate * 8 / hours, tol=1e-6):
                problems.append(f"rate_8h_pct not normalised: {row!r}")
            if not _close(row.get("annualized_pct"), rate * 24 / hours * 365, tol=1e-4):
                problems.append(f"annualized_pct wrong: {row!r}")
    oi = out.get("open_interest") or {}
    venues = [v["usd"] for v in oi.get("by_venue") or [] if isinstance(v.get("usd"), int | float)]
    if venues and not oi.get("partial") and not _close(oi.get("usd"), sum(venues), tol=1.0):
        problems.append(f"open_interest.usd {oi.get('usd')} != sum of venues {sum(venues)}")
    return problems


def check_reserves(out: dict[str, Any]) -> list[str]:
    names = ("total_btc", "change_btc", "change_pct", "by_exchange", "coverage")
    return check_common(out) + _fields(out, names) + _nulls_explained(out, ("total_btc", "change_btc", "change_pct"))


@dataclass(frozen=True)
class Example:
    valid: dict[str, Any]
    # (arguments, a phrase the error must contain so the model can fix its call)
    invalid: list[tuple[dict[str, Any], str]]
    check: Check = check_common
    extra_valid: list[dict[str, Any]] = field(default_factory=list)


GENERIC = Example(valid={"as_of": AS_OF}, invalid=[({"as_of": "yesterday"}, "ISO")])

EXAMPLES: dict[str, Example] = {
    "get_coinbase_premium": Example(
        valid={"as_of": AS_OF, "days": 30},
        invalid=[
            ({"asset": "DOGE"}, "BTC"),
            ({"days": 0}, "greater than or equal to 1"),
            ({"as_of": "yesterday"}, "ISO"),
        ],
        check=check_premium,
    ),
    "get_etf_flows": Example(
        valid={"as_of": AS_OF, "days": 30, "detail": "full"},  # every day: the check reads 2025-10-16
        invalid=[
            ({"days": 400}, "less than or equal to 365"),
            ({"asset": "SOL"}, "BTC"),
            ({"as_of": "yesterday"}, "ISO"),
        ],
        check=check_etf,
    ),
    "get_macro_backdrop": Example(
        valid={"as_of": AS_OF}, invalid=[({"as_of": "2031-01-01"}, "in the future")], check=check_macro
    ),
    "get_leverage_state": Example(
        valid={"as_of": AS_OF},
        invalid=[({"asset": "DOGE"}, "BTC"), ({"as_of": "yesterday"}, "ISO")],
        check=check_leverage,
    ),
    "exchange_reserve_trend": Example(
        valid={"as_of": AS_OF},
        invalid=[({"window_days": 0}, "greater than or equal to 1"), ({"as_of": "yesterday"}, "ISO")],
        check=check_reserves,
    ),
}

# Prompt name -> arguments for prompts/get.
PROMPT_ARGS: dict[str, dict[str, str]] = {"market_brief": {"asset": "BTC"}}


def example_for(tool: str) -> Example:
    return EXAMPLES.get(tool, GENERIC)
