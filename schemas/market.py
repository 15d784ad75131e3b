"""Typed rows that price fetchers produce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Candle:
    open_time: datetime  # UTC, bar open
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool = True  # False for a bar still forming


@dataclass(frozen=True, slots=True)
class Quote:
    price: float
    time: datetime | None  # the venue's own timestamp when it sends one


INTERVAL_SECONDS: dict[str, int] = {"1h": 3600, "1d": 86400}
