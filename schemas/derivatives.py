"""Typed rows that derivatives and order-book fetchers produce (venue units already converted where noted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FundingPoint:
    time: datetime  # the settlement time the rate applies to, as the venue sent it (ms jitter kept)
    rate: float  # a fraction per funding interval (0.0001 = 0.01% per interval)


@dataclass(frozen=True, slots=True)
class OpenInterestPoint:
    time: datetime
    usd: float | None  # notional in USD (USDT) when the venue sends it
    base: float | None = None  # size in the base asset (BTC) when the venue sends it


@dataclass(frozen=True, slots=True)
class Liquidation:
    time: datetime
    long_liquidated: bool  # True when a long position was closed by force
    usd: float  # contracts x contract value x bankruptcy price


@dataclass(frozen=True, slots=True)
class LiquidationBucket:
    time: datetime  # bucket open, UTC
    long_usd: float
    short_usd: float


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: float
    size: float  # base asset (BTC), contract sizes already converted


@dataclass(frozen=True, slots=True)
class OrderBook:
    bids: tuple[BookLevel, ...]  # best (highest) first
    asks: tuple[BookLevel, ...]  # best (lowest) first
    time: datetime | None
    truncated: bool  # True when the venue may hold levels beyond those returned (a depth limit was hit)


@dataclass(frozen=True, slots=True)
class Instrument:
    inst_id: str
    contract_value: float  # ctVal: base asset per contract
    contract_value_ccy: str
