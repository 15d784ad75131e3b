"""The history store interface: typed observations keyed by series and timestamp.

A series is (source, metric, asset, venue) where venue is also used for a fund ticker or an exchange name.
`fetched_at` is kept beside every value so an `as_of` read can exclude what was only known later. Upsert replaces
a value, so a revisable series (a day later revised by its source) also records vintages: each distinct value of
(series, ts) with the time windvane first saw it, so a read can return what was known at a past instant.
SQLite is the embedded default (`store.sqlite.SqliteStore`); a shared backend implements the same Protocol.
`CoverageStore` adds which spans of a series are complete (read-through caches and resumable backfills use it);
callers check for it with isinstance and degrade to plain fetches without it. Failures raise `StoreError`.
Series names in use: closed candles in `tools.history.candle_store`, ETF flows in `tools.history.csv_import`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


class StoreError(Exception):
    """The store could not complete an operation (locked too long, disk full, corrupt file).

    Callers that only use the store as a cache (read-through fetchers) catch it and fall back to the upstream.
    """


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
class Vintage:
    """One value of (key, ts) as windvane first saw it; a later, different value is a later vintage."""

    key: SeriesKey
    ts: datetime  # UTC: the time the value describes
    value: float
    known_at: datetime  # UTC: the first fetch that returned this value


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    key: SeriesKey
    first_ts: datetime
    last_ts: datetime
    rows: int


class Store(Protocol):
    async def upsert(self, observations: Sequence[Observation], *, vintages: Sequence[Vintage] = ()) -> int:
        """Insert or replace by (series, ts). Returns the number of observation rows written.

        `vintages` are recorded in the same transaction: a vintage is stored only when its value differs from the
        one in force at its `known_at` (the latest earlier vintage of that series and ts), and a later vintage left
        repeating it is dropped, so each stored vintage is a value with the time it was first seen.
        """
        ...

    async def read_vintages(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Vintage]:
        """Vintages with start <= ts <= end, ascending by (ts, known_at); with `known_at`, per ts only the one in
        force then (the latest first seen at or before it). A ts with no vintage (stored before vintages were
        kept, or imported) is absent: only its final value exists, in `read`."""
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


@runtime_checkable
class CoverageStore(Store, Protocol):
    """A store that also remembers which time spans of a series are complete.

    A span [start, end) is "covered" when everything the upstream will ever publish for the series in it is stored,
    including "nothing": a closed range where a venue has no bars is covered and holds no rows. Read-through fetchers
    use it to skip the upstream, and backfills use it to resume where an interrupted run stopped.
    """

    async def add_coverage(self, key: SeriesKey, start: datetime, end: datetime) -> None:
        """Record [start, end) as complete; touching or overlapping spans are merged."""
        ...

    async def coverage(self, key: SeriesKey, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Covered spans of `key` that overlap [start, end), ascending, merged."""
        ...

    async def upsert_covered(
        self, observations: Sequence[Observation], coverage: Sequence[tuple[SeriesKey, datetime, datetime]]
    ) -> int:
        """`upsert(observations)` and `add_coverage` of each (key, start, end) in one transaction: a span is never
        recorded complete without its rows, nor half of an import left behind. Returns the rows written."""
        ...
