"""OKX's liquidation cursor paged in day-long windows at once: the same orders as one cursor chain, fewer rounds.

The upstream here holds a chosen set of orders and answers `liquidation-orders` in OKX's exact v5 shape (newest
first, 100 a page, `after` = strictly older than), so a busy day, a quiet day and the end of OKX's history can be
placed where the test needs them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from server.runtime import open_deps
from tests.conftest import make_settings
from tools.leverage.okx_liquidations import PageBudget, Paged, page_back, page_windows

pytestmark = pytest.mark.anyio

UNTIL = datetime(2025, 11, 24, 23, 59, 59, tzinfo=UTC)
WEEK_START = UNTIL - timedelta(days=7)


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


class Orders:
    """An OKX liquidation-orders upstream over `times` (one long order of 1 contract at 100,000 each)."""

    def __init__(self, times: list[datetime]) -> None:
        self.times = sorted(times, reverse=True)
        self.afters: list[int] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        after = int(request.url.params["after"])
        self.afters.append(after)
        details = [
            {"bkLoss": "0", "bkPx": "100000", "ccy": "", "posSide": "long", "side": "sell", "sz": "1", "ts": str(ms(t))}
            for t in self.times
            if ms(t) < after
        ][: int(request.url.params["limit"])]
        item = {"details": details, "instFamily": "BTC-USDT", "instId": "BTC-USDT-SWAP", "instType": "SWAP"}
        return httpx.Response(200, json={"code": "0", "msg": "", "data": [item] if details else []})


def busy_week() -> list[datetime]:
    """Two orders an hour, and 250 more within one hour of 2025-11-21 (a cascade: three pages for that day)."""
    hours = [WEEK_START - timedelta(days=1) + timedelta(minutes=30 * i) for i in range(2 * 24 * 8 + 1)]
    cascade = [datetime(2025, 11, 21, 14, tzinfo=UTC) + timedelta(seconds=10 * i) for i in range(250)]
    return [t for t in hours + cascade if t <= UNTIL]


async def paged_both_ways(
    tmp_path: Path, times: list[datetime], pages: int = 60
) -> tuple[Paged, Paged, int, list[int]]:
    """One cursor chain and the day windows, each on its own fresh cache: (chain, windows, chain's requests, the
    windows' `after` values)."""
    chain_upstream, windows_upstream = Orders(times), Orders(times)
    async with open_deps(
        make_settings(tmp_path / "chain"), transport=httpx.MockTransport(chain_upstream.handle)
    ) as deps:
        chain = await page_back(deps.http, "BTC", UNTIL, WEEK_START, PageBudget(pages))
    async with open_deps(
        make_settings(tmp_path / "windows"), transport=httpx.MockTransport(windows_upstream.handle)
    ) as deps:
        windows = await page_windows(deps.http, "BTC", UNTIL, WEEK_START, PageBudget(pages))
    return chain, windows, len(chain_upstream.afters), windows_upstream.afters


async def test_windows_find_the_same_orders_as_one_cursor_chain(tmp_path: Path) -> None:
    chain, windows, chain_requests, window_afters = await paged_both_ways(tmp_path, busy_week())
    in_week = sorted(t for t, *_ in chain.orders if t > WEEK_START)
    assert len(in_week) == 2 * 24 * 7 + 250
    assert sorted(t for t, *_ in windows.orders if t > WEEK_START) == in_week  # none missing, none twice
    assert windows.reached
    assert chain.reached
    # One cursor: 586 orders in the week, 100 a page, each page after the one before, until one older than the week.
    assert chain_requests == 6
    # Each window starts from its own end, all seven at once; the cascade's day (298 orders) pages three times.
    assert len(window_afters) == 6 + 3
    starts = {ms(UNTIL - timedelta(days=d)) + 1 for d in range(7)}
    assert starts <= set(window_afters)


async def test_where_the_history_ends_the_later_windows_are_left_out(tmp_path: Path) -> None:
    history_start = datetime(2025, 11, 20, 6, tzinfo=UTC)
    times = [t for t in busy_week() if t >= history_start]
    chain, windows, _, _ = await paged_both_ways(tmp_path, times)
    assert not windows.reached
    assert windows.exhausted
    assert windows.oldest == chain.oldest == min(times)
    assert sorted(t for t, *_ in windows.orders) == sorted(t for t, *_ in chain.orders)


async def test_the_page_budget_is_shared_by_every_window(tmp_path: Path) -> None:
    _, windows, _, window_afters = await paged_both_ways(tmp_path, busy_week(), pages=8)
    assert len(window_afters) == 8
    assert windows.page_limit_hit
    assert not windows.reached
    # Whatever window ran out, the answer is contiguous from UNTIL back to its oldest order: no gap inside it.
    assert windows.oldest is not None
    expected = [t for t in busy_week() if windows.oldest <= t <= UNTIL]
    assert sorted({t for t, *_ in windows.orders if t >= windows.oldest}) == sorted(set(expected))
