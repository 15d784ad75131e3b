"""Order-book payloads shared by every venue: both sides are lists of rows starting [price, size, ...]."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fetchers.errors import BadPayloadError
from fetchers.parsing import expect_list, num
from schemas.derivatives import BookLevel, OrderBook


def book_side(source: str, levels: object, key: str, expected_fields: int) -> tuple[BookLevel, ...]:
    rows = []
    for i, raw in enumerate(expect_list(source, levels, key)):
        row = expect_list(source, raw, f"{key} {i}")
        if len(row) < 2:
            raise BadPayloadError(source, f"{key} {i} has {len(row)} fields, expected {expected_fields}")
        rows.append(BookLevel(num(source, row[0], "price"), num(source, row[1], "size")))
    return tuple(rows)


def order_book(
    source: str, container: Mapping[str, Any], *, expected_fields: int, time: datetime | None, limit: int | None
) -> OrderBook:
    """Both sides, best first. With `limit`, a side that returned `limit` rows may hold more: flagged truncated."""
    bids = book_side(source, container.get("bids"), "bids", expected_fields)
    asks = book_side(source, container.get("asks"), "asks", expected_fields)
    return OrderBook(
        bids=tuple(sorted(bids, key=lambda lv: -lv.price)),
        asks=tuple(sorted(asks, key=lambda lv: lv.price)),
        time=time,
        truncated=limit is not None and max(len(bids), len(asks)) >= limit,
    )
