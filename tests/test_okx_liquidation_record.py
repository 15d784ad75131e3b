"""OKX liquidations recorded ahead (server background refresh, collect): a call pages only what is newer.

The same totals as paging the whole week in the call, from one page instead of a cursor chain.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from server.runtime import open_deps
from store.base import CoverageStore
from store.sqlite import SqliteStore
from tests.conftest import FROZEN_NOW, make_settings
from tests.fakes import FakeUpstream, default_fake
from tests.fakes import okx_derivatives as okx_fake
from tools.leverage.okx_liquidations import coverage_key, record

pytestmark = pytest.mark.anyio

PAGES = "/okx/api/v5/public/liquidation-orders"


async def liquidations(make_client, args: dict[str, str] | None = None) -> dict[str, float | None]:
    async with make_client() as client:
        out = (await client.call_tool("get_leverage_state", args or {})).structured_content
    return out["liquidations"]


async def test_a_recorded_week_is_read_back_with_one_live_page(make_client, fake: FakeUpstream, settings) -> None:
    async with open_deps(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW - timedelta(minutes=5)) as deps:
        assert await record(deps.store, deps.http, "BTC", deps.clock()) > 0
    recorded_pages = fake.count("okx", PAGES)
    assert recorded_pages > 2  # the week took a chain of cursor pages, ahead of any call
    liq = await liquidations(make_client)
    assert fake.count("okx", PAGES) - recorded_pages == 1  # the call: one page, for the last five minutes
    long24, short24 = okx_fake.expected_liquidations(FROZEN_NOW - timedelta(hours=24), FROZEN_NOW)
    long7, short7 = okx_fake.expected_liquidations(FROZEN_NOW - timedelta(days=7), FROZEN_NOW)
    assert liq["long_usd_24h"] == pytest.approx(long24, rel=1e-9)
    assert liq["short_usd_24h"] == pytest.approx(short24, rel=1e-9)
    assert liq["long_usd_7d"] == pytest.approx(long7, rel=1e-9)
    assert liq["short_usd_7d"] == pytest.approx(short7, rel=1e-9)


async def test_a_second_record_pages_only_what_is_new(fake: FakeUpstream, settings) -> None:
    async with open_deps(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW - timedelta(hours=1)) as deps:
        await record(deps.store, deps.http, "BTC", deps.clock())
    first = fake.count("okx", PAGES)
    async with open_deps(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW) as deps:
        await record(deps.store, deps.http, "BTC", deps.clock())
        assert isinstance(deps.store, CoverageStore)
        spans = await deps.store.coverage(coverage_key("BTC"), FROZEN_NOW - timedelta(days=8), FROZEN_NOW)
    assert fake.count("okx", PAGES) - first == 1
    assert len(spans) == 1  # the new stretch joined the old one
    assert spans[0][1] > FROZEN_NOW


async def test_a_past_date_inside_the_record_equals_the_paged_answer(make_client, tmp_path: Path) -> None:
    as_of = {"as_of": (FROZEN_NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    paged = await liquidations(make_client, as_of)  # no record: the call pages the cursor itself
    fake = default_fake()
    settings = make_settings(tmp_path / "recorded")
    async with open_deps(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW) as deps:
        await record(deps.store, deps.http, "BTC", deps.clock())
    from mcp import Client

    from server.app import build_server

    server = build_server(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW)
    async with Client(server) as client:  # type: ignore[arg-type]
        out = (await client.call_tool("get_leverage_state", as_of)).structured_content
    assert out["liquidations"] == paged


async def test_the_server_refreshes_the_record_in_the_background(fake: FakeUpstream, tmp_path: Path) -> None:
    from mcp import Client

    from server.app import build_server

    settings = make_settings(tmp_path, refresh_every_s=300.0)
    server = build_server(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW)
    async with Client(server):  # type: ignore[arg-type]
        store = SqliteStore(settings.resolved_db_path())
        with anyio.fail_after(20):  # a deadlock guard, not a timing assertion
            # The refresher runs inside the server: the test can only watch the store it writes.
            while not await store.coverage(coverage_key("BTC"), FROZEN_NOW - timedelta(days=8), FROZEN_NOW):  # noqa: ASYNC110
                await anyio.sleep(0.05)
        await store.close()
    assert fake.count("okx", PAGES) > 2
