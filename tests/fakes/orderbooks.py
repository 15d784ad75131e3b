"""Built order books served in each venue's exact format: Coinbase level 2, Kraken Depth, OKX market/books.

The books are constructed (not recorded): evenly spaced levels of BASE_SIZE around BOOK_MID plus bid walls at the
round levels 85,000 and 80,000, so every depth figure can be recomputed from these constants. Each venue's reach
mirrors its API: Coinbase returns the whole book, Kraken at most 500 levels a side, OKX at most 400, Binance at
most 5,000 (here $1 apart, so about ±5.7%).
"""

from __future__ import annotations

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.routing import chain

BOOK_MID = 87_000.0
BASE_SIZE = 0.2
WALLS = {85_000.0: 3.0, 80_000.0: 5.0}
# venue -> (level spacing USD, levels per side the venue holds)
SHAPE = {"coinbase": (5.0, 2000), "kraken": (5.0, 2000), "okx": (2.0, 2000), "binance": (1.0, 6000)}
SERVED = {"coinbase": 2000, "kraken": 500, "okx": 400, "binance": 5000}


def book(venue: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(bids best first, asks best first) as (price, size) for `venue`, before any truncation."""
    spacing, count = SHAPE[venue]
    half = spacing / 2
    bids = {BOOK_MID - half - spacing * i: BASE_SIZE for i in range(count)}
    asks = [(BOOK_MID + half + spacing * i, BASE_SIZE) for i in range(count)]
    for price, size in WALLS.items():
        if price >= min(bids):
            bids[price] = bids.get(price, 0.0) + size
    return sorted(bids.items(), key=lambda kv: -kv[0]), asks


def served(venue: str, limit: int | None = None) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    n = SERVED[venue] if limit is None else min(limit, SERVED[venue])
    bids, asks = book(venue)
    return bids[:n], asks[:n]


def coinbase_book(request: httpx.Request, path: str) -> httpx.Response | None:
    if path != "/products/BTC-USD/book":
        return None
    if request.url.params.get("level") != "2":
        return httpx.Response(400, json={"message": "this fake serves level 2 only"})
    bids, asks = served("coinbase")
    return httpx.Response(
        200,
        json={
            "bids": [[f"{p:.2f}", f"{s:.8f}", 3] for p, s in bids],
            "asks": [[f"{p:.2f}", f"{s:.8f}", 2] for p, s in asks],
            "sequence": 11600460345,
            "auction_mode": False,
            "auction": None,
            "time": "2025-11-26T11:59:58.560851011Z",
        },
    )


def kraken_depth(request: httpx.Request, path: str) -> httpx.Response | None:
    if path != "/0/public/Depth":
        return None
    if request.url.params.get("pair") != "XBTUSD":
        return httpx.Response(200, json={"error": ["EQuery:Unknown asset pair"]})
    bids, asks = served("kraken", int(request.url.params.get("count", 100)))
    side = lambda rows: [[f"{p:.5f}", f"{s:.3f}", 1764158398] for p, s in rows]  # noqa: E731
    return httpx.Response(200, json={"error": [], "result": {"XXBTZUSD": {"asks": side(asks), "bids": side(bids)}}})


def okx_books(request: httpx.Request, path: str) -> httpx.Response | None:
    if path != "/api/v5/market/books":
        return None
    if request.url.params.get("instId") != "BTC-USDT":
        return httpx.Response(200, json={"code": "51001", "msg": "Instrument ID does not exist", "data": []})
    bids, asks = served("okx", int(request.url.params.get("sz", 1)))
    side = lambda rows: [[f"{p:.1f}", f"{s:.8f}", "0", "4"] for p, s in rows]  # noqa: E731
    return httpx.Response(
        200, json={"code": "0", "msg": "", "data": [{"asks": side(asks), "bids": side(bids), "ts": "1764158398000"}]}
    )


def binance_depth(request: httpx.Request, path: str) -> httpx.Response | None:
    if path != "/api/v3/depth":
        return None
    if request.url.params.get("symbol") != "BTCUSDT":
        return httpx.Response(400, json={"code": -1121, "msg": "Invalid symbol."})
    bids, asks = served("binance", int(request.url.params.get("limit", 100)))
    side = lambda rows: [[f"{p:.8f}", f"{s:.8f}"] for p, s in rows]  # noqa: E731
    return httpx.Response(200, json={"lastUpdateId": 14527958487, "bids": side(bids), "asks": side(asks)})


def register(fake: FakeUpstream) -> None:
    chain(fake, "coinbase", coinbase_book)
    chain(fake, "kraken", kraken_depth)
    chain(fake, "okx", okx_books)
    chain(fake, "binance", binance_depth)
