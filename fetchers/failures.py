"""What a failed request means: transport exceptions and HTTP statuses turned into windvane's error kinds.

Connection-level failures (DNS, refused, proxy, TLS, connect timeout) are `UnreachableError`: the host has no route
to that upstream, and retrying in half a second will not give it one. Messages never carry the URL's query.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import httpx

from fetchers.errors import (
    GeoBlockedError,
    KeyRejectedError,
    NotRetried,
    RateLimitedError,
    UnavailableError,
    UnreachableError,
    UpstreamError,
)

_DNS_TEXT = ("name or service not known", "nodename nor servname", "getaddrinfo", "temporary failure in name")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _connect_reason(exc: httpx.ConnectError) -> str:
    for link in _chain(exc):
        if isinstance(link, socket.gaierror) or any(text in str(link).lower() for text in _DNS_TEXT):
            return "DNS lookup failed"
        if isinstance(link, ConnectionRefusedError) or "connection refused" in str(link).lower():
            return "connection refused"
        if isinstance(link, ssl.SSLError) or "ssl" in type(link).__name__.lower():
            return "TLS handshake failed"
        if isinstance(link, OSError) and "unreachable" in str(link).lower():
            return "network unreachable"
    return "connection failed"


def transport_error(source: str, exc: httpx.RequestError, timeout_s: float) -> UpstreamError:
    """The error for a request that got no HTTP response at all."""
    if isinstance(exc, httpx.ProxyError):
        return UnreachableError(source, "the proxy refused or failed the connection (check HTTPS_PROXY)")
    if isinstance(exc, httpx.ConnectTimeout):
        return UnreachableError(source, f"connection timed out after {timeout_s:g}s")
    if isinstance(exc, httpx.ConnectError):
        return UnreachableError(source, _connect_reason(exc))
    if isinstance(exc, httpx.TimeoutException):
        return UnavailableError(source, f"timed out after {timeout_s:g}s")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.TooManyRedirects):
        return NotRetried(source, f"request not possible ({type(exc).__name__}); check its base URL setting")
    return UnavailableError(source, f"request failed ({type(exc).__name__})")


def status_error(
    source: str, response: httpx.Response, key_variable: str, retry_after_s: float | None
) -> UpstreamError | None:
    """The error an HTTP status means, or None for a 2xx."""
    code = response.status_code
    if 200 <= code < 300:
        return None
    if code in (429, 418):
        return RateLimitedError(source, f"rate limited (HTTP {code})", retry_after_s=retry_after_s)
    if code == 451:
        return GeoBlockedError(source, "HTTP 451: unavailable from this location")
    if code == 403:
        body = response.text[:4000].lower()
        if "cloudflare" in body or "challenge" in body or "cf-" in body:
            return GeoBlockedError(source, "HTTP 403: blocked by a Cloudflare challenge")
        return GeoBlockedError(source, "HTTP 403: forbidden (region or IP block)")
    if code == 401:
        # A rejected key stays rejected: retrying only repeats the refusal (and counts against the plan).
        return KeyRejectedError(source, f"HTTP 401: the API key was rejected; check {key_variable}")
    if code >= 500:
        return UnavailableError(source, f"HTTP {code} from upstream")
    return NotRetried(source, f"HTTP {code} from upstream")
