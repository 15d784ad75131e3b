"""HTTP hygiene against a real uvicorn on loopback: slow clients are cut off, a hang-up is one INFO line, weak tokens
are refused for public binds.

The server runs with windvane's own uvicorn configuration (server/http_app.uvicorn_config) and 1-second header and
body limits. Time bounds below are hang guards several times the limit, not speed assertions.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from server.app import build_server
from server.http_app import BindRefused, build_http_app, check_bind, uvicorn_config
from server.logs import request_id_var
from server.settings import Settings, load_settings
from server.transports import serve
from tests.conftest import FROZEN_NOW, Sleeps
from tests.fakes import FakeUpstream
from tests.test_http_app import MCP_HEADERS, initialize, rpc, sse_json
from tools.deps import Deps

LIMIT_S = 1.0
GUARD_S = 5 * LIMIT_S  # a connection still open this long after its limit was not cut off
SLOW_CLIENTS = 10


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.request_id = request_id_var.get()  # as windvane's own handler stamps it, in the request's context
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(
            f"{r.levelname} {r.name} {r.getMessage()} {r.exc_info or ''} {r.exc_text or ''}" for r in self.records
        )


@dataclass
class Running:
    port: int
    records: Records

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def running(fake: FakeUpstream, settings: Settings) -> Iterator[Running]:
    import uvicorn

    limited = replace(settings, http_header_timeout_s=LIMIT_S, http_body_timeout_s=LIMIT_S)
    live: list[Deps] = []
    mcp = build_server(limited, transport=fake.transport(), clock=lambda: FROZEN_NOW, sleep=Sleeps(), live=live)
    config = uvicorn_config(build_http_app(mcp, limited, live, host="127.0.0.1"), limited, host="127.0.0.1", port=0)
    server = uvicorn.Server(config)
    records = Records()
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(records)
    root.setLevel(logging.INFO)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (server.started and server.servers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(port, records)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        root.removeHandler(records)
        root.setLevel(saved_level)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD_S + LIMIT_S)
    return sock


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return received, time.monotonic() - started
        received += chunk


def trickle_headers(port: int, out: list[float]) -> None:
    """A slow-loris client: a header byte every 0.2 s, for ever; records when the server hung up on it."""
    sock = connect(port)
    started = time.monotonic()
    try:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(int(GUARD_S / 0.2) + 10):
            sock.sendall(b"X")
            time.sleep(0.2)
    except OSError:  # the server closed the connection: the next send fails
        out.append(time.monotonic() - started)
    finally:
        sock.close()


def normal_call(base: str) -> dict[str, Any]:
    call = rpc("tools/call", {"name": "get_coinbase_premium", "arguments": {"as_of": "2025-11-24", "days": 5}}, 2)
    with httpx.Client(base_url=base, timeout=60) as client:
        assert client.post("/mcp", json=initialize(), headers=MCP_HEADERS).status_code == 200
        response = client.post("/mcp", json=call, headers=MCP_HEADERS)
    assert response.status_code == 200
    return sse_json(response)


def test_slow_header_clients_are_cut_off_while_normal_calls_succeed(running: Running) -> None:
    closed_after: list[float] = []
    slow = [threading.Thread(target=trickle_headers, args=(running.port, closed_after)) for _ in range(SLOW_CLIENTS)]
    for thread in slow:
        thread.start()
    time.sleep(0.3)  # the slow clients are connected and trickling
    result = normal_call(running.url())
    for thread in slow:
        thread.join(timeout=GUARD_S * 3)
    assert result["result"]["structuredContent"]["current"]["premium_pct"] is not None
    assert len(closed_after) == SLOW_CLIENTS  # every one of them was hung up on...
    assert all(LIMIT_S * 0.9 <= s < GUARD_S for s in closed_after), closed_after  # ...at its limit, not before
    assert "closed a connection whose request headers took over 1 s" in running.records.text()


def test_a_stalled_body_gets_408_within_the_limit(running: Running) -> None:
    sock = connect(running.port)
    sock.sendall(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Accept: application/json, text/event-stream\r\nContent-Length: 500\r\n\r\n{"jsonrpc": '
    )
    answer, took = read_until_closed(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive within 1 s" in answer
    assert took < GUARD_S


def test_a_client_hanging_up_is_one_info_line_without_a_traceback(running: Running) -> None:
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}'
    sock = connect(running.port)
    sock.sendall(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Request-Id: gone-mid-body\r\n"
        b"Accept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n" % (len(body) + 100) + body
    )
    time.sleep(0.2)
    sock.close()  # hangs up with 100 bytes of its body still owed
    call = rpc("tools/call", {"name": "assess_rebound_vs_reversal", "arguments": {"as_of": "2025-11-24"}}, 3)
    raw = httpx.Request(
        "POST", running.url() + "/mcp", json=call, headers={**MCP_HEADERS, "x-request-id": "gone-mid-call"}
    )
    sock = connect(running.port)
    head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: gone-mid-call\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in raw.headers.items() if k.lower() not in ("host", "x-request-id")
    )
    sock.sendall(head.encode() + b"\r\n" + raw.read())
    time.sleep(0.3)
    sock.close()  # hangs up while the assessment runs
    normal_call(running.url())  # the server is still fine, and every earlier request has been logged by now
    time.sleep(0.5)
    records = running.records.records
    assert [r for r in records if r.levelno >= logging.ERROR] == [], running.records.text()
    assert "Traceback" not in running.records.text()
    mid_body = [r for r in records if getattr(r, "request_id", "") == "gone-mid-body" and r.getMessage() == "request"]
    assert len(mid_body) == 1
    assert mid_body[0].levelno == logging.INFO
    assert mid_body[0].http_status == 499  # type: ignore[attr-defined]
    assert mid_body[0].client_disconnected is True  # type: ignore[attr-defined]
    mid_call = [r for r in records if getattr(r, "request_id", "") == "gone-mid-call" and r.getMessage() == "request"]
    assert len(mid_call) <= 1  # at most its one line (the call may still be finishing when the test ends)


@pytest.mark.parametrize(
    "token", ["x", "abcdefgh", "a" * 64, "ab" * 32, "change-me-to-a-long-random-string", "test-token-7f3a9c1e5b"]
)
def test_a_weak_token_is_refused_for_a_public_bind(token: str) -> None:
    settings = replace(load_settings({}), http_token=token)
    with pytest.raises(BindRefused) as refused:
        check_bind(settings, "0.0.0.0")
    message = str(refused.value)
    assert "too weak" in message
    assert "openssl rand -hex 32" in message
    assert token not in message or len(token) == 1  # the token is never echoed (a 1-character one is in any text)
    check_bind(settings, "127.0.0.1")  # loopback: whatever token, or none


def test_a_whitespace_token_is_no_token(capsys: Any) -> None:
    settings = load_settings({"WINDVANE_HTTP_TOKEN": "   "})
    assert settings.http_token is None
    assert serve(settings, transport="http", host="0.0.0.0", port=0) == 2
    assert "without a token" in capsys.readouterr().err


def test_a_one_character_token_stops_serve_with_how_to_make_one(capsys: Any) -> None:
    settings = load_settings({"WINDVANE_HTTP_TOKEN": "x"})
    assert serve(settings, transport="http", host="0.0.0.0", port=0) == 2
    err = capsys.readouterr().err
    assert "WINDVANE_HTTP_TOKEN is too weak (length 1," in err
    assert "openssl rand -hex 32" in err
