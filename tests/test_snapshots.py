"""Now-only sources: recorded on fetch, read back as of a past time, never borrowed from a later record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fetchers.http import Fetched
from store.base import SeriesKey
from store.sqlite import SqliteStore
from tools.history.at_or_before import as_of_value, record

pytestmark = pytest.mark.anyio

KEY = SeriesKey("coinglass", "exchange_balance_btc", "BTC", "binance")
DAY = datetime(2025, 11, 20, 12, tzinfo=UTC)


def fetched(at: datetime) -> Fetched[float]:
    return Fetched(value=0.0, source="coinglass", endpoint="https://example.test/x", fetched_at=at)


async def test_a_past_date_before_any_record_is_unavailable_with_a_reason(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    assert await record(store, KEY, 580_000.0, fetched(DAY))  # today's value exists...
    past = await as_of_value(store, KEY, DAY - timedelta(days=3), max_age=timedelta(days=2))
    assert past.observation is None  # ...but is never lent to a date before it was seen
    assert past.reason is not None
    assert "no record" in past.reason
    await store.close()


async def test_the_record_in_force_at_as_of_is_used_and_later_ones_ignored(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    for hours, value in ((0, 1.0), (24, 2.0), (48, 3.0)):
        await record(store, KEY, value, fetched(DAY + timedelta(hours=hours)))
    got = await as_of_value(store, KEY, DAY + timedelta(hours=30), max_age=timedelta(days=2))
    assert got.observation is not None
    assert got.observation.value == 2.0
    stale = await as_of_value(store, KEY, DAY + timedelta(days=10), max_age=timedelta(days=2))
    assert stale.observation is None
    assert stale.reason is not None
    assert "older than" in stale.reason
    await store.close()


async def test_missing_values_are_not_recorded(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    assert not await record(store, KEY, None, fetched(DAY))
    assert not await record(store, KEY, float("nan"), fetched(DAY))
    assert not await record(None, KEY, 1.0, fetched(DAY))
    assert await store.read(KEY) == []
    await store.close()
