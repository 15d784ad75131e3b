"""Opening the shared dependencies (HTTP client, cache, history store) outside the MCP server, for CLI commands."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx

from fetchers.http import Http
from server.app import http_config
from server.settings import Settings
from tools.common import Deps


@asynccontextmanager
async def open_deps(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Deps]:
    from store.sqlite import SqliteStore

    store = SqliteStore(settings.resolved_db_path())
    try:
        async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
            deps = Deps(
                http=Http(client, http_config(settings)),
                store=store,
                etf_impact_pct_per_busd=settings.etf_impact_pct_per_busd,
            )
            if clock is not None:
                deps.clock = clock
            deps.extra["settings"] = settings
            yield deps
    finally:
        await store.close()
