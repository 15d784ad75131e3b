"""One replica's connection to the fleet's Redis, which degrades instead of failing when Redis is gone.

Every shared operation goes through `RedisLink.run(op, fallback)`: bounded by a short timeout, and on any Redis or
network error it returns `fallback` (the replica's local answer: a cache miss, a lock granted locally, the local
limiter). The first failure is logged once; until Redis answers again, operations are not even tried, except one
probe at a time and at most one per `retry_s` (`monitor()`, run by the server, also probes on its own), so a
replica without Redis pays no timeouts. When a probe succeeds the link logs it once and sharing resumes (redis-py's
pool reconnects by itself).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import anyio

from fetchers.call_context import current_deadline

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")
log = logging.getLogger("windvane.fleet")

# Loopback or a LAN answers in a millisecond; the margin is for this replica's own event loop being busy (a hundred
# calls at once on a small machine can hold a reply back for seconds), which must not be mistaken for Redis being
# gone. A call never waits past its own deadline for Redis: an operation cut short by it answers locally instead,
# without marking Redis gone.
OP_TIMEOUT_S = 10.0
RETRY_S = 1.0


class _CallOutOfTime(Exception):
    """The call's deadline ended a Redis operation (not Redis's fault)."""


def describe_redis_url(url: str) -> str:
    """scheme://host:port/db of a Redis URL, without user or password (what logs and /healthz may show)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RedisLink:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "windvane",
        op_timeout_s: float = OP_TIMEOUT_S,
        retry_s: float = RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from redis.asyncio import Redis

        self.where = describe_redis_url(url)
        self.prefix = prefix
        self.op_timeout_s = op_timeout_s
        self.retry_s = retry_s
        self._clock = clock
        self.client: Redis = Redis.from_url(
            url, socket_timeout=op_timeout_s, socket_connect_timeout=op_timeout_s, retry_on_timeout=False
        )
        self.up = True
        self.since: datetime | None = None
        self.last_error: str | None = None
        self._retry_at = 0.0
        self._probing = False

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def run(self, op: Callable[[Redis], Awaitable[T]], fallback: T) -> T:
        """`op(client)`, or `fallback` when Redis is unreachable (now, or recently and not yet due for a probe)."""
        probe = not self.up
        if probe and (self._probing or self._clock() < self._retry_at):
            return fallback  # gone: answer locally at once, while one probe (at most) finds out whether it is back
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import RedisError

        self._probing = self._probing or probe
        try:
            try:
                result = await self._once(op)
            except (RedisConnectionError, ConnectionError):
                # A connection left from before a Redis restart fails once: retry on a fresh one. A server that is
                # really gone refuses the new connection too.
                await self._drop_idle_connections()
                result = await self._once(op)
        except _CallOutOfTime:
            return fallback  # the call's deadline came first: says nothing about Redis
        except (RedisError, OSError, TimeoutError) as exc:
            self._lost(exc)
            return fallback
        finally:
            if probe:
                self._probing = False
        if not self.up:
            self._regained()
        return result

    def _lost(self, exc: BaseException) -> None:
        self._retry_at = self._clock() + self.retry_s
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        if self.up:
            self.up, self.since = False, datetime.now(UTC)
            log.warning(
                "Redis at %s is unreachable (%s): this replica serves from its own cache and limits until it returns",
                self.where,
                self.last_error,
            )

    async def _once(self, op: Callable[[Redis], Awaitable[T]]) -> T:
        deadline = current_deadline()
        if deadline is not None and deadline.remaining() < self.op_timeout_s:
            with anyio.move_on_after(deadline.remaining()):
                return await op(self.client)
            raise _CallOutOfTime
        with anyio.fail_after(self.op_timeout_s):
            return await op(self.client)

    async def _drop_idle_connections(self) -> None:
        """Close the pooled connections not in use: after one failed, the idle ones are likely dead too."""
        with anyio.move_on_after(self.op_timeout_s, shield=True):
            try:
                await self.client.connection_pool.disconnect(inuse_connections=False)
            except Exception as exc:  # closing sockets to a server that is gone
                log.debug("dropping Redis connections: %s", exc)

    def _regained(self) -> None:
        self.up, self.since = True, datetime.now(UTC)
        log.warning("Redis at %s answers again: the fleet's cache, locks and budgets are shared again", self.where)

    async def probe(self) -> bool:
        async def ping(client: Redis) -> bool:
            return bool(await client.ping())  # type: ignore[misc]  # redis-py types ping() for both clients

        return await self.run(ping, False)

    async def monitor(self) -> None:
        """Probe while Redis is gone, so the replica reconnects (and /healthz recovers) without waiting for a call."""
        while True:
            await anyio.sleep(self.retry_s)
            if not self.up:
                self._retry_at = 0.0
                await self.probe()

    async def close(self) -> None:
        try:
            await self.client.aclose()
        except Exception as exc:  # closing a connection to a server that is gone must not fail a shutdown
            log.debug("closing the Redis client: %s", exc)
