"""The one at-or-before reader of the history store: the value of a series in force at an instant.

Sources that report only "now" (exchange balances, book depth, market cap, odds) have a past only where windvane
recorded it, so a question about `at` is answered from the newest observation at or before `at`, no older than
`max_age`; with `known_at`, only what had been learned by then (a snapshot fetched later is never lent to an
earlier date). Without one the answer is unavailable, with the reason: today's value is never borrowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store.base import Observation, SeriesKey, Store, StoreError


@dataclass(frozen=True)
class AsOfValue:
    observation: Observation | None
    reason: str | None  # why there is no value; None when `observation` is set


async def as_of_value(
    store: Store | None, key: SeriesKey, at: datetime, *, max_age: timedelta, known_at: datetime | None
) -> AsOfValue:
    """The recorded value of `key` in force at `at`, or None with the reason."""
    if store is None:
        return AsOfValue(None, f"{key.label()} reports only the present and no history store is configured")
    try:
        found = await store.latest(key, at, known_at=known_at)
    except StoreError as exc:
        return AsOfValue(None, f"{key.label()}: the history store failed ({exc})")
    if found is None:
        return AsOfValue(
            None,
            f"{key.label()} reports only the present and windvane has no record at or before "
            f"{at:%Y-%m-%dT%H:%M:%SZ} (run `windvane collect` to build one)",
        )
    if at - found.ts > max_age:
        return AsOfValue(
            None,
            f"{key.label()}: the newest record before {at:%Y-%m-%dT%H:%M:%SZ} is from "
            f"{found.ts:%Y-%m-%dT%H:%M:%SZ}, older than {max_age}",
        )
    return AsOfValue(found, None)
