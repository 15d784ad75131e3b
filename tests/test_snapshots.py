"""Now-only sources: read back as of a past time from the store, never borrowed from a later record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.base import Observation, SeriesKey
from store.sqlite import SqliteStore
from tools.history.at_or_before import as_of_value

pytestmark = pytest.mark.anyio

KEY = SeriesKey("coinglass", "exchange_balance_btc", "BTC", "binance")
DAY = datetime(2025, 11, 20, 12, tzinfo=UTC)


async def record(store: SqliteStore, value: float, at: datetime, fetched_at: datetime | None = None) -> None:
    await store.upsert([Observation(KEY, at, value, fetched_at or at)])


async def test_a_past_date_before_any_record_is_unavailable_with_a_reason(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    await record(store, 580_000.0, DAY)  # today's value exists...
    at = DAY - timedelta(days=3)
    past = await as_of_value(store, KEY, at, max_age=timedelta(days=2), known_at=at)
    assert past.observation is None  # ...but is never lent to a date before it was seen
    assert past.reason is not None
    assert "no record" in past.reason
    await store.close()


async def test_the_record_in_force_at_as_of_is_used_and_later_ones_ignored(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    for hours, value in ((0, 1.0), (24, 2.0), (48, 3.0)):
        await record(store, value, DAY + timedelta(hours=hours))
    at = DAY + timedelta(hours=30)
    got = await as_of_value(store, KEY, at, max_age=timedelta(days=2), known_at=at)
    assert got.observation is not None
    assert got.observation.value == 2.0
    later = DAY + timedelta(days=10)
    stale = await as_of_value(store, KEY, later, max_age=timedelta(days=2), known_at=later)
    assert stale.observation is None
    assert stale.reason is not None
    assert "older than" in stale.reason
    await store.close()


async def test_a_value_learned_after_as_of_is_not_used_when_known_at_is_set(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    # describes DAY, but windvane only learned it a day later (a backfilled or late snapshot)
    await record(store, 7.0, DAY, fetched_at=DAY + timedelta(days=1))
    at = DAY + timedelta(hours=1)
    as_known = await as_of_value(store, KEY, at, max_age=timedelta(days=2), known_at=at)
    assert as_known.observation is None
    assert as_known.reason is not None
    unbounded = await as_of_value(store, KEY, at, max_age=timedelta(days=2), known_at=None)
    assert unbounded.observation is not None
    assert unbounded.observation.value == 7.0
    await store.close()


async def test_no_store_is_a_reason_not_a_value() -> None:
    got = await as_of_value(None, KEY, DAY, max_age=timedelta(days=2), known_at=DAY)
    assert got.observation is None
    assert got.reason is not None
    assert "no history store is configured" in got.reason
