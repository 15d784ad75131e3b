"""The path a user's call takes when upstreams are unreachable or silent, through the MCP client.

Real sockets on loopback (never the network): a closed port stands for a host with no route to the upstreams, a
listener that accepts and never answers for a black-holed one. Each tool must answer, within its deadline, with
nulls for what is missing (never 0), one warning that says what to do, and without re-asking a failing source.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from server.app import build_server
from server.settings import DEFAULT_BASE_URLS
from tests.conftest import FROZEN_NOW, make_settings
from tests.fakes import FakeUpstream
from tools.provenance import NO_ROUTE

pytestmark = pytest.mark.anyio

TOOLS = [
    "get_coinbase_premium",
    "get_etf_flows",
    "exchange_reserve_trend",
    "get_leverage_state",
    "get_macro_backdrop",
    "assess_rebound_vs_reversal",
]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on leaving: connections to it are refused


@asynccontextmanager
async def real_client(tmp_path: Path, port: int, **settings: Any) -> AsyncIterator[Any]:
    urls = {source: f"http://127.0.0.1:{port}/{source}" for source in DEFAULT_BASE_URLS}
    server = build_server(make_settings(tmp_path, base_urls=urls, **settings), transport=None, clock=lambda: FROZEN_NOW)
    async with Client(server) as client:  # type: ignore[arg-type]
        yield client


def missing_figures_are_null(tool: str, out: dict[str, Any]) -> None:
    """The headline figures of each tool, which no reachable source gave, are null (not 0)."""
    if tool == "get_coinbase_premium":
        assert out["current"]["premium_pct"] is None
        assert out["streak"] == {"sign": None, "days": None, "since": None, "complete": False}
        assert out["avg_7d_pct"] is None
    elif tool == "get_etf_flows":
        assert out["month_to_date_usd"] is None
        assert out["month_to_date_days"] is None
        assert out["streak"]["days"] is None
    elif tool == "exchange_reserve_trend":
        assert out["total_btc"] is None
        assert out["change_btc"] is None
    elif tool == "get_leverage_state":
        assert out["open_interest"]["usd"] is None
        assert out["liquidations"]["long_usd_24h"] is None
        assert out["funding"] == []
    elif tool == "get_macro_backdrop":
        assert all(index["close"] is None for index in out["indices"])
        assert out["fed"]["cut_probability"] is None
    else:
        assert out["verdict"] == "undetermined"
        assert all(s["value"] is None for s in out["signals"])


@pytest.mark.parametrize("tool", TOOLS)
async def test_with_no_route_each_tool_says_so_once_with_nulls(tmp_path: Path, tool: str) -> None:
    async with real_client(tmp_path, closed_port()) as client:
        with anyio.fail_after(30):  # a deadlock guard, not a timing assertion
            result = await client.call_tool(tool, {})
    assert not result.is_error, result.content
    out = result.structured_content
    no_route = [w for w in out["warnings"] if w.startswith(NO_ROUTE)]
    assert len(no_route) == 1, out["warnings"]
    assert "HTTPS_PROXY" in no_route[0]
    assert "WINDVANE_<SOURCE>_BASE_URL" in no_route[0]
    assert "connection refused" in no_route[0]
    text = json.dumps(out)
    for noise in ("ConnectError", "request failed", "Traceback", "has no open Fed-decision event"):
        assert noise not in text
    missing_figures_are_null(tool, out)


@asynccontextmanager
async def black_hole() -> AsyncIterator[int]:
    """A listener that accepts every connection and never answers."""

    async def hold(stream: Any) -> None:
        async with stream:  # closed when the listener is cancelled
            await anyio.sleep_forever()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = int(listener.extra(anyio.abc.SocketAttribute.local_port))
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, hold)
        yield port
        tg.cancel_scope.cancel()
    await listener.aclose()


@pytest.mark.parametrize("tool", ["get_coinbase_premium", "get_macro_backdrop", "assess_rebound_vs_reversal"])
async def test_a_silent_upstream_is_answered_within_the_deadline(tmp_path: Path, tool: str) -> None:
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    async with black_hole() as port, real_client(tmp_path, port, tool_deadline_s=1.5, http_timeout_s=30.0) as client:
        with anyio.fail_after(30):  # a deadlock guard, not a timing assertion
            result = await client.call_tool(tool, {}, progress_callback=on_progress)
    assert not result.is_error, result.content
    out = result.structured_content
    assert any("not answered within 1.5 s" in w for w in out["warnings"]), out["warnings"]
    missing_figures_are_null(tool, out)
    assert progress  # the client heard from the call while it waited
    assert all(total is not None and done <= total for done, total in progress)


async def test_a_second_call_does_not_ask_a_failing_source_again(make_client, fake: FakeUpstream) -> None:
    def refused(request: httpx.Request, path: str) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request) from ConnectionRefusedError(111)

    fake.faults["binance"] = refused
    async with make_client() as client:
        first = await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24"})
        asked = fake.count("binance")
        second = await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-21"})
    assert asked == 1  # no route: one attempt, then the circuit is open
    assert fake.count("binance") == asked  # within the cool-down: 0 requests
    for result in (first, second):
        out = result.structured_content
        assert out["current"]["reference_venue"] == "okx"  # the next venue of the chain answered
        assert any("binance" in w and "unreachable" in w for w in out["warnings"]), out["warnings"]


async def test_an_unreachable_polymarket_is_not_reported_as_having_no_market(make_client, fake: FakeUpstream) -> None:
    def refused(request: httpx.Request, path: str) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request) from ConnectionRefusedError(111)

    fake.faults["polymarket"] = refused
    async with make_client() as client:
        out = (await client.call_tool("get_macro_backdrop", {"as_of": "2025-11-24"})).structured_content
    assert out["fed"]["cut_probability"] is None
    assert any("polymarket unreachable" in w for w in out["warnings"]), out["warnings"]
    assert not any("has none either" in w or "has no open" in w for w in out["warnings"])
    assert any("could not be asked" in w for w in out["warnings"])


async def test_the_sources_resource_shows_each_circuit(make_client, fake: FakeUpstream) -> None:
    fake.faults["binance"] = lambda request, path: httpx.Response(451, json={"code": 0, "msg": "restricted"})
    async with make_client() as client:
        await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24"})
        text = (await client.read_resource("windvane://sources")).contents[0].text
    sources = json.loads(text)["sources"]
    assert sources["binance"]["circuit"] == "open"
    assert sources["binance"]["next_probe_at"] is not None
    assert "HTTP 451" in sources["binance"]["last_error"]
    assert sources["coinbase"]["circuit"] == "closed"
    assert sources["coinbase"]["next_probe_at"] is None
