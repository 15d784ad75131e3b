"""The default backtest history: every indicator tool replayed with `as_of`, over the user's history store.

Each tool answers an `as_of` question from its history endpoints and from what `windvane collect`/`backfill` stored
(the store is read with `known_at`, so nothing learned later leaks in). Closes come from Coinbase daily candles.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fetchers import coinbase
from tools.args import Asset
from tools.assess.gather import gather_inputs
from tools.assess.scoring import ScoringInputs
from tools.deps import Deps
from tools.point_in_time import PointInTime


class ToolReplayProvider:
    def __init__(self, deps: Deps, asset: Asset = "BTC") -> None:
        self.deps = deps
        self.asset = asset
        self.name = f"{asset} indicator tools replayed with as_of over the history store"

    async def inputs_at(self, day: date) -> ScoringInputs:
        got = await gather_inputs(self.deps, self.asset, PointInTime.parse(day.isoformat(), self.deps.clock()))
        return got.inputs

    async def closes(self, start: date, end: date) -> dict[date, float]:
        now = self.deps.clock()
        last = min(end, now.date() - timedelta(days=1))
        if last < start:
            return {}
        rows, _ = await coinbase.fetch_candles(
            self.deps.http,
            f"{self.asset}-USD",
            "1d",
            datetime.combine(start, time.min, UTC),
            datetime.combine(last, time.min, UTC),
            closed_by=now,
        )
        return {c.open_time.date(): c.close for c in rows if c.closed}
