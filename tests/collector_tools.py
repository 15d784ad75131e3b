"""Stand-in tool modules for the `windvane collect` tests: one records a "now" value, one always fails."""

from __future__ import annotations

from store.base import Observation, SeriesKey
from tools.deps import Deps

KEY = SeriesKey("test", "snapshot", "BTC", "venue")


async def collect(deps: Deps) -> int:
    assert deps.store is not None
    now = deps.clock()
    return await deps.store.upsert([Observation(KEY, now, 42.0, now)])
