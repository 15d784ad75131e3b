"""Shared plumbing of the macro parts: the point in time, provenance, and the history store's snapshots.

Series written by the macro parts (SeriesKey(source, metric, asset, venue)):
- (coingecko|coinpaprika, total_market_cap_usd, ALL): total crypto market cap snapshots;
- (kalshi|polymarket, fed_cut_probability, FOMC, <decision day>): cut probability of that meeting;
- (mempool, tip_height, BTC): chain tip; (alternative_me, fear_greed, ALL): daily index value.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fetchers.http import Fetched
from store.base import Observation, SeriesKey
from tools.deps import Deps
from tools.macro.fomc import Meeting
from tools.point_in_time import PointInTime
from tools.provenance import Provenance

# A snapshot older than this does not stand for an as_of value.
SNAPSHOT_MAX_AGE = timedelta(days=2)
MCAP_METRIC = "total_market_cap_usd"
CUT_METRIC = "fed_cut_probability"
TIP_KEY = SeriesKey("mempool", "tip_height", "BTC", "")
FNG_KEY = SeriesKey("alternative_me", "fear_greed", "ALL", "")


def mcap_key(source: str) -> SeriesKey:
    return SeriesKey(source, MCAP_METRIC, "ALL", "")


def cut_key(source: str, meeting: Meeting) -> SeriesKey:
    return SeriesKey(source, CUT_METRIC, "FOMC", meeting.end.isoformat())


class Ctx:
    """What every part needs: deps, provenance, the point in time and whether it is 'now'."""

    def __init__(self, deps: Deps, pit: PointInTime) -> None:
        self.deps = deps
        self.prov = Provenance()
        self.now = pit.now
        # A live point may use sources that report only the present; a past one reads stored snapshots.
        self.live = pit.is_live
        self.at = pit.at
        self.bar_cutoff = pit.bar_cutoff
        self.today = self.now.date()
        self.rows_written = 0

    def observed(self, fetched: Fetched[Any]) -> datetime:
        """When the value was read, on the tool's clock (a cached or stale value is as old as its fetch)."""
        # Whole seconds: sub-second ages are timing noise and would split one snapshot into several store rows.
        return self.now - timedelta(seconds=round(fetched.age_seconds))

    async def store_write(self, observations: list[Observation]) -> None:
        if self.deps.store is None or not observations:
            return
        try:
            written = await self.deps.store.upsert(observations)
            self.rows_written += written  # not `+= await`: parts run concurrently and would lose counts
        except Exception as exc:  # a read-only or locked store must not break an answer
            self.prov.warn(f"could not record a snapshot in the history store ({type(exc).__name__})")

    async def stored_near(
        self, keys: list[SeriesKey], target: datetime, before: timedelta, after: timedelta
    ) -> Observation | None:
        """The stored snapshot closest to `target` within [target-before, target+after], known by `self.at`."""
        if self.deps.store is None:
            return None
        best: Observation | None = None
        for key in keys:
            rows = await self.deps.store.read(key, target - before, min(target + after, self.at), known_at=self.at)
            for row in rows:
                if best is None or abs(row.ts - target) < abs(best.ts - target):
                    best = row
        if best is not None:
            # A stored figure is cited like a fetched one: its series, when it was learned and how old it is.
            endpoint = f"windvane-store:{best.key.label()}"
            self.prov.add(Fetched.stored(best.value, best.key.source, endpoint, best.fetched_at, now=self.now))
        return best
