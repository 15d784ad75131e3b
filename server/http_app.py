"""Streamable HTTP transport: MCP at /mcp, an unauthenticated GET /healthz, and the guards a network server needs.

Layers, outermost first:
    RequestLog     a request id per request (kept from a sane X-Request-Id, else new), one structured line per
                   request to stderr: method, path (never the query), status, duration. Headers are never logged.
    BearerAuth     when WINDVANE_HTTP_TOKEN is set, every path but /healthz needs `Authorization: Bearer <token>`,
                   compared in constant time.
    SDK app        Host/Origin validation against DNS rebinding (421 bad Host, 403 bad Origin) and the request body
                   limit (413) are the SDK's own, configured here.

Binding a non-loopback address without a token is refused before anything listens (BindRefused -> exit 2).
Stateless by default: any replica can answer any request, so several can run behind a plain load balancer with no
session affinity; windvane's tools are request/response and need nothing more. WINDVANE_HTTP_STATEFUL=1 keeps MCP
sessions (Mcp-Session-Id, several concurrent SSE streams per session) for a single instance or sticky balancing.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.http_limits import BodyLimits
from server.logs import request_id_var
from server.settings import Settings
from server.status import health_report
from tools.deps import Deps

log = logging.getLogger("windvane.http_server")

HEALTH_PATH = "/healthz"
# A bearer token guarding a public bind: long and random enough not to be guessed online.
MIN_TOKEN_CHARS = 32
MIN_TOKEN_BITS = 128
HOW_TO_MAKE_ONE = "`openssl rand -hex 32`"
KEEP_ALIVE_S = 75
CLIENT_GONE_STATUS = 499  # nginx's "client closed request": no response was sent
MAX_HEADER_BYTES = 16 * 1024  # MCP requests carry a few short headers
MCP_PATH = "/mcp"
LOOPBACK_NAMES = ("localhost",)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BindRefused(ValueError):
    """Serving on a network address without a token would expose the server to anyone who can reach it."""


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def check_bind(settings: Settings, host: str) -> None:
    if is_loopback(host):
        return
    if not settings.http_token:
        raise BindRefused(
            f"refusing to serve HTTP on non-loopback address {host!r} without a token: set WINDVANE_HTTP_TOKEN "
            f"(clients then send 'Authorization: Bearer <token>'; make one with {HOW_TO_MAKE_ONE}), or bind 127.0.0.1"
        )
    bits = token_bits(settings.http_token)
    if len(settings.http_token) < MIN_TOKEN_CHARS or bits < MIN_TOKEN_BITS:
        # Never the token itself: only what is wrong with it.
        raise BindRefused(
            f"refusing to serve HTTP on non-loopback address {host!r}: WINDVANE_HTTP_TOKEN is too weak "
            f"(length {len(settings.http_token)}, about {bits:.0f} bits; a public bind needs at least "
            f"{MIN_TOKEN_CHARS} characters and {MIN_TOKEN_BITS} bits). Make one with {HOW_TO_MAKE_ONE}"
        )


def token_bits(token: str) -> float:
    """An upper estimate of a token's entropy: its length times the Shannon entropy of its characters (a repeated
    or single-character token scores low; `openssl rand -hex 32` scores about 256)."""
    counts = Counter(token)
    per_char = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    return len(token) * per_char


def _host_patterns(host: str) -> list[str]:
    """`example.com` allows it with any port; `example.com:8443` only that port."""
    if host.endswith(":*") or (re.search(r":\d+$", host) and not host.endswith("]")):
        return [host]
    return [host, f"{host}:*"]


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings:
    """Host/Origin allow-lists against DNS rebinding.

    Loopback names are always allowed (local clients, health probes through localhost). WINDVANE_ALLOWED_HOSTS adds
    the public names a proxy forwards (e.g. `mcp.example.com`). A concrete bind address is allowed too. Binding a
    wildcard address (0.0.0.0, ::) with no allowed hosts cannot know its public name: the check is then off and the
    bearer token, required there, is the protection; a warning says so.
    """
    hosts = ["127.0.0.1", "localhost", "[::1]"]
    if not is_loopback(host) and host not in ("0.0.0.0", "::", ""):  # noqa: S104 - comparing, not binding
        hosts.append(f"[{host}]" if ":" in host else host)
    hosts.extend(settings.allowed_hosts)
    if not is_loopback(host) and host in ("0.0.0.0", "::", "") and not settings.allowed_hosts:  # noqa: S104
        log.warning(
            "bound to %s without WINDVANE_ALLOWED_HOSTS: Host/Origin checks are off, the bearer token protects /mcp",
            host,
        )
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    allowed_hosts: list[str] = []
    allowed_origins: list[str] = []
    for name in hosts:
        for pattern in _host_patterns(name):
            if pattern not in allowed_hosts:
                allowed_hosts.append(pattern)
                allowed_origins.extend([f"http://{pattern}", f"https://{pattern}"])
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )


# -- health -------------------------------------------------------------------------------------------------------


def add_health_route(mcp: MCPServer[Any], live: Sequence[Deps]) -> None:
    @mcp.custom_route(HEALTH_PATH, methods=["GET"])  # type: ignore[untyped-decorator]
    async def healthz(_: Request) -> Response:
        code, body = health_report(live)
        text = body.model_dump_json()
        if live:  # unauthenticated: an upstream's error text in it never carries a configured secret
            text = live[-1].http.redactor.mask(text)
        return Response(text, status_code=code, media_type="application/json")


# -- middleware ---------------------------------------------------------------------------------------------------


class BearerAuth:
    def __init__(self, app: ASGIApp, token: str, open_paths: Sequence[str] = (HEALTH_PATH,)) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()
        self._open = tuple(open_paths)

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, rest = value.partition(b" ")
                presented = b"Bearer " + rest.strip() if scheme.lower() == b"bearer" else value
                return hmac.compare_digest(presented, self._expected)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or scope.get("path") in self._open or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # no websocket route exists; refuse before anything else sees it
            await send({"type": "websocket.close", "code": 1008})
            return
        response = JSONResponse(
            {"error": "unauthorized", "message": "send 'Authorization: Bearer <WINDVANE_HTTP_TOKEN>'"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="windvane"'},
        )
        await response(scope, receive, send)


class RequestLog:
    """One INFO line per request. A client that hangs up before its response is complete is that one line too
    (status 499, as proxies log it), never a 500 with a traceback: what failed after it left failed for want of it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), "")
        request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex[:16]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        answered = gone = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True
            await send(message)

        async def receive_watching() -> Message:
            nonlocal gone
            message = await receive()
            gone = gone or (message["type"] == "http.disconnect" and not answered)
            return message

        try:
            await self.app(scope, receive_watching, send_with_id)
        except Exception:
            if not (gone or _client_gone(scope)):
                raise
        finally:
            gone = gone or _client_gone(scope)
            extra = {"client_disconnected": True} if gone else {}
            log.info(
                "request",
                extra={
                    "http_method": scope.get("method"),
                    "http_path": scope.get("path"),
                    "http_status": CLIENT_GONE_STATUS if gone and not answered else status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": (scope.get("client") or ("?",))[0],
                    **extra,
                },
            )
            request_id_var.reset(token)


def _client_gone(scope: Scope) -> bool:
    return bool(scope.get("state", {}).get("client_gone"))


# -- assembly -----------------------------------------------------------------------------------------------------


def build_http_app(mcp: MCPServer[Any], settings: Settings, live: Sequence[Deps], *, host: str) -> ASGIApp:
    """The full ASGI app. Its lifespan opens the server's shared resources; run it under uvicorn or mount it."""
    add_health_route(mcp, live)
    app: ASGIApp = mcp.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=not settings.http_stateful,
        max_request_body_size=settings.http_max_body_bytes,
        transport_security=transport_security(settings, host),
        host=host,
    )
    app = BodyLimits(app, timeout_s=settings.http_body_timeout_s, max_bytes=settings.http_max_body_bytes)
    if settings.http_token:
        app = BearerAuth(app, settings.http_token)  # before the body is read: a stranger's body is never buffered
    return RequestLog(app)


def run_http(mcp: MCPServer[Any], settings: Settings, live: Sequence[Deps], *, host: str, port: int) -> None:
    check_bind(settings, host)
    import uvicorn

    from server.stopping import banner
    from server.version import version

    app = build_http_app(mcp, settings, live, host=host)
    auth = "on" if settings.http_token else "off"
    log.info("serving MCP on http://%s:%d%s (auth %s)", host, port, MCP_PATH, auth)
    banner(
        f"windvane {version()}: MCP on http://{host}:{port}{MCP_PATH} (token {auth}), health {HEALTH_PATH}, "
        f"store {settings.resolved_db_path()}."
    )
    uvicorn.Server(uvicorn_config(app, settings, host=host, port=port)).run()


def uvicorn_config(app: ASGIApp, settings: Settings, *, host: str, port: int) -> Any:
    """uvicorn's configuration for `app` (a uvicorn.Config; uvicorn is imported only when serving HTTP)."""
    import uvicorn

    from server.http_limits import bounded_h11
    from server.stopping import GRACE_S

    # log_config=None keeps our stderr handler; our RequestLog replaces uvicorn's access log (which logs queries).
    # Keep-alive beyond common load-balancer idle timeouts (60 s): a server closing an idle connection first races
    # the balancer's or client's next request on it, which then fails with a dropped connection.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        http=bounded_h11(settings.http_header_timeout_s),  # a deadline for request headers, which uvicorn lacks
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=GRACE_S,  # one Ctrl-C or SIGTERM stops at once, not when the last client leaves
    )
