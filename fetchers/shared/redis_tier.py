"""The fleet's shared state in Redis (WINDVANE_REDIS_URL), each part degrading to this replica's own state.

Keys (prefix `windvane`): `c:<source>:<hash>` a cached value, `f:<source>:<hash>` a remembered failure,
`l:<source>:<hash>` the single-flight lock, `b:<source>` an open circuit, `back:<source>` a Retry-After block,
`LIMITS...` the rate-budget windows. The hash covers the request key and a digest of the source's API key, so
no key, query or secret is readable in Redis and one key's answers are never served under another.
Each cached value lives past its TTL (as the fleet's last good value for stale-on-error) for `RETAIN_S` more, or
as long again as its TTL when that is longer: a settled page cached for a day is kept two.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fetchers.cache import CacheEntry
from fetchers.shared import codec
from fetchers.shared.budgets import Budget, CountedBudgets, memory_budgets
from fetchers.shared.redis_link import RedisLink
from fetchers.shared.tier import (
    BudgetSpentError,
    Fleet,
    FleetHealth,
    FleetStats,
    Held,
    ParamValue,
    SharedFailure,
    SharedOpen,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("windvane.fleet")

RETAIN_S = 6 * 3600.0
_UNSET: Any = object()


class RedisCache:
    def __init__(self, link: RedisLink, clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self._clock = clock

    async def get(self, key: str) -> CacheEntry | None:
        async def read(client: Redis) -> bytes | None:
            raw: bytes | None = await client.get(self.link.key("c", key))
            return raw

        raw = await self.link.run(read, None)
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
            return CacheEntry(codec.decode(doc["v"]), float(doc["at"]), str(doc["e"]), fresh_until=float(doc["u"]))
        except (codec.CodecError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring an unreadable shared cache entry (%s)", exc)
            return None

    async def put(self, key: str, entry: CacheEntry, ttl_s: float) -> None:
        try:
            value = codec.encode(entry.value)
        except codec.CodecError as exc:
            log.debug("not sharing a value: %s", exc)
            return
        fresh_until = entry.fetched_at + max(0.0, ttl_s)
        doc = json.dumps({"v": value, "at": entry.fetched_at, "e": entry.endpoint, "u": fresh_until})
        keep_s = max(0.0, ttl_s) + max(RETAIN_S, ttl_s)

        async def write(client: Redis) -> None:
            await client.set(self.link.key("c", key), doc, px=max(1, int(keep_s * 1000)))

        await self.link.run(write, None)

    async def get_failure(self, key: str) -> SharedFailure | None:
        async def read(client: Redis) -> bytes | None:
            raw: bytes | None = await client.get(self.link.key("f", key))
            return raw

        raw = await self.link.run(read, None)
        return None if raw is None else _failure(json.loads(raw))

    async def put_failure(self, key: str, failure: SharedFailure, memory_s: float) -> None:
        if memory_s <= 0:
            return
        doc = json.dumps([failure.error_type, failure.message, failure.retry_after_s])

        async def write(client: Redis) -> None:
            await client.set(self.link.key("f", key), doc, px=max(1, int(memory_s * 1000)))

        await self.link.run(write, None)


def _failure(doc: Any) -> SharedFailure | None:
    try:
        error_type, message, retry_after = doc
        return SharedFailure(str(error_type), str(message), None if retry_after is None else float(retry_after))
    except (TypeError, ValueError):
        return None


class RedisFleetLock:
    """SET NX PX with a random token; released only by its holder (redis-py's Lock does the compare-and-delete)."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link

    async def acquire(self, key: str, lease_s: float) -> Held | None:
        token = secrets.token_hex(8)

        async def take(client: Redis) -> bool:
            return bool(await client.set(self.link.key("l", key), token, nx=True, px=max(1, int(lease_s * 1000))))

        got = await self.link.run(take, _UNSET)
        if got is _UNSET:  # Redis is gone: this replica decides alone
            return Held(key, token, local=True)
        return Held(key, token) if got else None

    async def held(self, key: str) -> bool:
        async def exists(client: Redis) -> bool:
            return bool(await client.exists(self.link.key("l", key)))

        return await self.link.run(exists, False)

    async def release(self, held: Held) -> None:
        if held.local:
            return

        async def drop(client: Redis) -> None:
            from redis.asyncio.lock import Lock
            from redis.exceptions import LockError

            lock = Lock(client, self.link.key("l", held.key))
            lock.local.token = held.token.encode()
            # LockError: it expired (another replica may hold it now); nothing of ours to release
            with contextlib.suppress(LockError):
                await lock.release()

        await self.link.run(drop, None)


class RedisCircuits:
    def __init__(self, link: RedisLink, clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self._clock = clock

    async def pull(self, source: str) -> SharedOpen | None:
        async def read(client: Redis) -> bytes | None:
            raw: bytes | None = await client.get(self.link.key("b", source))
            return raw

        raw = await self.link.run(read, None)
        if raw is None:
            return None
        try:
            until, *failure = json.loads(raw)
            parsed = _failure(failure)
            return None if parsed is None else SharedOpen(float(until), parsed)
        except (TypeError, ValueError):
            return None

    async def publish_open(self, source: str, opened: SharedOpen) -> None:
        ms = int((opened.until - self._clock()) * 1000)
        if ms <= 0:
            return
        f = opened.failure
        doc = json.dumps([opened.until, f.error_type, f.message, f.retry_after_s])

        async def write(client: Redis) -> None:
            await client.set(self.link.key("b", source), doc, px=ms)

        await self.link.run(write, None)

    async def publish_closed(self, source: str) -> None:
        async def drop(client: Redis) -> None:
            await client.delete(self.link.key("b", source))

        await self.link.run(drop, None)


class RedisBlocks:
    def __init__(self, link: RedisLink, clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self._clock = clock

    async def until(self, source: str) -> float | None:
        async def read(client: Redis) -> float | None:
            ms = await client.pttl(self.link.key("back", source))
            return None if ms is None or ms <= 0 else self._clock() + ms / 1000

        return await self.link.run(read, None)

    async def block(self, source: str, seconds: float) -> None:
        async def write(client: Redis) -> None:
            key = self.link.key("back", source)
            ms = int(seconds * 1000)
            if ms > (await client.pttl(key) or 0):
                await client.set(key, "1", px=ms)

        await self.link.run(write, None)


class RedisBudgets:
    """The fleet's count in Redis; this replica's own count (same budgets) while Redis is gone."""

    def __init__(self, link: RedisLink, budgets: Sequence[Budget]) -> None:
        from limits.aio.storage import RedisStorage

        # the link's own pool: one connection policy (timeouts); limits hands options on to redis-py
        options: Any = {"connection_pool": link.client.connection_pool}
        storage = RedisStorage("async+redis://", implementation="redispy", key_prefix=link.key("LIMITS"), **options)
        self.link = link
        self.shared = CountedBudgets(budgets, storage, RedisBlocks(link))
        self.local = memory_budgets(budgets)

    async def spend(self, source: str, path: str, params: Mapping[str, ParamValue] | None) -> BudgetSpentError | None:
        async def shared(_: Redis) -> BudgetSpentError | None:
            return await self.shared.spend(source, path, params)

        answer = await self.link.run(shared, _UNSET)
        return await self.local.spend(source, path, params) if answer is _UNSET else answer

    async def observe(self, source: str, status: int, headers: Mapping[str, str], retry_after_s: float | None) -> None:
        async def shared(_: Redis) -> bool:
            await self.shared.observe(source, status, headers, retry_after_s)
            return True

        if not await self.link.run(shared, False):
            await self.local.observe(source, status, headers, retry_after_s)


class RedisMonitor:
    def __init__(self, link: RedisLink) -> None:
        self.link = link

    def health(self, stats: FleetStats) -> FleetHealth:
        return FleetHealth(
            status="up" if self.link.up else "degraded",
            backend=self.link.where,
            since=self.link.since,
            last_error=None if self.link.up else self.link.last_error,
            shared_hits=stats.shared_hits,
            peer_waits=stats.peer_waits,
            budget_refusals=stats.budget_refusals,
        )


def redis_fleet(link: RedisLink, budgets: Sequence[Budget]) -> Fleet:
    return Fleet(
        cache=RedisCache(link),
        lock=RedisFleetLock(link),
        budgets=RedisBudgets(link, budgets),
        circuits=RedisCircuits(link),
        shared=True,
        monitor=RedisMonitor(link),
    )
