"""Fake DefiLlama `GET /protocol/<slug>` for the CEX pages windvane reads, in the response's exact shape.

The shape follows DefiLlama's server code (see fetchers/defillama.py for where each part was read): the protocol's
metadata, then `chainTvls` ({chain: {tvl: [{date, totalLiquidityUSD}], tokensInUsd: [{date, tokens}], tokens:
[{date, tokens}]}}), then the aggregated `tvl`, `tokensInUsd`, `tokens`, then `chains`, `currentChainTvls`, `raises`,
`mcap`. Dates are unix seconds at 00:00 UTC, one row per day, plus the latest hourly reading last; amounts are
rounded to 5 decimals. An Ethereum chain comes before Bitcoin, so a parser has to skip it.

Each page is generated from a compact description:
- `first_day` and `gaps`: the first day and the missing days of DefiLlama's own series for the slug, as the shared
  DefiLlama net inflows (../shared/data/06_*/defillama_cex_net_inflows_usd_by_exchange_daily.csv) show them
  (tests/test_defillama_fake.py checks both against that file);
- `anchors`: **test inputs**, not recorded balances: BTC held at a few instants, linear in between. Their direction
  over 2025-10-27..2025-11-24 follows the sign of DefiLlama's net inflows in that file (every one of the ten
  exchanges had net outflows then).
- the US$ columns value BTC at the Coinbase daily close of the day before (../shared/data/02_*), and the Ethereum
  chain's USDT/WETH amounts are constant test inputs.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import coinbase_daily

LAST_DAY = date(2025, 11, 26)  # the frozen test clock's day; the latest hourly reading is at 11:00 UTC
LATEST = datetime(2025, 11, 26, 11, 0, tzinfo=UTC)
ETHEREUM_TOKENS = {"USDT": 1_250_000_000.0, "WETH": 310_000.0}  # test inputs (constant)


@dataclass(frozen=True)
class Page:
    slug: str
    name: str
    first_day: str
    gaps: tuple[tuple[str, str], ...]  # inclusive ranges of days with no row
    anchors: tuple[tuple[str, float], ...]  # (ISO instant, BTC): test inputs, linear in between


def _p(slug: str, name: str, first: str, gaps: tuple[tuple[str, str], ...], *values: float) -> Page:
    """Anchors at the first day, the ends the tests read, 2025-11-26 and the latest reading."""
    moments = ("2025-01-01", "2025-10-01", "2025-11-01", "2025-11-25", "2025-11-26", LATEST.isoformat())
    if first > "2025-01-01":  # Gemini: DefiLlama's series starts in July 2025
        moments = moments[1:]
    return Page(slug, name, first, gaps, ((first, values[0]), *zip(moments, values[1:], strict=True)))


def _g(*days: str) -> tuple[tuple[str, str], ...]:
    return tuple((d, d) for d in days)


PAGES: dict[str, Page] = {
    p.slug: p
    for p in (
        _p("binance-cex", "Binance CEX", "2022-11-13", _g("2024-04-28", "2024-12-07"),
           480_000, 560_000, 610_000, 600_000, 585_000, 585_500, 585_420.5),
        _p("okx", "OKX", "2022-11-12", (("2022-11-13", "2022-12-21"), *_g("2024-03-23", "2024-04-28", "2024-12-07")),
           90_000, 140_000, 132_000, 131_000, 128_000, 128_100, 128_090.25),
        _p("bybit", "Bybit", "2022-11-17", _g("2024-04-28", "2024-12-07"),
           40_000, 80_000, 95_000, 94_000, 90_000, 90_050, 90_040),
        _p("bitfinex", "Bitfinex", "2022-11-12", (*_g("2024-04-28"), ("2024-12-07", "2024-12-08")),
           180_000, 420_000, 415_000, 414_000, 410_000, 410_010, 410_000.12345),
        _p("robinhood", "Robinhood", "2023-11-02", (),
           100_000, 150_000, 148_000, 147_000, 143_000, 143_020, 143_010),
        _p("gemini", "Gemini", "2025-07-25", (),
           160_000, 158_000, 157_000, 155_000, 155_010, 155_005),
        _p("gate", "Gate", "2022-11-29", (*_g("2024-04-28", "2024-12-07"), ("2025-04-10", "2025-04-12"),
                                          *_g("2025-06-27")),
           20_000, 40_000, 45_000, 44_500, 43_000, 43_010, 43_004),
        _p("htx", "HTX", "2022-11-19", (*_g("2023-10-25"), ("2023-10-28", "2023-10-29"),
                                        *_g("2024-04-28", "2024-12-07", "2025-06-27")),
           30_000, 45_000, 47_000, 46_800, 46_000, 46_004, 46_001),
        _p("crypto-com", "Crypto.com", "2022-11-13", (),
           50_000, 60_000, 52_000, 51_500, 50_500, 50_510, 50_505),
        _p("bitget", "Bitget", "2022-12-13", _g("2024-04-28", "2024-12-07"),
           10_000, 25_000, 30_000, 29_800, 29_000, 29_002, 29_001),
    )
}  # fmt: skip


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def btc_at(slug: str, moment: datetime) -> float:
    """The page's BTC at `moment`: linear between its anchors, rounded to 5 decimals as DefiLlama rounds."""
    anchors = [(_instant(t), v) for t, v in PAGES[slug].anchors]
    times = [t for t, _ in anchors]
    i = bisect_right(times, moment)
    if i == 0:
        raise ValueError(f"{slug}: {moment} is before the first anchor")
    if i == len(anchors):
        return round(anchors[-1][1], 5)
    (t0, v0), (t1, v1) = anchors[i - 1], anchors[i]
    return round(v0 + (v1 - v0) * (moment - t0) / (t1 - t0), 5)


def reading_times(slug: str) -> list[datetime]:
    """00:00 UTC of every day from first_day to LAST_DAY but the gaps, then the latest hourly reading."""
    page = PAGES[slug]
    missing = set()
    for lo, hi in page.gaps:
        day = date.fromisoformat(lo)
        while day <= date.fromisoformat(hi):
            missing.add(day)
            day += timedelta(days=1)
    day, out = date.fromisoformat(page.first_day), []
    while day <= LAST_DAY:
        if day not in missing:
            out.append(datetime(day.year, day.month, day.day, tzinfo=UTC))
        day += timedelta(days=1)
    return [*out, LATEST]


def _price(moment: datetime) -> float:
    bars = coinbase_daily()
    prior = int((moment - timedelta(days=1)).replace(hour=0, minute=0).timestamp())
    return bars[prior][3] if prior in bars else bars[max(bars)][3]


def payload(slug: str, *, extra_ethereum_tokens: int = 0) -> dict[str, Any]:
    """The page as DefiLlama serves it. `extra_ethereum_tokens` pads the Ethereum chain (the bench's large page)."""
    page = PAGES[slug]
    eth = dict(ETHEREUM_TOKENS) | {f"TOKEN{i}": 1000.0 + i for i in range(extra_ethereum_tokens)}
    rows = []
    for moment in reading_times(slug):
        btc, price, stamp = btc_at(slug, moment), _price(moment), int(moment.timestamp())
        rows.append((stamp, btc, round(btc * price, 5)))
    eth_usd = {"USDT": ETHEREUM_TOKENS["USDT"], "WETH": round(ETHEREUM_TOKENS["WETH"] * 3000.0, 5)}  # test input

    def chain(tokens: list[dict[str, Any]], usd: list[dict[str, Any]]) -> dict[str, Any]:
        tvl = [{"date": r["date"], "totalLiquidityUSD": int(sum(r["tokens"].values()))} for r in usd]
        return {"tvl": tvl, "tokensInUsd": usd, "tokens": tokens}

    ethereum = chain(
        [{"date": s, "tokens": eth} for s, _, _ in rows], [{"date": s, "tokens": eth_usd} for s, _, _ in rows]
    )
    bitcoin = chain(
        [{"date": s, "tokens": {"BTC": b}} for s, b, _ in rows], [{"date": s, "tokens": {"BTC": u}} for s, _, u in rows]
    )
    total = chain(
        [{"date": s, "tokens": {**eth, "BTC": b}} for s, b, _ in rows],
        [{"date": s, "tokens": {**eth_usd, "BTC": u}} for s, _, u in rows],
    )
    last_usd = rows[-1][2]
    return {
        "id": "2269" if slug == "binance-cex" else f"fake-{slug}",
        "name": page.name,
        "address": None,
        "symbol": "-",
        "url": f"https://example.invalid/{slug}",
        "description": f"{page.name} (test double)",
        "chain": "Multi-Chain",
        "logo": f"https://icons.llama.fi/{slug}.jpg",
        "audits": "0",
        "gecko_id": None,
        "cmcId": None,
        "category": "CEX",
        "module": f"{slug}/index.js",
        "twitter": None,
        "chainTvls": {"Ethereum": ethereum, "Bitcoin": bitcoin},
        "tvl": total["tvl"],
        "tokensInUsd": total["tokensInUsd"],
        "tokens": total["tokens"],
        "chains": ["Ethereum", "Bitcoin"],
        "currentChainTvls": {"Ethereum": float(sum(eth_usd.values())), "Bitcoin": last_usd},
        "raises": [],
        "mcap": None,
        "metrics": {},
    }


@cache
def body(slug: str) -> bytes:
    return json.dumps(payload(slug), separators=(",", ":")).encode()


def handle(request: httpx.Request, path: str) -> httpx.Response:
    if not path.startswith("/protocol/"):
        return httpx.Response(404, text="Not Found")
    slug = path.removeprefix("/protocol/").lower()  # DefiLlama sluggifies the name: case does not matter
    if slug not in PAGES:
        return httpx.Response(400, json={"message": "Protocol not found"})
    return httpx.Response(200, content=body(slug), headers={"content-type": "application/json"})


def register(fake: FakeUpstream) -> None:
    fake.handlers["defillama"] = handle
