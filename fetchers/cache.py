"""The response cache behind the HTTP layer: fresh entries with a per-entry TTL, plus the last good value per key.

Only validated, parsed values are cached (never raw bodies that failed to parse). Each process keeps this cache
in front; a fleet's shared tier (fetchers/shared/, Redis) sits behind it, consulted only on a local miss.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cachetools import LRUCache, TLRUCache


@dataclass(frozen=True)
class CacheEntry:
    value: Any
    fetched_at: float  # unix seconds
    endpoint: str
    # Set on an entry read from the fleet's shared tier: it is fresh until then (unix seconds), whoever fetched it.
    fresh_until: float | None = None


class Cache(Protocol):
    def get_fresh(self, key: str) -> CacheEntry | None: ...

    def get_last_good(self, key: str) -> CacheEntry | None: ...

    def put(self, key: str, entry: CacheEntry, ttl_s: float) -> None: ...

    def stats(self) -> dict[str, int]: ...


class MemoryCache:
    """In-process cache. `clock` is injectable so tests can move time without sleeping."""

    def __init__(self, maxsize: int = 4096, clock: Callable[[], float] = time.time) -> None:
        def _expires_at(_key: str, value: tuple[CacheEntry, float], now: float) -> float:
            return now + value[1]

        self._fresh: TLRUCache[str, tuple[CacheEntry, float]] = TLRUCache(maxsize, ttu=_expires_at, timer=clock)
        # Bounded, so a long-running server with many distinct as_of queries cannot grow without limit.
        self._last_good: LRUCache[str, CacheEntry] = LRUCache(maxsize)
        self._hits = 0
        self._misses = 0

    def get_fresh(self, key: str) -> CacheEntry | None:
        item = self._fresh.get(key)
        if item is None:
            self._misses += 1
            return None
        self._hits += 1
        return item[0]

    def get_last_good(self, key: str) -> CacheEntry | None:
        return self._last_good.get(key)

    def put(self, key: str, entry: CacheEntry, ttl_s: float) -> None:
        if ttl_s > 0:
            self._fresh[key] = (entry, ttl_s)
        self._last_good[key] = entry

    def stats(self) -> dict[str, int]:
        return {
            "entries": len(self._fresh),
            "last_good": len(self._last_good),
            "hits": self._hits,
            "misses": self._misses,
        }
