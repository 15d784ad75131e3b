"""get_leverage_state issues its independent requests together: proven by request rounds, not by timing.

The transport holds every request until no task can make progress without a response (anyio's
wait_all_tasks_blocked), then answers all requests in flight as one round. Requests that the code awaits one after
the other land in different rounds; requests it runs concurrently land in the same one. The number of rounds is the
tool's critical path in round trips, the figure bench/assess_cold.py measures with a real delay.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from anyio import wait_all_tasks_blocked

from server.runtime import open_deps
from tests.conftest import FROZEN_NOW, make_settings
from tests.fakes import FakeUpstream, default_fake
from tools.leverage.tool import compute_leverage
from tools.point_in_time import PointInTime

pytestmark = pytest.mark.anyio


class RoundTransport:
    """Answers requests in rounds: a round is every request in flight once all tasks are blocked.

    A round closes only after every request of the previous one has been answered, so the requests its answers lead
    to are all in the next round, as with one fixed latency per request.
    """

    def __init__(self, fake: FakeUpstream) -> None:
        self.fake = fake
        self.rounds: list[list[str]] = []
        self._open: list[str] = []
        self._unanswered = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        mine = self._open
        mine.append(request.url.path)
        while mine is self._open:
            await wait_all_tasks_blocked()
            if mine is self._open and self._unanswered == 0:
                self.rounds.append(mine)
                self._open = []
                self._unanswered = len(mine)
        self._unanswered -= 1
        return self.fake.handle(request)

    def round_of(self, path: str) -> list[int]:
        return [i for i, paths in enumerate(self.rounds) if path in paths]


async def rounds_for(tmp_path: Path, as_of: str | None) -> RoundTransport:
    recorder = RoundTransport(default_fake())
    settings = make_settings(tmp_path)
    async with open_deps(settings, transport=httpx.MockTransport(recorder.handle), clock=lambda: FROZEN_NOW) as deps:
        out = await compute_leverage(deps, "BTC", PointInTime.parse(as_of, deps.clock()))
    assert out.liquidations.source == "okx"
    assert out.open_interest.venues == ["binance_futures", "okx", "bybit"]
    return recorder


async def test_okx_instrument_is_fetched_with_the_first_liquidation_page(tmp_path: Path) -> None:
    recorder = await rounds_for(tmp_path, None)
    pages = recorder.round_of("/okx/api/v5/public/liquidation-orders")
    assert recorder.round_of("/okx/api/v5/public/instruments") == [0]
    # The week is cut into day-long windows, each paging its own cursor: on the fake's quiet week (2 orders an hour,
    # a day fits one page of 100) the first page, then the six other days at once, instead of one page per round.
    assert pages == [0, 1]
    assert recorder.rounds[1].count("/okx/api/v5/public/liquidation-orders") == 6


async def test_binance_open_interest_and_mark_price_are_fetched_together(tmp_path: Path) -> None:
    recorder = await rounds_for(tmp_path, None)
    oi = recorder.round_of("/binance_futures/fapi/v1/openInterest")
    assert oi == recorder.round_of("/binance_futures/fapi/v1/premiumIndex")
    # With the history, in the first round: a venue that refuses gets one request per endpoint, once; its circuit
    # is then open (tests/test_breaker_and_deadline.py).
    assert oi == recorder.round_of("/binance_futures/futures/data/openInterestHist") == [0]


@pytest.mark.parametrize("as_of", [None, "2025-11-24"])
async def test_the_critical_path_is_the_liquidation_cursor(tmp_path: Path, as_of: str | None) -> None:
    recorder = await rounds_for(tmp_path, as_of)
    pages = recorder.round_of("/okx/api/v5/public/liquidation-orders")
    # Nothing waits longer than the liquidation pages, which start in the first round.
    assert len(recorder.rounds) == len(pages)
    assert pages[0] == 0
    independent = ("/binance_futures/fapi/v1/fundingRate", "/okx/api/v5/market/books" if as_of is None else None)
    for path in filter(None, independent):
        assert recorder.round_of(path) == [0]
