"""How observations and vintages become table rows, the same for every backend: times as integer UTC milliseconds,
values checked finite (a missing figure is absent, never NaN or 0)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from store.base import Observation, SeriesKey, Vintage

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)

ObservationRow = tuple[str, str, str, str, int, float, int]  # series, ts, value, fetched_at
VintageRow = tuple[str, str, str, str, int, int, float]  # series, ts, known_at, value


def to_ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("store timestamps must be timezone-aware (UTC)")
    # integer arithmetic: float timestamps can be off by one millisecond
    return (dt - EPOCH) // MS


def from_ms(ms: int) -> datetime:
    return EPOCH + ms * MS


def finite(key: SeriesKey, ts: datetime, value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        # the caller must skip a missing figure, not store it
        raise ValueError(f"{key.label()} at {ts.isoformat()}: value {value!r} is not a finite number")
    return number


def observation_rows(observations: Sequence[Observation]) -> list[ObservationRow]:
    return [
        (
            o.key.source,
            o.key.metric,
            o.key.asset,
            o.key.venue,
            to_ms(o.ts),
            finite(o.key, o.ts, o.value),
            to_ms(o.fetched_at),
        )
        for o in observations
    ]


def vintage_rows(vintages: Sequence[Vintage]) -> list[VintageRow]:
    stamps: dict[datetime, int] = {}  # a fetch's figures share a few days and one known_at: convert each once

    def ms(dt: datetime) -> int:
        if dt not in stamps:
            stamps[dt] = to_ms(dt)
        return stamps[dt]

    rows = [
        (k.source, k.metric, k.asset, k.venue, ms(v.ts), ms(v.known_at), finite(k, v.ts, v.value))
        for v in vintages
        for k in (v.key,)
    ]
    # oldest first, so each vintage is compared with the ones of the same batch seen before it
    return sorted(rows, key=lambda r: r[5])
