"""A real `windvane serve --transport http` process (uvicorn on 127.0.0.1), and the refusal to bind without a token."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import REPO, windvane_env, windvane_http
from tests.e2e.tool_examples import check_premium
from tests.fakes.serve import start
from tests.test_http_app import MCP_HEADERS, initialize, rpc, sse_json

pytestmark = pytest.mark.slow

TOKEN = "process-test-token-91c4d2"


@pytest.fixture
def fake_url() -> Iterator[str]:
    server = start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_real_http_process_with_token(fake_url: str, tmp_path: Path) -> None:
    env = windvane_env(fake_url, tmp_path / "store.sqlite3", {"WINDVANE_HTTP_TOKEN": TOKEN})
    log_path = tmp_path / "server.log"
    call = rpc("tools/call", {"name": "get_coinbase_premium", "arguments": {"as_of": "2025-11-24", "days": 30}}, 2)
    with windvane_http(env, log_path=log_path) as base, httpx.Client(base_url=base, timeout=60) as client:
        assert client.get("/healthz").status_code == 200
        assert client.post("/mcp", json=initialize(), headers=MCP_HEADERS).status_code == 401
        authed = {**MCP_HEADERS, "authorization": f"Bearer {TOKEN}"}
        assert client.post("/mcp", json=initialize(), headers=authed).status_code == 200
        result = sse_json(client.post("/mcp", json=call, headers=authed))["result"]
        health = client.get("/healthz").json()
    assert result["isError"] is False
    assert check_premium(result["structuredContent"]) == []
    assert health == {"status": "up", "upstreams": health["upstreams"]}
    assert {"coinbase", "binance"} <= set(health["upstreams"])
    log = log_path.read_text()
    assert "request_id=" in log
    assert "http_status=401" in log
    assert TOKEN not in log


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_non_loopback_bind_without_token_exits_2(host: str, tmp_path: Path) -> None:
    env = windvane_env("http://127.0.0.1:9", tmp_path / "store.sqlite3")
    proc = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--transport", "http", "--host", host, "--port", "9"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "WINDVANE_HTTP_TOKEN" in proc.stderr
    assert f"refusing to serve HTTP on non-loopback address '{host}'" in proc.stderr
    assert proc.stdout == ""
