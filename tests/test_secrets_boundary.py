"""Configured secrets never leave windvane, whatever a hostile keyed upstream does with them.

Canary keys are configured for every keyed source plus an HTTP token; loopback upstreams quote the presented key back
in their error bodies (plain, URL-encoded, base64, and cut off at a parser's truncation point), or redirect a keyed
request to a second origin that counts the keys it receives. No canary, nor a long piece of one, may appear in a
tool result, a resource, /healthz, a log line or CLI output, and the second origin must receive no key.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from mcp import Client

from fetchers.errors import BadPayloadError, NotRetried
from fetchers.http import Http, HttpConfig
from fetchers.redact import MASK, Redactor
from server.app import build_server
from server.http_app import build_http_app
from server.logs import configure_logging
from server.settings import KEYED_SOURCES, Settings
from tests.conftest import FROZEN_NOW, TOOLS, Sleeps, make_settings
from tests.fakes import FakeUpstream, base_urls
from tests.fakes.serve import start
from tests.test_http_app import MCP_HEADERS, initialize, rpc, sse_json
from tools.deps import Deps

pytestmark = pytest.mark.anyio

# '+' and '/' keep the canaries out of the parsers' generic long-token mask: only masking by value catches them.
CANARIES = {
    "coinglass": "cg+canary/Q7w3x9",
    "sosovalue": "soso+canary/K4m8z2",
    "cryptoquant": "cq+canary/P2r6t1",
    "fred": "fred+canary/H5j1v8",
}
TOKEN = "tok+canary/Z9y8x7w6v5u4t3s2r1"
SECRETS = (*CANARIES.values(), TOKEN)
KEYED_HOSTS = ("coinglass", "sosovalue", "cryptoquant", "fred_api")
PIECE = 8  # no run of this many characters of a canary may leave: a key cut in half is still a leak


def leaks(text: str) -> list[str]:
    """Every secret that shows in `text`, whole, in any encoding, or as a piece of PIECE characters."""
    found = []
    for secret in SECRETS:
        forms = {secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode().rstrip("=")}
        pieces = {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}
        if any(form in text for form in forms) or any(piece in text for piece in pieces):
            found.append(secret)
    return found


def presented_key(request: httpx.Request) -> str | None:
    sent = [*request.headers.values(), *request.url.params.values()]
    return next((key for key in CANARIES.values() if any(key in value for value in sent)), None)


def echo_body(source: str, key: str) -> httpx.Response:
    """The upstream's documented error shape, quoting the key it was given in each encoding."""
    quoted = f"invalid credential {key} ({quote(key, safe='')}, {base64.b64encode(key.encode()).decode()})"
    if source == "coinglass":  # CoinGlass's documented shape; the key pushed to where the parser truncates (160)
        return httpx.Response(200, json={"code": "40001", "msg": "x" * 150 + quoted})
    if source == "sosovalue":
        return httpx.Response(200, json={"code": 40001, "msg": quoted, "data": None})
    if source == "cryptoquant":
        return httpx.Response(200, json={"status": {"code": 401, "message": quoted}})
    return httpx.Response(200, json={"error_code": 400, "error_message": quoted})  # FRED's JSON API


def hostile(fake: FakeUpstream, answer: Any) -> FakeUpstream:
    """`fake` with every keyed host answering a keyed request with `answer(source, key, request)`."""
    for source in KEYED_HOSTS:

        def fault(request: httpx.Request, path: str, source: str = source) -> httpx.Response:
            key = presented_key(request)
            if key is None:
                return fake.handlers[source](request, path)
            return answer(source, key, request)  # type: ignore[no-any-return]

        fake.faults[source] = fault
    return fake


@pytest.fixture
def loopback() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def _serve(fake: FakeUpstream) -> str:
        server = start(fake=fake)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield _serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """windvane's own log configuration, at DEBUG (httpx's request lines included), written to a string."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("httpx").level
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("DEBUG", SECRETS)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    yield stream
    root.handlers[:], level, httpx_level = saved
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(httpx_level)


def canary_settings(tmp_path: Path, base: str) -> Settings:
    keys = {source: CANARIES[source] for source in KEYED_SOURCES}
    return make_settings(tmp_path, base_urls=base_urls(list(make_settings(tmp_path).base_urls), base), api_keys=keys)


async def every_answer(client: Client) -> str:
    """The text of every tool's answer (now and a past date, twice: the second from remembered failures) and of
    every resource."""
    texts = []
    for _ in range(2):
        for tool in TOOLS:
            for args in ({}, {"as_of": "2025-11-24"}):
                result = await client.call_tool(tool, args)
                texts.append(json.dumps(result.structured_content))
                texts.extend(getattr(c, "text", "") for c in result.content)
    for uri in ("windvane://sources", "windvane://methodology"):
        contents = (await client.read_resource(uri)).contents
        texts.extend(getattr(c, "text", "") for c in contents)
    return "\n".join(texts)


async def test_a_key_quoted_back_by_upstreams_never_leaves(
    fake: FakeUpstream, loopback: Any, tmp_path: Path, log_stream: io.StringIO
) -> None:
    base = loopback(hostile(fake, lambda source, key, request: echo_body(source, key)))
    settings = replace(canary_settings(tmp_path, base), http_token=TOKEN)
    server = build_server(settings, clock=lambda: FROZEN_NOW, sleep=Sleeps())
    async with Client(server) as client:
        text = await every_answer(client)
    logged = log_stream.getvalue()
    assert leaks(text) == []
    assert leaks(logged) == []
    # Not vacuous: every keyed host was asked with its key, and what they quoted back was masked, not dropped.
    assert {s for s in KEYED_HOSTS if any(presented_key(r) for r in fake.requests if f"/{s}/" in r.url.path)} == set(
        KEYED_HOSTS
    )
    assert MASK in text
    assert "invalid credential" in text


async def test_nothing_leaks_over_http_or_through_healthz(fake: FakeUpstream, loopback: Any, tmp_path: Path) -> None:
    base = loopback(hostile(fake, lambda source, key, request: echo_body(source, key)))
    settings = replace(canary_settings(tmp_path, base), http_token=TOKEN)
    live: list[Deps] = []
    mcp = build_server(settings, clock=lambda: FROZEN_NOW, sleep=Sleeps(), live=live)
    app = build_http_app(mcp, settings, live, host="127.0.0.1")
    headers = {**MCP_HEADERS, "authorization": f"Bearer {TOKEN}"}
    bodies = []
    async with (
        mcp.session_manager.run(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as client,
    ):
        assert (await client.post("/mcp", json=initialize(), headers=headers)).status_code == 200
        for i, tool in enumerate(TOOLS):
            call = rpc("tools/call", {"name": tool, "arguments": {"as_of": "2025-11-24"}}, i + 2)
            bodies.append(json.dumps(sse_json(await client.post("/mcp", json=call, headers=headers))))
        read = rpc("resources/read", {"uri": "windvane://sources"}, 99)
        bodies.append(json.dumps(sse_json(await client.post("/mcp", json=read, headers=headers))))
        health = await client.get("/healthz")
    assert health.status_code == 200
    assert leaks(health.text) == []
    assert leaks("\n".join(bodies)) == []
    degraded = health.json()["upstreams"]
    assert any(MASK in (state["last_error"] or "") for state in degraded.values()), health.text


def test_cli_output_masks_every_secret(
    fake: FakeUpstream, loopback: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from server.cli import main

    base = loopback(hostile(fake, lambda source, key, request: echo_body(source, key)))
    monkeypatch.setenv("WINDVANE_DB_PATH", str(tmp_path / "cli.sqlite3"))
    monkeypatch.setenv("WINDVANE_HTTP_TOKEN", TOKEN)
    for source in list(make_settings(tmp_path).base_urls):
        monkeypatch.setenv(f"WINDVANE_{source.upper()}_BASE_URL", f"{base}/{source}")
    for source in KEYED_SOURCES:
        monkeypatch.setenv(f"WINDVANE_{source.upper()}_API_KEY", CANARIES[source])
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        main(["brief", "--as-of", "2025-11-24", "--json"])
        main(["brief", "--as-of", "2025-11-24"])
        print(f"a careless print of {TOKEN} and {CANARIES['fred']}")  # the stream itself masks
        logging.getLogger("windvane.test").warning("a careless log line with %s", CANARIES["coinglass"])
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    out, err = capsys.readouterr()
    assert "verdict" in out.lower()
    assert leaks(out) == []
    assert leaks(err) == []
    assert MASK in out


def redirecting_upstreams(fake: FakeUpstream, loopback: Any) -> tuple[str, FakeUpstream, list[str]]:
    """Keyed hosts that redirect every keyed request to a second loopback origin counting the keys it receives:
    (the first origin's base URL, the second origin, the keys it received)."""
    received: list[str] = []

    def count(request: httpx.Request, path: str) -> httpx.Response:
        received.extend(key for key in SECRETS if key in " ".join([*request.headers.values(), str(request.url)]))
        return httpx.Response(200, json={"code": "0", "msg": None, "data": []})

    other = FakeUpstream(handlers={s: count for s in KEYED_HOSTS})
    other_base = loopback(other)

    def redirect(source: str, key: str, request: httpx.Request) -> httpx.Response:
        rest = request.url.raw_path.decode().split("/", 2)[2]  # the API path and query, after /<source>/
        return httpx.Response(302, headers={"Location": f"{other_base}/{source}/{rest}"})

    return loopback(hostile(fake, redirect)), other, received


async def test_keys_never_follow_a_redirect_to_another_origin(
    fake: FakeUpstream, loopback: Any, tmp_path: Path
) -> None:
    base, other, received = redirecting_upstreams(fake, loopback)
    server = build_server(canary_settings(tmp_path, base), clock=lambda: FROZEN_NOW, sleep=Sleeps())
    async with Client(server) as client:
        results = [await client.call_tool(tool, {"as_of": "2025-11-24"}) for tool in TOOLS]
        sources = json.loads((await client.read_resource("windvane://sources")).contents[0].text)  # type: ignore[union-attr]
    assert received == []
    assert other.requests == []  # not even a keyless copy: the redirect is refused before anything is sent
    warnings = " ".join(w for r in results for w in (r.structured_content or {}).get("warnings", []))
    assert "another origin" in warnings
    for source in KEYED_HOSTS:
        assert "another origin" in (sources["sources"][source]["last_error"] or ""), source


async def test_keys_never_follow_a_redirect_over_http_either(fake: FakeUpstream, loopback: Any, tmp_path: Path) -> None:
    base, other, received = redirecting_upstreams(fake, loopback)
    settings = replace(canary_settings(tmp_path, base), http_token=TOKEN)
    live: list[Deps] = []
    mcp = build_server(settings, clock=lambda: FROZEN_NOW, sleep=Sleeps(), live=live)
    app = build_http_app(mcp, settings, live, host="127.0.0.1")
    headers = {**MCP_HEADERS, "authorization": f"Bearer {TOKEN}"}
    async with (
        mcp.session_manager.run(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as client,
    ):
        assert (await client.post("/mcp", json=initialize(), headers=headers)).status_code == 200
        call = rpc("tools/call", {"name": "get_etf_flows", "arguments": {"as_of": "2025-11-24"}}, 2)
        answer = sse_json(await client.post("/mcp", json=call, headers=headers))
        health = (await client.get("/healthz")).json()
    assert received == []
    assert other.requests == []
    assert any("another origin" in w for w in answer["result"]["structuredContent"]["warnings"])
    assert "another origin" in health["upstreams"]["coinglass"]["last_error"]


async def test_same_origin_redirects_still_carry_the_key_and_keyless_ones_go_anywhere() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("CG-API-KEY")))
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/new"})
        if request.url.host == "keyless.test" and request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "http://elsewhere.test/here"})
        return httpx.Response(200, json={"ok": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True) as client:
        config = HttpConfig(
            base_urls={"coinglass": "http://keyed.test", "plain": "http://keyless.test"},
            api_keys={"coinglass": "a-long-key-123"},
        )
        http = Http(client, config)
        keyed = await http.get("coinglass", "/old", lambda r: r.json(), headers={"CG-API-KEY": "a-long-key-123"})
        plain = await http.get("plain", "/moved", lambda r: r.json())
    assert keyed.value == plain.value == {"ok": True}
    assert seen == [
        ("http://keyed.test/old", "a-long-key-123"),
        ("http://keyed.test/new", "a-long-key-123"),
        ("http://keyless.test/moved", None),
        ("http://elsewhere.test/here", None),
    ]


async def test_an_off_origin_redirect_of_a_keyed_request_is_an_error_naming_the_source() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "keyed.test", "the key went to another origin"
        return httpx.Response(307, headers={"Location": "http://evil.test/collect"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True) as client:
        http = Http(
            client, HttpConfig(base_urls={"coinglass": "http://keyed.test"}, api_keys={"coinglass": "k-1234567"})
        )
        with pytest.raises(NotRetried) as caught:
            await http.get("coinglass", "/x", lambda r: r.json(), headers={"CG-API-KEY": "k-1234567"})
    assert caught.value.source == "coinglass"
    assert "another origin (http://evil.test)" in caught.value.message


def test_redactor_masks_every_form_and_leaves_short_values() -> None:
    key = "a+b/c=d&e-123"
    redactor = Redactor([key, "short"])
    for form in (key, quote(key, safe=""), base64.b64encode(key.encode()).decode(), json.dumps(key)[1:-1]):
        assert redactor.mask(f"x {form} y") == f"x {MASK} y", form
    assert redactor.mask("short words stay") == "short words stay"
    assert not Redactor([])
    assert Redactor([]).mask("anything") == "anything"


async def test_the_stored_error_is_masked_at_the_source() -> None:
    key = "cg+canary/Q7w3x9"

    def parse(response: httpx.Response) -> Any:
        raise ValueError(f"bad key {key}")  # a parser quoting the body it was given

    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))) as client:
        http = Http(client, HttpConfig(base_urls={"coinglass": "http://keyed.test"}, api_keys={"coinglass": key}))
        for _ in range(2):  # the second answer comes from the remembered failure
            with pytest.raises(Exception) as caught:
                await http.get("coinglass", "/x", parse)
            assert key not in str(caught.value)
            assert MASK in str(caught.value)
    status = http.status["coinglass"]
    assert status.last_error is not None
    assert key not in status.last_error
    assert MASK in status.last_error
    assert key not in str(http.breakers.circuit("coinglass").last_error)


async def test_doctor_never_sends_a_key_through_a_redirect(loopback: Any, tmp_path: Path) -> None:
    from server.doctor import run_doctor

    received: list[str] = []

    def count(request: httpx.Request, path: str) -> httpx.Response:
        received.extend(key for key in SECRETS if key in " ".join([*request.headers.values(), str(request.url)]))
        return httpx.Response(200, json={})

    other_base = loopback(FakeUpstream(handlers={s: count for s in KEYED_HOSTS}))

    def redirect(request: httpx.Request, path: str) -> httpx.Response:
        source = request.url.path.split("/")[1]
        return httpx.Response(302, headers={"Location": f"{other_base}/{source}{path}"})

    base = loopback(FakeUpstream(handlers={s: redirect for s in KEYED_HOSTS}))
    settings = canary_settings(tmp_path, base)
    report = await run_doctor(replace(settings, base_urls={s: f"{base}/{s}" for s in KEYED_HOSTS}), timeout_s=5)
    assert received == []
    for source in KEYED_HOSTS:
        assert report.sources[source].http_status == 302, source
        assert "not sent on with its key" in report.sources[source].detail


def test_every_configured_secret_is_known_to_the_redactor(tmp_path: Path) -> None:
    settings = replace(
        canary_settings(tmp_path, "http://fake.test"),
        http_token=TOKEN,
        redis_url="redis://:redis-pass-8c1f@127.0.0.1:6379/0",
        database_url="postgresql://windvane:pg-pass-3e9a@127.0.0.1/windvane",
    )
    assert set(settings.secrets) == {*CANARIES.values(), TOKEN, "redis-pass-8c1f", "pg-pass-3e9a"}
    masked = settings.redactor().mask(f"{TOKEN} {CANARIES['fred']} redis-pass-8c1f pg-pass-3e9a")
    assert masked == " ".join([MASK] * 4)


@hypothesis_settings(max_examples=200, database=None, derandomize=True, deadline=None)
@given(
    secret=st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=6, max_size=40),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    encoding=st.sampled_from(["plain", "url", "url_plus", "base64", "base64url", "json"]),
)
def test_any_secret_in_any_encoding_is_masked(secret: str, before: str, after: str, encoding: str) -> None:
    from urllib.parse import quote_plus

    form = {
        "plain": secret,
        "url": quote(secret, safe=""),
        "url_plus": quote_plus(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
        "json": json.dumps(secret)[1:-1],
    }[encoding]
    masked = Redactor([secret]).mask(before + form + after)
    assert form not in masked
    assert MASK in masked


async def test_a_parser_quoting_a_whole_body_is_cut_short_and_masked() -> None:
    key = "cg+canary/Q7w3x9"
    body = "x" * 295 + key + "y" * 10_000  # the key straddles the cut: half a key is still a leak

    def parse(response: httpx.Response) -> Any:
        raise ValueError(body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))) as client:
        http = Http(client, HttpConfig(base_urls={"coinglass": "http://keyed.test"}, api_keys={"coinglass": key}))
        with pytest.raises(BadPayloadError) as caught:
            await http.get("coinglass", "/x", parse)
    message = caught.value.message
    assert len(message) < 400
    assert leaks(message) == []
    assert message.endswith("x" * 5 + MASK[:5] + ")")
