"""Order-book payloads shared by every venue: both sides are lists of rows starting [price, size, ...].

Each venue declares every column of its level rows (Binance [price, qty]; Coinbase [price, size, num-orders]; Kraken
[price, volume, timestamp]; OKX [price, size, "0", orders]); a row with any other length is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fetchers.parsing import Check, expect_list, field, row
from schemas.derivatives import BookLevel, OrderBook

Level = Sequence[tuple[str, Check]]  # columns 0 and 1 must check to the price and the size (floats)


def book_side(source: str, container: Mapping[str, Any], key: str, columns: Level) -> tuple[BookLevel, ...]:
    rows = []
    for i, raw in enumerate(field(source, container, key, "book", expect_list)):
        values = row(source, raw, f"{key} {i}", columns)
        rows.append(BookLevel(values[0], values[1]))
    return tuple(rows)


def order_book(
    source: str, container: Mapping[str, Any], *, columns: Level, time: datetime | None, limit: int | None
) -> OrderBook:
    """Both sides, best first. With `limit`, a side that returned `limit` rows may hold more: flagged truncated."""
    bids = book_side(source, container, "bids", columns)
    asks = book_side(source, container, "asks", columns)
    return OrderBook(
        bids=tuple(sorted(bids, key=lambda lv: -lv.price)),
        asks=tuple(sorted(asks, key=lambda lv: lv.price)),
        time=time,
        truncated=limit is not None and max(len(bids), len(asks)) >= limit,
    )
