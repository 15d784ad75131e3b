"""The HTTP transport's guards, in-process through the ASGI app: auth, DNS rebinding, body limit, healthz, logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest

from fetchers.redact import MASK
from server.app import build_server
from server.http_app import BindRefused, build_http_app, check_bind, is_loopback, transport_security
from server.logs import RedactSecrets, StructuredFormatter
from server.settings import Settings, load_settings
from tests.conftest import FROZEN_NOW, Sleeps
from tests.fakes import FakeUpstream
from tools.deps import Deps

pytestmark = pytest.mark.anyio

TOKEN = "test-token-7f3a9c1e5b"
STRONG_TOKEN = "9f2c41d7e0b85a36c1f4e29d07ab58c3e6d1f20a4b79c85e3d06a1f7b2c94e58"  # what `openssl rand -hex 32` makes
BASE = "http://127.0.0.1:8000"  # the port matters: the loopback Host allow-list is "127.0.0.1:*"
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


def rpc(method: str, params: dict[str, Any] | None = None, id_: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}}


def initialize() -> dict[str, Any]:
    return rpc(
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}},
    )


def sse_json(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC message of a response, whether sent as plain JSON or as one SSE `data:` event."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return dict(response.json())
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return dict(json.loads(data[-1]))


@pytest.fixture
def http_client(fake: FakeUpstream, settings: Settings, sleeps: Sleeps) -> Callable[..., Any]:
    @asynccontextmanager
    async def _make(settings_: Settings | None = None, host: str = "127.0.0.1") -> AsyncIterator[Any]:
        chosen = settings_ or settings
        live: list[Deps] = []
        mcp = build_server(chosen, transport=fake.transport(), clock=lambda: FROZEN_NOW, sleep=sleeps, live=live)
        app = build_http_app(mcp, chosen, live, host=host)
        # httpx's ASGITransport sends no lifespan events: open the session manager (and so our lifespan) here.
        async with (
            mcp.session_manager.run(),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
        ):
            yield client

    return _make


async def test_no_token_configured_serves_loopback(http_client) -> None:
    async with http_client() as client:
        response = await client.post("/mcp", json=initialize(), headers=MCP_HEADERS)
    assert response.status_code == 200
    assert sse_json(response)["result"]["serverInfo"]["name"] == "windvane"


@pytest.mark.parametrize(
    ("auth", "status"),
    [(None, 401), ("Bearer wrong-token-000000", 401), (f"Basic {TOKEN}", 401), (f"Bearer {TOKEN}", 200)],
)
async def test_bearer_token_guards_mcp(http_client, settings: Settings, auth: str | None, status: int) -> None:
    headers = dict(MCP_HEADERS)
    if auth is not None:
        headers["authorization"] = auth
    async with http_client(replace(settings, http_token=TOKEN)) as client:
        response = await client.post("/mcp", json=initialize(), headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in response.text


async def test_healthz_needs_no_token(http_client, settings: Settings) -> None:
    async with http_client(replace(settings, http_token=TOKEN)) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "up", "upstreams": {}}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "evil.example"}, 421),
        ({"host": "127.0.0.1:8000", "origin": "http://evil.example"}, 403),
        ({"host": "localhost:8000", "origin": "http://localhost:3000"}, 200),
    ],
)
async def test_dns_rebinding_host_and_origin(http_client, headers: dict[str, str], status: int) -> None:
    async with http_client() as client:
        response = await client.post("/mcp", json=initialize(), headers={**MCP_HEADERS, **headers})
    assert response.status_code == status


async def test_allowed_hosts_setting_admits_the_proxy_name(http_client, settings: Settings) -> None:
    proxied = replace(settings, allowed_hosts=("mcp.example.com",))
    headers = {**MCP_HEADERS, "host": "mcp.example.com", "origin": "https://mcp.example.com"}
    async with http_client(proxied) as client:
        ok = await client.post("/mcp", json=initialize(), headers=headers)
        other = await client.post("/mcp", json=initialize(), headers={**MCP_HEADERS, "host": "other.example.com"})
    assert ok.status_code == 200
    assert other.status_code == 421


async def test_oversized_body_is_refused(http_client, settings: Settings) -> None:
    small = replace(settings, http_max_body_bytes=2048)
    body = rpc("tools/call", {"name": "get_coinbase_premium", "arguments": {"as_of": "x" * 4096}})
    async with http_client(small) as client:
        response = await client.post("/mcp", json=body, headers=MCP_HEADERS)
    assert response.status_code == 413


async def test_healthz_reports_each_upstream_up_or_degraded(http_client, fake: FakeUpstream) -> None:
    fake.faults["binance"] = lambda request, path: httpx.Response(503, text="down")
    call = rpc("tools/call", {"name": "get_coinbase_premium", "arguments": {"as_of": "2025-11-24", "days": 5}})
    async with http_client() as client:
        assert (await client.post("/mcp", json=initialize(), headers=MCP_HEADERS)).status_code == 200
        result = sse_json(await client.post("/mcp", json=call, headers=MCP_HEADERS))["result"]
        health = (await client.get("/healthz")).json()
    # The answer itself survived the outage: OKX stood in for Binance.
    assert result["structuredContent"]["current"]["reference_venue"] == "okx"
    assert health["status"] == "degraded"
    assert health["upstreams"]["binance"]["status"] == "degraded"
    assert "HTTP 503" in health["upstreams"]["binance"]["last_error"]
    assert health["upstreams"]["coinbase"]["status"] == "up"
    assert health["upstreams"]["okx"]["status"] == "up"


async def test_an_open_circuit_shows_in_healthz(http_client, fake: FakeUpstream) -> None:
    fake.faults["binance"] = lambda request, path: httpx.Response(451, json={"code": 0, "msg": "restricted"})
    call = rpc("tools/call", {"name": "get_coinbase_premium", "arguments": {"as_of": "2025-11-24", "days": 5}})
    async with http_client() as client:
        assert (await client.post("/mcp", json=initialize(), headers=MCP_HEADERS)).status_code == 200
        sse_json(await client.post("/mcp", json=call, headers=MCP_HEADERS))
        health = (await client.get("/healthz")).json()
    binance = health["upstreams"]["binance"]
    assert binance["status"] == "degraded"
    assert binance["circuit"] == "open"  # a geo-block is remembered: no request until the next probe
    assert binance["next_probe_at"] is not None
    assert health["upstreams"]["coinbase"]["circuit"] == "closed"


async def test_request_id_is_returned_and_logged_without_secrets(http_client, settings: Settings) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(StructuredFormatter(as_json=True))
    handler.addFilter(RedactSecrets([TOKEN]))
    logger = logging.getLogger("windvane")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        async with http_client(replace(settings, http_token=TOKEN)) as client:
            given = await client.get("/healthz", headers={"x-request-id": "abc-123"})
            fresh = await client.post(
                "/mcp?token=" + TOKEN, json=initialize(), headers={**MCP_HEADERS, "authorization": f"Bearer {TOKEN}"}
            )
            logging.getLogger("windvane.test").info("a careless line with %s in it", TOKEN)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert given.headers["x-request-id"] == "abc-123"
    assert len(fresh.headers["x-request-id"]) == 16
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [line for line in lines if line["msg"] == "request"]
    assert {r["request_id"] for r in requests} >= {"abc-123", fresh.headers["x-request-id"]}
    assert {r["http_path"] for r in requests} == {"/healthz", "/mcp"}
    assert all(r["http_status"] == 200 for r in requests)
    assert TOKEN not in stream.getvalue()
    assert any(line["msg"] == f"a careless line with {MASK} in it" for line in lines)


@pytest.mark.parametrize(
    ("host", "token", "refused"),
    [
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
        ("0.0.0.0", None, True),
        ("192.168.1.10", None, True),
        ("my-host.internal", None, True),
        ("0.0.0.0", STRONG_TOKEN, False),
    ],
)
def test_bind_refused_off_loopback_without_token(host: str, token: str | None, refused: bool) -> None:
    settings = replace(load_settings({}), http_token=token)
    if refused:
        with pytest.raises(BindRefused, match="WINDVANE_HTTP_TOKEN"):
            check_bind(settings, host)
    else:
        check_bind(settings, host)
    assert is_loopback(host) is (host in ("127.0.0.1", "localhost", "::1"))


def test_transport_security_allow_lists() -> None:
    local = transport_security(load_settings({}), "127.0.0.1")
    assert local.enable_dns_rebinding_protection
    assert "127.0.0.1:*" in local.allowed_hosts
    assert "evil.example" not in local.allowed_hosts
    proxied = transport_security(load_settings({"WINDVANE_ALLOWED_HOSTS": "mcp.example.com, b.example:8443"}), "::")
    assert {"mcp.example.com", "mcp.example.com:*", "b.example:8443"} <= set(proxied.allowed_hosts)
    assert "b.example:8443:*" not in proxied.allowed_hosts
    assert "https://mcp.example.com" in proxied.allowed_origins
    # A wildcard bind with no names cannot know its public Host: the check is off and the token protects /mcp.
    assert not transport_security(load_settings({}), "0.0.0.0").enable_dns_rebinding_protection


def test_http_settings_from_the_environment() -> None:
    assert load_settings({}).http_max_body_bytes == 256 * 1024
    assert load_settings({}).http_stateful is False
    env = {"WINDVANE_HTTP_MAX_BODY_BYTES": "65536", "WINDVANE_HTTP_STATEFUL": "1", "WINDVANE_HTTP_TOKEN": "t" * 12}
    loaded = load_settings(env)
    assert (loaded.http_max_body_bytes, loaded.http_stateful, loaded.http_token) == (65536, True, "t" * 12)


def test_text_log_lines_are_key_value_with_the_request_id() -> None:
    from server.logs import request_id_var

    record = logging.LogRecord("windvane.x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.http_status = 200
    record.color_message = "\x1b[1mhello\x1b[0m"
    token = request_id_var.set("rid-1")
    try:
        RedactSecrets([]).filter(record)
    finally:
        request_id_var.reset(token)
    line = StructuredFormatter(as_json=False).format(record)
    assert "request_id=rid-1" in line
    assert 'msg="hello world"' in line
    assert "http_status=200" in line
    assert "color_message" not in line


async def test_token_guard_closes_unauthenticated_websockets() -> None:
    from server.http_app import BearerAuth

    reached: list[str] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["type"])

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    guard = BearerAuth(app, TOKEN)
    await guard({"type": "websocket", "path": "/mcp", "headers": []}, receive, send)
    await guard({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert reached == ["lifespan"]
