"""Shared fixtures: a fake upstream, a server built on it with a frozen clock, and an in-memory MCP client.

On a fresh clone without ../shared, the real-data tests skip (one reason, one summary line saying where the data
comes from) and the rest run. A real-data test is one that uses the `fake` fixture (the fakes serve ../shared), or
whose module or body fails on opening a file under ../shared. With WINDVANE_REQUIRE_SHARED=1 (CI), nothing skips
for that reason: a missing ../shared stops the run at once, and any such test fails.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.settings import DEFAULT_BASE_URLS, Settings
from tests.fakes import FakeUpstream, base_urls, default_fake
from tests.fakes.data import REQUIRE_SHARED_ENV, SHARED, SHARED_MISSING, shared_present

# Real Redis / PostgreSQL servers on loopback for the tests that claim them (tests/services.py).
pytest_plugins = ["tests.services"]

FROZEN_NOW = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)
# The six tools of the public contract (../shared/contract.md), named here once for the tests that call each of them
TOOLS = (
    "get_coinbase_premium",
    "exchange_reserve_trend",
    "get_etf_flows",
    "get_leverage_state",
    "get_macro_backdrop",
    "assess_rebound_vs_reversal",
)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The root logger's handlers and level as they were (the CLI's main() configures logging for the process)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def shared_required() -> bool:
    return os.environ.get(REQUIRE_SHARED_ENV, "").strip() not in ("", "0")


def require_shared() -> None:
    """Skip the calling test when ../shared is absent (fail instead where it is required)."""
    if not shared_present():
        if shared_required():
            pytest.fail(f"{REQUIRE_SHARED_ENV}=1: {SHARED_MISSING}")
        pytest.skip(SHARED_MISSING)


def pytest_sessionstart(session: pytest.Session) -> None:
    if shared_required() and not shared_present():
        pytest.exit(f"{REQUIRE_SHARED_ENV}=1 but {SHARED_MISSING}", returncode=1)


def _opened_shared_file(excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    if excinfo is None or not excinfo.errisinstance(FileNotFoundError):
        return False
    return str(getattr(excinfo.value, "filename", "")).startswith(str(SHARED))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.failed and not shared_present() and not shared_required() and _opened_shared_file(call.excinfo):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {SHARED_MISSING}")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, Any]:
    # A module that reads ../shared at import time: the whole module is a real-data one.
    report = yield
    text = str(report.longrepr) if report.failed else ""
    if "FileNotFoundError" in text and str(SHARED) in text and not shared_present() and not shared_required():
        report.outcome = "skipped"
        report.longrepr = (str(collector.path), 0, f"Skipped: {SHARED_MISSING}")
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SHARED_MISSING in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} skipped, {SHARED_MISSING}")


@pytest.fixture
def shared_data() -> None:
    """For a test that hands files from ../shared to windvane itself (e.g. `windvane import <file>`)."""
    require_shared()


@pytest.fixture
def fake() -> FakeUpstream:
    require_shared()
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
