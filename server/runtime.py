"""Dependencies for work outside the MCP server (collect, backfill, import): the same HTTP layer and store the
server opens in its lifespan, opened here as one async context manager."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx

from fetchers.http import Http
from server.app import http_config
from server.settings import Settings
from store.base import Store
from tools.common import Deps


@asynccontextmanager
async def open_deps(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Deps]:
    """Deps on the configured store (WINDVANE_DB_PATH or the user data directory). Tests pass a fake transport."""
    opened: Store
    if store is None:
        from store.sqlite import SqliteStore

        opened = SqliteStore(settings.resolved_db_path())
    else:
        opened = store
    try:
        async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
            deps = Deps(
                http=Http(client, http_config(settings)),
                store=opened,
                etf_impact_pct_per_busd=settings.etf_impact_pct_per_busd,
            )
            if clock is not None:
                deps.clock = clock
            extra: dict[str, Any] = {"settings": settings, "liquidation_stream_s": settings.liquidation_stream_s}
            deps.extra.update(extra)
            yield deps
    finally:
        if store is None:
            await opened.close()
