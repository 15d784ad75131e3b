"""What this host can reach: one cheap request per upstream (server/probe_table.py), all at once, each bounded by a
short timeout, plus the store and the keys. `windvane doctor` prints it; the last report is saved beside the store
so the `windvane://sources` resource shows the same facts to a client.

States: reachable (HTTP 2xx); blocked (the upstream answered with a refusal: 451 region, 403 Cloudflare or IP,
401 key, 429 rate limit, 5xx; the code is kept); unreachable (DNS, refused, timeout, TLS); not_configured (a keyed
source without its key: never requested); skipped (the liquidation streams when they are turned off).
A key is never printed, saved or logged: only whether it is set.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import anyio
import httpx
from pydantic import BaseModel

from server.probe_table import PROBES, UNUSED, Probe
from server.settings import KEYED_SOURCES, Settings

State = Literal["reachable", "blocked", "unreachable", "not_configured", "skipped"]
DEFAULT_TIMEOUT_S = 5.0
# The whole doctor run, whatever the per-probe timeout: probes still out by then count as timed out.
TOTAL_BUDGET_S = 10.0
CHALLENGE_HEAD_BYTES = 64 * 1024
STREAM_SOURCES = ("binance_futures_ws", "bybit_ws")


class ProbeResult(BaseModel):
    state: State
    http_status: int | None = None
    detail: str
    endpoint: str  # scheme://host/path: never the query, where FRED's key would travel
    elapsed_ms: float | None = None


class StoreCheck(BaseModel):
    path: str  # the SQLite file, or the PostgreSQL server and database (never the user or password)
    writable: bool | None  # null: not checked (a PostgreSQL store `windvane doctor` has not looked at)
    detail: str


class DoctorReport(BaseModel):
    checked_at: str
    windvane_version: str
    timeout_s: float
    sources: dict[str, ProbeResult]
    store: StoreCheck
    keys: dict[str, bool]  # WINDVANE_<SOURCE>_API_KEY -> set or not
    unreachable_defaults: list[str]  # keyless sources windvane uses by default that this host cannot reach


# -- one probe ------------------------------------------------------------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def network_reason(exc: BaseException, timeout_s: float) -> str:
    """Why a request got no HTTP answer at all, in the words a person would look up."""
    chain = _chain(exc)
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in str(exc).lower():
        return "DNS lookup failed"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in str(exc).lower():
        return "connection refused"
    if any(isinstance(e, TimeoutError | httpx.TimeoutException) for e in chain):
        return f"timed out after {timeout_s:g} s"
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "TLS handshake failed"
    return f"connection failed ({type(exc).__name__})"


REFUSALS = {
    401: "key rejected",
    403: "forbidden (region, IP or Cloudflare block)",
    418: "rate limited",
    429: "rate limited",
    451: "unavailable from this location",
}


def answered(code: int, endpoint: str, elapsed_ms: float, *, challenge: bool = False) -> ProbeResult:
    if challenge:
        return ProbeResult(
            state="blocked",
            http_status=code,
            detail=f"HTTP {code}: Cloudflare challenge page",
            endpoint=endpoint,
            elapsed_ms=elapsed_ms,
        )
    if 200 <= code < 300:
        return ProbeResult(
            state="reachable", http_status=code, detail=f"HTTP {code}", endpoint=endpoint, elapsed_ms=elapsed_ms
        )
    why = REFUSALS.get(code, "upstream error" if code >= 500 else "unexpected answer")
    if 300 <= code < 400:
        why = "redirected; a keyed request is not sent on with its key (check its base URL setting)"
    return ProbeResult(
        state="blocked", http_status=code, detail=f"HTTP {code}: {why}", endpoint=endpoint, elapsed_ms=elapsed_ms
    )


async def probe_http(
    client: httpx.AsyncClient, base: str, probe: Probe, key: str | None, *, today: date, timeout_s: float
) -> ProbeResult:
    endpoint = base + probe.path
    params = dict(probe.params(today))
    headers: dict[str, str] = {}
    if probe.key is not None and key is not None:
        if probe.key.where == "query":
            params[probe.key.name] = key
        else:
            headers[probe.key.name] = probe.key.prefix + key
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout_s):
            # A keyed probe never follows a redirect: httpx would carry the key header (or FRED's query key) to
            # wherever the upstream points. The 3xx is then the probe's answer.
            keyed = probe.key is not None and key is not None
            async with client.stream(
                "GET", endpoint, params=params, headers=headers, follow_redirects=not keyed
            ) as response:
                head = b""
                if probe.challenge_page:
                    async for chunk in response.aiter_bytes():
                        head += chunk
                        if len(head) >= CHALLENGE_HEAD_BYTES:
                            break
    except (httpx.HTTPError, OSError, TimeoutError) as exc:
        return ProbeResult(state="unreachable", detail=network_reason(exc, timeout_s), endpoint=endpoint)
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    challenge = probe.challenge_page and response.status_code == 200 and _is_challenge(head)
    return answered(response.status_code, endpoint, elapsed, challenge=challenge)


def _is_challenge(head: bytes) -> bool:
    from fetchers.farside import is_challenge_page

    return is_challenge_page(head.decode("utf-8", errors="replace"))


async def probe_websocket(base: str, probe: Probe, *, timeout_s: float, user_agent: str) -> ProbeResult:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    endpoint = base + probe.path
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout_s):
            async with connect(endpoint, open_timeout=timeout_s, close_timeout=1, user_agent_header=user_agent):
                pass
    except InvalidStatus as exc:
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        return answered(exc.response.status_code, endpoint, elapsed)
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        return ProbeResult(state="unreachable", detail=network_reason(exc, timeout_s), endpoint=endpoint)
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return ProbeResult(
        state="reachable", http_status=101, detail="WebSocket handshake accepted", endpoint=endpoint, elapsed_ms=elapsed
    )


# -- the store ------------------------------------------------------------------------------------------------------


def check_store(path: Path) -> StoreCheck:
    """Writable means windvane can create or update the file and its -wal/-shm companions beside it."""
    if path.exists():
        ok = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
        return StoreCheck(path=str(path), writable=ok, detail="exists" if ok else "exists, but is read-only here")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    ok = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    detail = "will be created on first use" if ok else f"cannot be created: {parent} is not writable"
    return StoreCheck(path=str(path), writable=ok, detail=detail)


async def check_database(url: str, timeout_s: float) -> StoreCheck:
    """Connects to the PostgreSQL store: writable unless it is unreachable or a read-only standby."""
    import asyncpg

    from store.postgres import describe_url

    where = describe_url(url)
    try:
        with anyio.fail_after(timeout_s):
            conn = await asyncpg.connect(url, timeout=timeout_s)
            try:
                standby = await conn.fetchval("SELECT pg_is_in_recovery()")
            finally:
                await conn.close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:  # the message may name the user: only the kind
        return StoreCheck(path=where, writable=False, detail=f"cannot connect ({type(exc).__name__})")
    if standby:
        return StoreCheck(path=where, writable=False, detail="a read-only standby (in recovery)")
    return StoreCheck(path=where, writable=True, detail="PostgreSQL answered")


async def check_configured_store(settings: Settings, timeout_s: float) -> StoreCheck:
    if settings.database_url:
        return await check_database(settings.database_url, timeout_s)
    return check_store(settings.resolved_db_path())


def report_path(settings: Settings) -> Path:
    """The last doctor report lives beside the store it describes."""
    db = settings.resolved_db_path()
    return db.with_name(db.name + ".doctor.json")


def save_report(settings: Settings, report: DoctorReport) -> Path | None:
    path = report_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(report.model_dump_json(indent=2))
        tmp.replace(path)  # a reader never sees half a report
    except OSError:
        return None
    return path


def load_report(settings: Settings) -> DoctorReport | None:
    try:
        return DoctorReport.model_validate_json(report_path(settings).read_text())
    except (OSError, ValueError):
        return None


# -- the run --------------------------------------------------------------------------------------------------------


def needs_key(probe: Probe) -> bool:
    return probe.key is not None


async def probe_source(
    client: httpx.AsyncClient, settings: Settings, source: str, *, today: date, timeout_s: float
) -> ProbeResult:
    probe = PROBES[source]
    base = settings.base_url(source)
    key = settings.api_key(probe.key_source or source) if needs_key(probe) else None
    if needs_key(probe) and key is None:
        variable = f"WINDVANE_{(probe.key_source or source).upper()}_API_KEY"
        return ProbeResult(state="not_configured", detail=f"set {variable} to use it", endpoint=base + probe.path)
    if source in STREAM_SOURCES and settings.liquidation_stream_s <= 0:
        detail = "streams off (WINDVANE_LIQUIDATION_STREAM_SECONDS=0)"
        return ProbeResult(state="skipped", detail=detail, endpoint=base + probe.path)
    if probe.websocket:
        return await probe_websocket(base, probe, timeout_s=timeout_s, user_agent=settings.user_agent)
    return await probe_http(client, base, probe, key, today=today, timeout_s=timeout_s)


async def run_doctor(
    settings: Settings,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    transport: httpx.AsyncBaseTransport | None = None,
    version: str = "",
) -> DoctorReport:
    today = datetime.now(UTC).date()
    probed = [s for s in PROBES if s in settings.base_urls]
    results: dict[str, ProbeResult] = {}
    headers = {"User-Agent": settings.user_agent, "Accept": "*/*"}
    async with httpx.AsyncClient(transport=transport, follow_redirects=True, headers=headers) as client:

        async def one(source: str) -> None:
            results[source] = await probe_source(client, settings, source, today=today, timeout_s=timeout_s)

        with anyio.move_on_after(min(TOTAL_BUDGET_S, timeout_s + 1)):
            async with anyio.create_task_group() as tg:
                for source in probed:
                    tg.start_soon(one, source)
    for source in probed:  # still out when the budget ran out
        endpoint = settings.base_url(source) + PROBES[source].path
        results.setdefault(
            source, ProbeResult(state="unreachable", detail=f"timed out after {timeout_s:g} s", endpoint=endpoint)
        )
    for source, why in UNUSED.items():
        if source in settings.base_urls:
            results[source] = ProbeResult(state="skipped", detail=why, endpoint=settings.base_url(source))
    ordered = {s: results[s] for s in settings.base_urls if s in results}
    return DoctorReport(
        checked_at=datetime.now(UTC).isoformat(timespec="seconds"),
        windvane_version=version,
        timeout_s=timeout_s,
        sources=ordered,
        store=await check_configured_store(settings, timeout_s),
        keys={f"WINDVANE_{s.upper()}_API_KEY": s in settings.api_keys for s in KEYED_SOURCES},
        unreachable_defaults=[s for s in probed if results[s].state == "unreachable" and not needs_key(PROBES[s])],
    )
