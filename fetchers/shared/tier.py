"""The protocols of a fleet's shared state, and the in-process defaults a single replica runs on.

- SharedCache: parsed values with their fetch time and freshness, plus remembered failures, under keys that never
  hold a secret (fetchers/http.py hashes the request key with a digest of the source's API key).
- FleetLock: one holder per key across the fleet, with an expiry, so a dead holder never blocks the others.
- RateBudgets: whether one more request of a given weight fits the upstream's published budget; what the
  upstream's response headers say was used.
- SharedCircuits: an open circuit seen by one replica is open for all, until its next probe.

`Fleet` bundles one of each. `local_fleet()` is what windvane runs on without WINDVANE_REDIS_URL: no shared cache,
every lock granted at once, no budget, no shared circuit; the HTTP layer then skips the shared path entirely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from fetchers.cache import CacheEntry
from fetchers.errors import (
    BadPayloadError,
    GeoBlockedError,
    KeyRejectedError,
    NotRetried,
    RateLimitedError,
    UnavailableError,
    UnreachableError,
    UpstreamError,
)

ParamValue = str | int | float

# The error classes a remembered failure may come back as (by name): nothing else is ever constructed from Redis.
FAILURE_TYPES: Mapping[str, type[UpstreamError]] = {
    cls.__name__: cls
    for cls in (
        UnavailableError,
        UnreachableError,
        NotRetried,
        KeyRejectedError,
        RateLimitedError,
        GeoBlockedError,
        BadPayloadError,
    )
}


class BudgetSpentError(RateLimitedError):
    """Our own fleet's budget for the upstream is spent: the request is not sent (so never remembered or counted
    against the upstream's circuit). The window's reset is `retry_after_s`."""


@dataclass(frozen=True, slots=True)
class SharedFailure:
    """A failed request as the fleet remembers it: the error's class name, its message, the upstream's Retry-After."""

    error_type: str
    message: str
    retry_after_s: float | None = None

    @classmethod
    def of(cls, error: UpstreamError) -> SharedFailure:
        name = next((c.__name__ for c in type(error).__mro__ if c.__name__ in FAILURE_TYPES), "UnavailableError")
        return cls(name, error.message, getattr(error, "retry_after_s", None))

    def error(self, source: str, note: str) -> UpstreamError:
        """The failure as an error again (flagged remembered: it was not asked again)."""
        cls = FAILURE_TYPES.get(self.error_type, UnavailableError)
        base = (
            RateLimitedError(source, self.message, self.retry_after_s)
            if cls is RateLimitedError
            else cls(source, self.message)
        )
        return base.again(f"{self.message}; {note}")


@dataclass(frozen=True, slots=True)
class Held:
    """A fleet lock this process holds (token: what proves it is ours when releasing)."""

    key: str
    token: str
    local: bool = False  # granted without asking anyone (no shared tier, or Redis is gone)


@dataclass(frozen=True, slots=True)
class SharedOpen:
    """A circuit some replica opened: fail fast until `until` (unix seconds)."""

    until: float
    failure: SharedFailure


@dataclass(frozen=True, slots=True)
class FleetHealth:
    status: Literal["up", "degraded"]
    backend: str  # e.g. "redis://10.0.0.5:6379/0", never a password
    since: datetime | None  # when the current status began (None: up since start)
    last_error: str | None
    shared_hits: int
    peer_waits: int  # calls that waited for another replica's request instead of sending their own
    budget_refusals: int


class SharedCache(Protocol):
    async def get(self, key: str) -> CacheEntry | None:
        """The entry with its `fresh_until`, fresh or not (a stale one is still the fleet's last good value)."""
        ...

    async def put(self, key: str, entry: CacheEntry, ttl_s: float) -> None: ...

    async def get_failure(self, key: str) -> SharedFailure | None: ...

    async def put_failure(self, key: str, failure: SharedFailure, memory_s: float) -> None: ...


class FleetLock(Protocol):
    async def acquire(self, key: str, lease_s: float) -> Held | None:
        """The lock, or None while another process holds it. It expires after `lease_s` if never released."""
        ...

    async def held(self, key: str) -> bool: ...

    async def release(self, held: Held) -> None: ...


class RateBudgets(Protocol):
    async def spend(self, source: str, path: str, params: Mapping[str, ParamValue] | None) -> BudgetSpentError | None:
        """Count one request against `source`'s budgets; the refusal (nothing counted against the upstream) when one
        is spent."""
        ...

    async def observe(self, source: str, status: int, headers: Mapping[str, str], retry_after_s: float | None) -> None:
        """What the upstream said about our usage: a used-weight header, a 429/418 with Retry-After."""
        ...


class SharedCircuits(Protocol):
    async def pull(self, source: str) -> SharedOpen | None: ...

    async def publish_open(self, source: str, opened: SharedOpen) -> None: ...

    async def publish_closed(self, source: str) -> None: ...


# -- in-process defaults ------------------------------------------------------------------------------------------


class NoSharedCache:
    async def get(self, key: str) -> CacheEntry | None:
        return None

    async def put(self, key: str, entry: CacheEntry, ttl_s: float) -> None:
        return None

    async def get_failure(self, key: str) -> SharedFailure | None:
        return None

    async def put_failure(self, key: str, failure: SharedFailure, memory_s: float) -> None:
        return None


class LocalLock:
    """Always granted: within one process the HTTP layer's own single-flight already lets one request through."""

    async def acquire(self, key: str, lease_s: float) -> Held | None:
        return Held(key, "", local=True)

    async def held(self, key: str) -> bool:
        return False

    async def release(self, held: Held) -> None:
        return None


class Unlimited:
    async def spend(self, source: str, path: str, params: Mapping[str, ParamValue] | None) -> BudgetSpentError | None:
        return None

    async def observe(self, source: str, status: int, headers: Mapping[str, str], retry_after_s: float | None) -> None:
        return None


class LocalCircuits:
    async def pull(self, source: str) -> SharedOpen | None:
        return None

    async def publish_open(self, source: str, opened: SharedOpen) -> None:
        return None

    async def publish_closed(self, source: str) -> None:
        return None


@dataclass
class FleetStats:
    shared_hits: int = 0
    peer_waits: int = 0
    budget_refusals: int = 0


class HealthSource(Protocol):
    def health(self, stats: FleetStats) -> FleetHealth: ...


@dataclass(frozen=True)
class Fleet:
    cache: SharedCache
    lock: FleetLock
    budgets: RateBudgets
    circuits: SharedCircuits
    shared: bool = False  # False: the in-process defaults; the HTTP layer takes its single-process path
    monitor: HealthSource | None = None
    stats: FleetStats = field(default_factory=FleetStats)

    def health(self) -> FleetHealth | None:
        return None if self.monitor is None else self.monitor.health(self.stats)


def local_fleet() -> Fleet:
    return Fleet(NoSharedCache(), LocalLock(), Unlimited(), LocalCircuits())
