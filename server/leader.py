"""One leader per fleet for the jobs that write the shared history: `windvane collect` and serve's background refresh.

A fleet (WINDVANE_DATABASE_URL or WINDVANE_REDIS_URL) runs such a job under a lease named after it; every other
process stands by and takes the lease over when the leader dies:
- PostgreSQL (preferred when configured: it is where the job writes): a session advisory lock on a connection of
  the leader's own. A dead leader's connection closes and PostgreSQL frees the lock at once; a heartbeat query every
  third of the lease proves the session is still there.
- Redis: a key set NX with a token and an expiry of WINDVANE_LEASE_S (15 s), renewed every third of it (redis-py's
  Lock: token-checked extend and release). A leader that dies stops renewing; the key expires within the lease.
A leader that loses its lease (a heartbeat fails) stops the job at once and stands by again.
Without a fleet there is no lease: the job simply runs, as in a single process.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import anyio

from server.settings import Settings

log = logging.getLogger("windvane.leader")


class Lease(Protocol):
    where: str

    async def acquire(self) -> bool:
        """Take the lease if it is free (never waits)."""
        ...

    async def renew(self) -> bool:
        """Still ours? (and extend it)"""
        ...

    async def release(self) -> None: ...


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RedisLease:
    def __init__(self, url: str, name: str, lease_s: float) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.lock import Lock

        from fetchers.shared.redis_link import describe_redis_url

        self.where = f"{describe_redis_url(url)} (key windvane:lease:{name})"
        self._client = Redis.from_url(url, socket_timeout=lease_s / 3, socket_connect_timeout=lease_s / 3)
        self._lock = Lock(self._client, f"windvane:lease:{name}", timeout=lease_s, blocking=False, thread_local=False)

    async def acquire(self) -> bool:
        from redis.exceptions import RedisError

        try:
            return bool(await self._lock.acquire(token=holder_id() + ":" + os.urandom(4).hex()))
        except (RedisError, OSError) as exc:
            log.warning("lease: Redis unreachable (%s); standing by", exc)
            return False

    async def renew(self) -> bool:
        from redis.exceptions import LockError, RedisError

        try:
            await self._lock.reacquire()
            return True
        except (LockError, RedisError, OSError):
            return False

    async def release(self) -> None:
        from redis.exceptions import LockError, RedisError

        with contextlib.suppress(LockError, RedisError, OSError):  # expired or unreachable: nothing of ours to free
            await self._lock.release()
        await self._client.aclose()


class PostgresLease:
    def __init__(self, url: str, name: str) -> None:
        from store.postgres import describe_url

        self.url = url
        self.key = int.from_bytes(hashlib.sha256(f"windvane:lease:{name}".encode()).digest()[:8], "big") >> 1
        self.where = f"{describe_url(url)} (advisory lock {self.key})"
        self._conn: Any = None

    async def acquire(self) -> bool:
        import asyncpg

        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(self.url, timeout=10)
            return bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            log.warning("lease: PostgreSQL unreachable (%s); standing by", exc)
            await self._drop()
            return False

    async def renew(self) -> bool:
        import asyncpg

        try:  # a session lock lasts as long as its session: the session answering proves the lease is still ours
            return bool(await self._conn.fetchval("SELECT 1", timeout=10))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError, AttributeError):
            await self._drop()
            return False

    async def release(self) -> None:
        await self._drop()  # closing the session frees its advisory locks

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=5)
            except Exception as exc:  # a connection to a server that is gone
                log.debug("closing the lease connection: %s", exc)


def lease_for(settings: Settings, name: str) -> Lease | None:
    """The lease of job `name` in this fleet, or None for a single process (no fleet configured)."""
    if settings.database_url:
        return PostgresLease(settings.database_url, name)
    if settings.redis_url:
        return RedisLease(settings.redis_url, name, settings.lease_s)
    return None


async def run_as_leader(lease: Lease, lease_s: float, job: str, work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` while holding `lease`, standing by whenever another process holds it; returns when `work` does."""
    beat_s = lease_s / 3
    standing_by = False
    try:
        while True:
            if not await lease.acquire():
                if not standing_by:
                    log.info("%s: another process leads (%s); standing by", job, lease.where)
                    standing_by = True
                await anyio.sleep(beat_s)
                continue
            standing_by = False
            log.info("%s: leading (%s)", job, lease.where)
            if await _lead(lease, beat_s, job, work):
                return
    finally:
        with anyio.CancelScope(shield=True):
            await lease.release()


async def _lead(lease: Lease, beat_s: float, job: str, work: Callable[[], Awaitable[None]]) -> bool:
    """True when `work` finished; False when the lease was lost (the work is then stopped)."""
    finished = False
    async with anyio.create_task_group() as tg:

        async def heartbeat() -> None:
            while True:
                await anyio.sleep(beat_s)
                if not await lease.renew():
                    log.warning("%s: lost the lease; stopping and standing by", job)
                    tg.cancel_scope.cancel()
                    return

        tg.start_soon(heartbeat)
        await work()
        finished = True
        tg.cancel_scope.cancel()
    return finished
