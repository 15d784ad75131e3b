"""Rate budgets per upstream, seeded from the limits the venues publish (../shared/sources.md cites each).

A fleet behind one egress IP shares each venue's per-IP budget, so the budget is counted once for the fleet: in
Redis when it is configured (fixed windows whose expiry Redis keeps: Redis's clock, not each replica's), in this
process's memory when Redis is gone. Counting is `limits`' fixed-window strategy, not hand-written Lua. A request
that does not fit is not sent: the HTTP layer serves the last good value stale or reports `rate_limited` at once.

What the upstream says adjusts the count: Binance's `X-MBX-USED-WEIGHT-1M` (the weight this IP used this minute,
requests from outside windvane included) raises the minute's count to it; a 429/418 with `Retry-After` blocks the
source for that long, fleet-wide. Sources whose limits are unpublished or unverified (Yahoo, Farside, mempool.space,
Esplora, Deribit, Kalshi, Polymarket, alternative.me, DefiLlama, SoSoValue, CoinGlass, CryptoQuant) get no budget;
WINDVANE_RATE_BUDGETS sets or overrides one, e.g. `cryptoquant=50/1d,coinbase=8/1s+400/1m` or `okx=off`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from fetchers.shared.tier import BudgetSpentError, ParamValue

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import Storage

Params = Mapping[str, ParamValue] | None
NAMESPACE = "budget"


@dataclass(frozen=True, slots=True)
class Window:
    amount: int
    seconds: int

    def label(self) -> str:
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.seconds % size == 0:
                return f"{self.amount}/{self.seconds // size}{unit}"
        return f"{self.amount}/{self.seconds}s"


def _one(path: str, params: Params) -> int:
    return 1


def binance_weight(path: str, params: Params) -> int:
    """Request weights from Binance's spot REST docs: depth by its limit, klines and ticker/price 2."""
    if path == "/api/v3/depth":
        limit = int((params or {}).get("limit", 100))
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    return 2


@dataclass(frozen=True)
class Budget:
    name: str  # the source, or "source path" for a venue that limits each endpoint on its own
    source: str
    windows: tuple[Window, ...]
    path: str = ""  # the endpoint it limits ("" = every request to the source)
    weight: Callable[[str, Params], int] = _one
    used_weight_header: str | None = None  # the upstream's own count for windows[0]

    def applies(self, source: str, path: str) -> bool:
        return source == self.source and (not self.path or path == self.path)


def _okx(path: str, amount: int) -> Budget:
    return Budget(f"okx {path}", "okx", (Window(amount, 2),), path=path)


# Per IP, as published (sources.md): Coinbase 10 req/s; Binance spot 6,000 weight/min (weights per endpoint);
# Binance futures fundingRate 500/5 min, openInterestHist 1,000/5 min; OKX per endpoint per 2 s; Kraken about 1/s;
# Bitstamp 400/s and 10,000/10 min; Bybit 600/5 s; FRED 120/min; CoinGecko (keyless) about 30/min.
PUBLISHED: tuple[Budget, ...] = (
    Budget("coinbase", "coinbase", (Window(10, 1),)),
    Budget("binance", "binance", (Window(6000, 60),), weight=binance_weight, used_weight_header="x-mbx-used-weight-1m"),
    Budget("binance_futures /fapi/v1/fundingRate", "binance_futures", (Window(500, 300),), path="/fapi/v1/fundingRate"),
    Budget(
        "binance_futures /futures/data/openInterestHist",
        "binance_futures",
        (Window(1000, 300),),
        path="/futures/data/openInterestHist",
    ),
    _okx("/api/v5/market/ticker", 20),
    _okx("/api/v5/market/candles", 40),
    _okx("/api/v5/market/history-candles", 20),
    _okx("/api/v5/market/books", 40),
    _okx("/api/v5/public/liquidation-orders", 40),
    _okx("/api/v5/public/open-interest", 20),
    _okx("/api/v5/public/funding-rate-history", 10),
    _okx("/api/v5/rubik/stat/contracts/open-interest-history", 10),
    Budget("kraken", "kraken", (Window(60, 60),)),
    Budget("bitstamp", "bitstamp", (Window(400, 1), Window(10000, 600))),
    Budget("bybit", "bybit", (Window(600, 5),)),
    Budget("fred_api", "fred_api", (Window(120, 60),)),
    Budget("coingecko", "coingecko", (Window(30, 60),)),
)


def with_overrides(budgets: Sequence[Budget], overrides: Mapping[str, tuple[Window, ...]]) -> tuple[Budget, ...]:
    """Apply WINDVANE_RATE_BUDGETS: a budget name or a source -> its windows (empty: no budget)."""
    out: list[Budget] = []
    for budget in budgets:
        windows = overrides.get(budget.name, overrides.get(budget.source))
        if windows is None:
            out.append(budget)
        elif windows:
            out.append(replace(budget, windows=windows))
    named = {b.name for b in budgets} | {b.source for b in budgets}
    out.extend(Budget(name, name, windows) for name, windows in overrides.items() if windows and name not in named)
    return tuple(out)


class Blocks(Protocol):
    """Sources told to back off (Retry-After), until when (unix seconds)."""

    async def until(self, source: str) -> float | None: ...

    async def block(self, source: str, seconds: float) -> None: ...


class MemoryBlocks:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}

    async def until(self, source: str) -> float | None:
        until = self._until.get(source)
        return until if until is not None and until > self._clock() else None

    async def block(self, source: str, seconds: float) -> None:
        self._until[source] = max(self._until.get(source, 0.0), self._clock() + seconds)


class CountedBudgets:
    """The budgets counted in one `limits` storage (Redis: the fleet's count; memory: this replica's)."""

    def __init__(
        self, budgets: Sequence[Budget], storage: Storage, blocks: Blocks, clock: Callable[[], float] = time.time
    ) -> None:
        from limits import RateLimitItemPerSecond
        from limits.aio.strategies import FixedWindowRateLimiter

        self.budgets = tuple(budgets)
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)
        self.blocks = blocks
        self._clock = clock
        self._items: dict[str, list[RateLimitItem]] = {
            b.name: [RateLimitItemPerSecond(w.amount, w.seconds) for w in b.windows] for b in self.budgets
        }

    def _matching(self, source: str, path: str) -> list[Budget]:
        return [b for b in self.budgets if b.applies(source, path)]

    async def spend(self, source: str, path: str, params: Params) -> BudgetSpentError | None:
        until = await self.blocks.until(source)
        if until is not None:
            wait = max(0.0, until - self._clock())
            return BudgetSpentError(
                source, f"asked to back off (Retry-After) for {wait:.0f} s more", retry_after_s=wait
            )
        for budget in self._matching(source, path):
            cost = budget.weight(path, params)
            for window, item in zip(budget.windows, self._items[budget.name], strict=True):
                if not await self.limiter.hit(item, NAMESPACE, budget.name, cost=cost):
                    stats = await self.limiter.get_window_stats(item, NAMESPACE, budget.name)
                    wait = max(0.0, stats.reset_time - time.time())
                    return BudgetSpentError(
                        source,
                        f"rate budget {window.label()} for {budget.name} is spent (the venue's published limit, "
                        f"shared by every replica); next window in {wait:.0f} s",
                        retry_after_s=wait,
                    )
        return None

    async def observe(self, source: str, status: int, headers: Mapping[str, str], retry_after_s: float | None) -> None:
        if status in (429, 418) and retry_after_s:
            await self.blocks.block(source, retry_after_s)
        for budget in self.budgets:
            if budget.source != source or budget.used_weight_header is None:
                continue
            raw = headers.get(budget.used_weight_header)
            if raw is not None and raw.strip().isdigit():
                await self._at_least(budget, int(raw))

    async def _at_least(self, budget: Budget, used: int) -> None:
        """Raise the first window's count to what the upstream says this IP used (never lower it)."""
        item = self._items[budget.name][0]
        key = item.key_for(NAMESPACE, budget.name)
        counted = await self.storage.get(key)
        if used > counted:
            await self.storage.incr(key, item.get_expiry(), amount=used - counted)


def memory_budgets(budgets: Sequence[Budget]) -> CountedBudgets:
    from limits.aio.storage import MemoryStorage

    return CountedBudgets(budgets, MemoryStorage(), MemoryBlocks())
