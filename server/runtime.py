"""The one place windvane's dependencies are built: the server's lifespan and every CLI command open them here.

`open_deps` opens the shared `httpx.AsyncClient` (behind the cached `Http` layer) and the history store once, maps
the settings the tools read into `ToolConfig`, and closes what it opened on exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import anyio
import httpx

from fetchers.http import Http, HttpConfig
from fetchers.shared.tier import Fleet
from server.settings import ASSESS_EXTRA_DEADLINE_S, Settings
from store.base import CoverageStore, Store, StoreError
from store.guarded import GuardedStore
from tools.deps import Deps, ToolConfig, utc_now


def http_config(settings: Settings) -> HttpConfig:
    return HttpConfig(
        base_urls=dict(settings.base_urls),
        api_keys=dict(settings.api_keys),
        timeout_s=settings.http_timeout_s,
        retries=settings.http_retries,
        retry_base_delay_s=settings.retry_base_delay_s,
        retry_after_cap_s=settings.retry_after_cap_s,
        ttl_scale=settings.ttl_scale,
        user_agent=settings.user_agent,
        redactor=settings.redactor(),
    )


def tool_config(settings: Settings) -> ToolConfig:
    return ToolConfig(
        etf_impact_pct_per_busd=settings.etf_impact_pct_per_busd,
        address_book_path=settings.address_book_path,
        liquidation_stream_s=settings.liquidation_stream_s,
        tool_deadline_s=settings.tool_deadline_s,
        assess_extra_deadline_s=ASSESS_EXTRA_DEADLINE_S,
        wallet_scan_delay_s=settings.wallet_scan_delay_s,
    )


@asynccontextmanager
async def open_deps(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> AsyncIterator[Deps]:
    """Deps on the configured store (WINDVANE_DB_PATH or the user data directory) unless `store` is given; a given
    store is left open. Tests pass a fake transport, a frozen clock and a sleep that returns at once.

    Tools get the store degraded (tools/history/degraded.py): when it fails they answer from the upstreams with one
    warning, never with the store's error."""
    from server.stores import open_store
    from tools.history.degraded import DegradedStore

    opened: Store = open_store(settings) if store is None else store
    guarded = opened if isinstance(opened, GuardedStore) else GuardedStore(_coverage(opened), "the history store")
    try:
        async with (
            httpx.AsyncClient(transport=transport, follow_redirects=True) as client,
            open_fleet(settings) as fleet,
        ):
            yield Deps(
                http=Http(client, http_config(settings), sleep=sleep or anyio.sleep, fleet=fleet),
                store=DegradedStore(guarded),
                clock=clock or utc_now,
                config=tool_config(settings),
            )
    finally:
        if store is None:
            await opened.close()


def _coverage(store: Store) -> CoverageStore:
    if not isinstance(store, CoverageStore):
        raise TypeError(f"open_deps needs a store that records coverage, got {type(store).__name__}")
    return store


async def store_problem(deps: Deps, *, write: bool = False) -> str | None:
    """Why the deps' store cannot be used by a command that needs it (None when it opens and, with `write`,
    would take a write), in one line."""
    from tools.history.degraded import DegradedStore

    if not isinstance(deps.store, DegradedStore):
        return None if deps.store is not None else "no history store is configured"
    try:
        await deps.store.probe(write=write)
    except StoreError as exc:
        return str(exc)
    return None


def store_fault(deps: Deps) -> str | None:
    """The latest store failure the deps' tools met while a command ran (they degraded past it)."""
    from tools.history.degraded import DegradedStore

    return deps.store.fault if isinstance(deps.store, DegradedStore) else None


@asynccontextmanager
async def open_fleet(settings: Settings) -> AsyncIterator[Fleet | None]:
    """The fleet's shared tier on Redis when WINDVANE_REDIS_URL is set (with its reconnect monitor); else None."""
    if not settings.redis_url:
        yield None
        return
    from fetchers.shared.budgets import PUBLISHED, Window, with_overrides
    from fetchers.shared.redis_link import RedisLink
    from fetchers.shared.redis_tier import redis_fleet

    overrides = {name: tuple(Window(a, s) for a, s in windows) for name, windows in settings.rate_budgets.items()}
    link = RedisLink(settings.redis_url)
    try:
        async with anyio.create_task_group() as background:
            background.start_soon(link.monitor)
            yield redis_fleet(link, with_overrides(PUBLISHED, overrides))
            background.cancel_scope.cancel()
    finally:
        await link.close()
