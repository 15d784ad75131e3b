"""The history store interface: typed observations keyed by series and timestamp.

A series is (source, metric, asset, venue) where venue is also used for a fund ticker or an exchange name.
`fetched_at` is kept beside every value so an `as_of` read can exclude what was only known later.
SQLite is the embedded default (`store.sqlite.SqliteStore`); a shared backend implements the same Protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SeriesKey:
    source: str
    metric: str
    asset: str
    venue: str = ""

    def label(self) -> str:
        return "/".join(p for p in (self.source, self.metric, self.asset, self.venue) if p)


@dataclass(frozen=True, slots=True)
class Observation:
    key: SeriesKey
    ts: datetime  # UTC: the time the value describes (bar open, trading day, snapshot time)
    value: float
    fetched_at: datetime  # UTC: when windvane learned it


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    key: SeriesKey
    first_ts: datetime
    last_ts: datetime
    rows: int


class Store(Protocol):
    async def upsert(self, observations: Sequence[Observation]) -> int:
        """Insert or replace by (series, ts). Returns the number of rows written."""
        ...

    async def read(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Observation]:
        """Rows with start <= ts <= end, ascending; with `known_at`, only rows fetched at or before it."""
        ...

    async def latest(
        self, key: SeriesKey, at_or_before: datetime, *, known_at: datetime | None = None
    ) -> Observation | None: ...

    async def summary(self, source: str | None = None) -> list[SeriesSummary]: ...

    async def close(self) -> None: ...
