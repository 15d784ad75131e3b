"""`windvane doctor` against the loopback fake: one source up, one answering 451, one on a closed port, keyed ones
without keys; the exit code; the saved report in `windvane://sources`; the WebSocket handshake probe.

Every base URL points at 127.0.0.1: nothing here leaves the machine. The run's own time bound is the command's
timeout (`--timeout`), so the test asserts states, not durations.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from server.doctor import ProbeResult, check_store, network_reason, probe_websocket
from server.probe_table import PROBES, UNUSED, Probe
from server.settings import DEFAULT_BASE_URLS, KEYED_SOURCES
from tests.e2e.harness import free_port, windvane_command, windvane_env
from tests.fakes import FakeUpstream
from tests.fakes.mempool import esplora
from tests.fakes.serve import start

KEY = "doctor-test-coinglass-key-77f1"
# Binance's geo-block answer, in its documented shape: HTTP 451 with a JSON body.
BINANCE_451 = {"code": 0, "msg": "Service unavailable from a restricted location according to 'b. Eligibility'."}
HANG_GUARD_S = 60


def up(request: httpx.Request, path: str) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def coinglass(request: httpx.Request, path: str) -> httpx.Response:
    if request.headers.get("CG-API-KEY") != KEY:
        return httpx.Response(401, json={"code": "401", "msg": "invalid key"})
    return httpx.Response(200, json={"code": "0", "msg": "success", "data": ["BTC", "ETH"]})


@pytest.fixture
def fake() -> Iterator[tuple[FakeUpstream, str]]:
    upstream = FakeUpstream(
        handlers={"mempool": esplora, "coinglass": coinglass},
        faults={"binance": lambda request, path: httpx.Response(451, json=BINANCE_451)},
    )
    server = start(fake=upstream)
    try:
        yield upstream, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*windvane_command(), "doctor", "--timeout", "3", *args], env=env, capture_output=True,
                          text=True, timeout=HANG_GUARD_S, check=False)  # fmt: skip


def test_doctor_reports_each_state_and_fails_on_an_unreachable_keyless_source(
    fake: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, url = fake
    closed = f"http://127.0.0.1:{free_port()}"
    env = windvane_env(url, tmp_path / "store.sqlite3", {
        "WINDVANE_OKX_BASE_URL": f"{closed}/okx",
        "WINDVANE_BINANCE_FUTURES_WS_BASE_URL": f"ws://127.0.0.1:{free_port()}",
        "WINDVANE_BYBIT_WS_BASE_URL": f"ws://127.0.0.1:{free_port()}",
        "WINDVANE_COINGLASS_API_KEY": KEY,
    })  # fmt: skip

    done = doctor(env, "--json")

    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    sources = report["sources"]
    assert sources["mempool"]["state"] == "reachable"
    assert sources["mempool"]["http_status"] == 200
    assert sources["binance"] == {**sources["binance"], "state": "blocked", "http_status": 451}
    assert "unavailable from this location" in sources["binance"]["detail"]
    assert sources["okx"]["state"] == "unreachable"
    assert sources["okx"]["detail"] == "connection refused"
    assert sources["okx"]["http_status"] is None
    assert sources["coinglass"]["state"] == "reachable"  # the key went in its header
    assert sources["sosovalue"] == {**sources["sosovalue"], "state": "not_configured"}
    assert "WINDVANE_SOSOVALUE_API_KEY" in sources["sosovalue"]["detail"]
    assert sources["bybit_ws"]["state"] == "unreachable"
    assert "okx" in report["unreachable_defaults"]
    assert "sosovalue" not in report["unreachable_defaults"]
    assert report["keys"]["WINDVANE_COINGLASS_API_KEY"] is True
    assert report["keys"]["WINDVANE_SOSOVALUE_API_KEY"] is False
    assert report["store"] == {"path": str(tmp_path / "store.sqlite3"), "writable": True,
                               "detail": "will be created on first use"}  # fmt: skip
    assert KEY not in done.stdout + done.stderr
    assert upstream.count("sosovalue") == 0  # a keyed source without a key is never requested
    assert upstream.count("mempool", "/api/blocks/tip/height") == 1  # one cheap request per upstream
    saved = json.loads((tmp_path / "store.sqlite3.doctor.json").read_text())
    assert saved["sources"] == sources
    assert KEY not in (tmp_path / "store.sqlite3.doctor.json").read_text()


def test_doctor_passes_when_every_default_keyless_source_answers(tmp_path: Path) -> None:
    upstream = FakeUpstream(handlers={source: up for source in DEFAULT_BASE_URLS})
    server = start(fake=upstream)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = windvane_env(url, tmp_path / "store.sqlite3", {"WINDVANE_LIQUIDATION_STREAM_SECONDS": "0"})
        done = doctor(env)
    finally:
        server.shutdown()
        server.server_close()

    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout.splitlines()
    assert any(line.split()[:2] == ["coinbase", "reachable"] for line in table)
    assert any(line.split()[:2] == ["bybit_ws", "skipped"] for line in table)
    assert any(line.startswith("cryptoquant") and "not configured" in line for line in table)
    assert f"store: {tmp_path / 'store.sqlite3'} (writable" in done.stdout
    assert "result: every default keyless source answered" in done.stdout
    # the cheapest endpoint of each keyless HTTP source, exactly once
    for source, probe in PROBES.items():
        if probe.key is None and not probe.websocket:
            assert upstream.count(source, unquote(probe.path)) == 1, source


def test_the_probe_table_covers_every_configured_upstream() -> None:
    assert set(PROBES) | set(UNUSED) == set(DEFAULT_BASE_URLS)
    keyed = {probe.key_source or source for source, probe in PROBES.items() if probe.key is not None}
    assert keyed == set(KEYED_SOURCES)


def test_a_store_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    # Permission bits do not stop root (CI runs as root), so the parent here is a file, not a directory.
    (tmp_path / "not-a-dir").write_text("")

    check = check_store(tmp_path / "not-a-dir" / "store.sqlite3")

    assert check.writable is False
    assert check.detail == f"cannot be created: {tmp_path / 'not-a-dir'} is not writable"
    assert check_store(tmp_path / "new" / "store.sqlite3").writable is True


def test_network_reasons_name_the_cause() -> None:
    import socket

    dns = httpx.ConnectError("boom")
    dns.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert network_reason(dns, 3) == "DNS lookup failed"
    assert network_reason(httpx.ConnectError("[Errno 111] Connection refused"), 3) == "connection refused"
    assert network_reason(httpx.ReadTimeout("slow"), 3) == "timed out after 3 s"
    assert network_reason(TimeoutError(), 2.5) == "timed out after 2.5 s"


@pytest.mark.anyio
async def test_websocket_probe_tells_a_handshake_from_a_refusal() -> None:
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.http11 import Request, Response

    def refuse_path(connection: ServerConnection, request: Request) -> Response | None:
        if request.path.startswith("/blocked"):
            return connection.respond(451, "restricted location\n")
        return None

    async def handler(connection: ServerConnection) -> None:
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0, process_request=refuse_path) as server:
        port = server.sockets[0].getsockname()[1]
        ok = await probe_websocket(f"ws://127.0.0.1:{port}", Probe("/ws", websocket=True), timeout_s=3, user_agent="t")
        no = await probe_websocket(f"ws://127.0.0.1:{port}", Probe("/blocked", websocket=True), timeout_s=3,
                                   user_agent="t")  # fmt: skip
    assert (ok.state, ok.http_status) == ("reachable", 101)
    assert (no.state, no.http_status) == ("blocked", 451)


@pytest.mark.anyio
async def test_the_sources_resource_shows_the_last_doctor_report(tmp_path: Path) -> None:
    from mcp import Client

    from server.app import build_server
    from server.doctor import DoctorReport, StoreCheck, save_report
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    blocked = ProbeResult(state="blocked", http_status=451, detail="HTTP 451: unavailable from this location",
                          endpoint="http://fake.test/binance/api/v3/ping", elapsed_ms=12.0)  # fmt: skip
    report = DoctorReport(
        checked_at="2025-11-26T11:00:00+00:00",
        windvane_version="0",
        timeout_s=5,
        sources={"binance": blocked},
        store=StoreCheck(path=str(settings.resolved_db_path()), writable=True, detail="exists"),
        keys={},
        unreachable_defaults=[],
    )
    assert save_report(settings, report) is not None
    server = build_server(settings, transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    async with Client(server) as client:  # type: ignore[arg-type]
        result = await client.read_resource("windvane://sources")
    body = json.loads(result.contents[0].text)  # type: ignore[union-attr]
    assert body["doctor_checked_at"] == "2025-11-26T11:00:00+00:00"
    assert body["sources"]["binance"]["probe"] == blocked.model_dump()
    assert body["sources"]["coinbase"]["probe"] is None
    assert body["store"]["path"] == str(settings.resolved_db_path())
    assert body["store"]["writable"] is True
    # the fields the resource always had are still there
    assert {"base_url", "key_configured", "last_success_at", "last_error", "upstream_requests"} <= set(
        body["sources"]["coinbase"]
    )
    assert "cache" in body


@pytest.mark.anyio
async def test_a_postgresql_store_is_checked_by_connecting_and_reported_without_credentials(postgres_url: str) -> None:
    from server.doctor import check_database

    ok = await check_database(postgres_url, timeout_s=5)
    assert ok.writable is True, ok.detail
    assert ok.path.startswith("postgresql://127.0.0.1:")
    assert "@" not in ok.path
    closed = f"postgresql://windvane:hunter2@127.0.0.1:{free_port()}/windvane"
    down = await check_database(closed, timeout_s=5)
    assert down.writable is False
    assert down.detail.startswith("cannot connect (")
    assert "hunter2" not in down.model_dump_json()
    assert down.path == f"postgresql://127.0.0.1:{closed.rsplit(':', 1)[1]}"
