"""Shared fixtures: a fake upstream, a server built on it with a frozen clock, and an in-memory MCP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.settings import DEFAULT_BASE_URLS, Settings
from tests.fakes import FakeUpstream, base_urls, default_fake

FROZEN_NOW = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> FakeUpstream:
    return default_fake()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "base_urls": base_urls(list(DEFAULT_BASE_URLS)),
        "db_path": tmp_path / "windvane.sqlite3",
        "retry_base_delay_s": 0.0,
        # No background requests in tests unless one asks for them: they would change request counts.
        "refresh_every_s": 0.0,
        "wallet_scan_delay_s": 0.0,  # collect's polite pause between wallet reads
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


class Sleeps:
    """Records requested sleeps instead of sleeping, so retry tests run instantly."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(fake: FakeUpstream, settings: Settings, sleeps: Sleeps) -> Callable[..., Any]:
    """`async with make_client() as client` -> an MCP Client bound in-memory to a server on the fake upstream."""
    from contextlib import asynccontextmanager

    from mcp import Client

    from server.app import build_server

    @asynccontextmanager
    async def _make(
        now: datetime = FROZEN_NOW, mode: str = "auto", settings_: Settings | None = None
    ) -> AsyncIterator[Any]:
        server = build_server(settings_ or settings, transport=fake.transport(), clock=lambda: now, sleep=sleeps)
        async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
            yield client

    return _make
