"""Recording and point-in-time reading of "now"-only sources (exchange balances, book depth, market cap, odds...).

Such a source has no history endpoint: its past exists only if windvane recorded it. So every successful fetch is
written to the store (`record`), and an `as_of` question is answered from the record (`as_of_value`): the newest
observation taken at or before `as_of`, no older than `max_age`. Without one the answer is unavailable, with the
reason; today's value is never borrowed for a past date.

The observation's `ts` is the time the snapshot describes (the venue's own time when it sends one, else the fetch
time) and `fetched_at` the fetch time; reads use both bounds, so nothing learnt after `as_of` can leak in.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fetchers.http import Fetched
from store.base import Observation, SeriesKey, Store, StoreError

log = logging.getLogger("windvane.snapshots")


@dataclass(frozen=True)
class AsOfValue:
    observation: Observation | None
    reason: str | None  # why there is no value; None when `observation` is set


async def record(
    store: Store | None, key: SeriesKey, value: float | None, fetched: Fetched[Any], ts: datetime | None = None
) -> bool:
    """Write one snapshot. Never raises: a store problem must not cost the live answer. True when written."""
    if store is None or value is None or not math.isfinite(value):
        return False
    try:
        await store.upsert([Observation(key, ts or fetched.fetched_at, float(value), fetched.fetched_at)])
    except (StoreError, ValueError) as exc:
        log.warning("could not record %s: %s", key.label(), exc)
        return False
    return True


async def as_of_value(store: Store | None, key: SeriesKey, as_of: datetime, *, max_age: timedelta) -> AsOfValue:
    """The recorded value of `key` as known at `as_of`, or None with the reason."""
    if store is None:
        return AsOfValue(None, f"{key.label()} reports only the present and no history store is configured")
    try:
        found = await store.latest(key, as_of, known_at=as_of)
    except StoreError as exc:
        return AsOfValue(None, f"{key.label()}: the history store failed ({exc})")
    if found is None:
        return AsOfValue(
            None,
            f"{key.label()} reports only the present and windvane has no record at or before "
            f"{as_of:%Y-%m-%dT%H:%M:%SZ} (run `windvane collect` to build one)",
        )
    if as_of - found.ts > max_age:
        return AsOfValue(
            None,
            f"{key.label()}: the newest record before {as_of:%Y-%m-%dT%H:%M:%SZ} is from "
            f"{found.ts:%Y-%m-%dT%H:%M:%SZ}, older than {max_age}",
        )
    return AsOfValue(found, None)
