"""The shared, cached HTTP layer every fetcher goes through.

One `httpx.AsyncClient` (opened in the server lifespan, or a MockTransport in tests) is wrapped with:
- a per-request cache keyed by (source, method, path, sorted query, body), TTL chosen by the fetcher;
- single-flight: concurrent identical requests share one upstream call;
- retries with exponential backoff and jitter on timeouts, transport errors, 5xx and 429, honouring Retry-After;
- stale-on-error: when the upstream fails, the last good parsed value is served, flagged stale with its age.

Fetchers give a `parse` function that turns the response into validated rows; anything it raises becomes a
BadPayloadError, which is not retried (a malformed body will not fix itself in 200 ms).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote, quote_plus

import anyio
import httpx

from fetchers.cache import Cache, CacheEntry, MemoryCache
from fetchers.errors import (
    BadPayloadError,
    GeoBlockedError,
    NotConfiguredError,
    RateLimitedError,
    UnavailableError,
    UpstreamError,
)

T = TypeVar("T")
log = logging.getLogger("windvane.http")

ParamValue = str | int | float
Params = Mapping[str, ParamValue]


@dataclass(frozen=True)
class HttpConfig:
    base_urls: Mapping[str, str]
    api_keys: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0
    retries: int = 2
    retry_base_delay_s: float = 0.5
    retry_after_cap_s: float = 10.0
    ttl_scale: float = 1.0
    user_agent: str = "Mozilla/5.0 (compatible; windvane/0.1)"
    # A host whose key is configured under another source's name (FRED's JSON API host uses WINDVANE_FRED_API_KEY).
    key_source: Mapping[str, str] = field(default_factory=lambda: {"fred_api": "fred"})


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """A parsed upstream value with its provenance."""

    value: T
    source: str
    endpoint: str  # scheme://host/path, never the query (keys travel in headers, but be safe)
    fetched_at: datetime
    stale: bool = False
    age_seconds: float = 0.0
    stale_reason: str | None = None

    @classmethod
    def stored(cls, value: T, source: str, endpoint: str, fetched_at: datetime, *, now: datetime) -> Fetched[T]:
        """Provenance of a value read back from the history store: as old as the fetch that first learned it."""
        age = round(max(0.0, (now - fetched_at).total_seconds()), 3)
        return cls(value, source, endpoint, fetched_at, age_seconds=age)


@dataclass
class SourceStatus:
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    upstream_requests: int = 0
    cache_hits: int = 0
    stale_served: int = 0


class _Flight:
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.entry: CacheEntry | None = None
        self.error: UpstreamError | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Parse Retry-After: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(when.timestamp()) - now)


def decode_json(response: httpx.Response, source: str) -> Any:
    """The body as JSON, or a BadPayloadError naming what came instead (HTML challenge pages are common)."""
    text = response.text
    if text.lstrip()[:1] == "<":
        raise BadPayloadError(source, "expected JSON but received an HTML page")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadPayloadError(source, f"malformed JSON ({exc.msg} at position {exc.pos})") from None


class Http:
    """Shared cached HTTP access for all fetchers. Safe for concurrent use from one event loop."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: HttpConfig,
        cache: Cache | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.config = config
        self.cache: Cache = cache if cache is not None else MemoryCache(clock=clock)
        self._sleep = sleep
        self._clock = clock
        self._inflight: dict[str, _Flight] = {}
        self.status: dict[str, SourceStatus] = {}

    # -- configuration -------------------------------------------------------------------------------------------

    def base_url(self, source: str) -> str:
        return self.config.base_urls[source].rstrip("/")

    def api_key(self, source: str) -> str | None:
        return self.config.api_keys.get(source)

    def require_key(self, source: str) -> str:
        key = self.api_key(source)
        if not key:
            raise NotConfiguredError(source, f"needs {self.key_variable(source)}")
        return key

    def key_variable(self, source: str) -> str:
        """The environment variable that holds the key sent to `source`."""
        return f"WINDVANE_{self.config.key_source.get(source, source).upper()}_API_KEY"

    def _status(self, source: str) -> SourceStatus:
        return self.status.setdefault(source, SourceStatus())

    # -- requests ------------------------------------------------------------------------------------------------

    async def get(
        self,
        source: str,
        path: str,
        parse: Callable[[httpx.Response], T],
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        ttl_s: float = 60.0,
        method: str = "GET",
        json_body: Any = None,
        allow_stale: bool = True,
        secret_params: Params | None = None,
        parse_in_thread: bool = False,
    ) -> Fetched[T]:
        """Fetch `base_url(source) + path` with `params`, parse it, and cache the parsed value.

        `secret_params` is for the rare upstream that only accepts a key in the query (FRED's JSON API): they are
        sent, but never enter the cache key, the endpoint, an error message, or httpx's request log line.
        `parse_in_thread` runs a slow parser (a large HTML page) in a worker thread, so the event loop keeps serving
        the other requests in flight meanwhile.
        """
        endpoint = self.base_url(source) + path
        key = self._cache_key(source, method, path, params, json_body)
        if secret_params:
            redact_in_logs(str(v) for v in secret_params.values())
            key += " +secret"  # keyed and keyless answers never share an entry; the value itself stays out
        status = self._status(source)
        entry = self.cache.get_fresh(key)
        if entry is not None:
            status.cache_hits += 1
            return self._fetched(source, entry, stale=False)
        try:
            entry = await self._single_flight(
                key,
                lambda: self._fetch(
                    source,
                    endpoint,
                    parse,
                    {**(params or {}), **(secret_params or {})},
                    headers,
                    method,
                    json_body,
                    parse_in_thread,
                ),
            )
        except UpstreamError as exc:
            status.last_error_at = _now()
            status.last_error = f"{exc.kind}: {exc.message}"
            last = self.cache.get_last_good(key) if allow_stale else None
            if last is None:
                raise
            status.stale_served += 1
            log.warning("serving stale %s after %s", source, exc.kind)
            return self._fetched(source, last, stale=True, reason=f"{exc.kind}: {exc.message}")
        self.cache.put(key, entry, ttl_s * self.config.ttl_scale)
        status.last_success_at = datetime.fromtimestamp(entry.fetched_at, UTC)
        return self._fetched(source, entry, stale=False)

    def _fetched(self, source: str, entry: CacheEntry, *, stale: bool, reason: str | None = None) -> Fetched[Any]:
        age = max(0.0, self._clock() - entry.fetched_at)
        return Fetched(
            value=entry.value,
            source=source,
            endpoint=entry.endpoint,
            fetched_at=datetime.fromtimestamp(entry.fetched_at, UTC),
            stale=stale,
            age_seconds=round(age, 3),
            stale_reason=reason,
        )

    @staticmethod
    def _cache_key(source: str, method: str, path: str, params: Params | None, body: Any) -> str:
        query = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16] if body is not None else ""
        return f"{source} {method} {path}?{query} {digest}"

    async def _single_flight(self, key: str, fetch: Callable[[], Awaitable[CacheEntry]]) -> CacheEntry:
        flight = self._inflight.get(key)
        if flight is not None:
            await flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.entry is not None
            return flight.entry
        flight = _Flight()
        self._inflight[key] = flight
        try:
            flight.entry = await fetch()
            return flight.entry
        except UpstreamError as exc:
            flight.error = exc
            raise
        except BaseException:
            # The leader was cancelled: followers must not wait forever, and must not see a success.
            flight.error = UnavailableError(key.split(" ", 1)[0], "request was cancelled")
            raise
        finally:
            del self._inflight[key]
            flight.done.set()

    async def _fetch(
        self,
        source: str,
        endpoint: str,
        parse: Callable[[httpx.Response], Any],
        params: Params | None,
        headers: Mapping[str, str] | None,
        method: str,
        json_body: Any,
        parse_in_thread: bool = False,
    ) -> CacheEntry:
        attempts = max(0, self.config.retries) + 1
        last_error: UpstreamError | None = None
        status = self._status(source)
        for attempt in range(attempts):
            if attempt:
                delay = self._backoff(attempt, last_error)
                if delay is None:
                    break
                await self._sleep(delay)
            all_headers = {"User-Agent": self.config.user_agent, "Accept": "*/*", **(headers or {})}
            try:
                status.upstream_requests += 1
                response = await self.client.request(
                    method,
                    endpoint,
                    params=dict(params) if params else None,
                    headers=all_headers,
                    json=json_body,
                    timeout=self.config.timeout_s,
                )
            except httpx.TimeoutException:
                last_error = UnavailableError(source, f"timed out after {self.config.timeout_s:g}s")
                continue
            except httpx.RequestError as exc:  # transport failures, undecodable bodies, redirect loops
                last_error = UnavailableError(source, f"request failed ({type(exc).__name__})")
                continue
            error = self._classify(source, response)
            if error is None:
                fetched_at = self._clock()
                try:
                    value = await anyio.to_thread.run_sync(parse, response) if parse_in_thread else parse(response)
                except UpstreamError:
                    raise
                except Exception as exc:  # a parser bug or drift must never crash a tool
                    raise BadPayloadError(source, f"unexpected payload ({type(exc).__name__}: {exc})") from None
                return CacheEntry(value=value, fetched_at=fetched_at, endpoint=endpoint)
            if not self._retryable(error):
                raise error
            last_error = error
        assert last_error is not None
        raise last_error

    def _backoff(self, attempt: int, error: UpstreamError | None) -> float | None:
        if isinstance(error, RateLimitedError) and error.retry_after_s is not None:
            if error.retry_after_s > self.config.retry_after_cap_s:
                return None  # waiting that long inside a tool call helps no one; fall back to stale
            return error.retry_after_s
        base: float = self.config.retry_base_delay_s * 2.0 ** (attempt - 1)
        return base + random.uniform(0, base / 2)  # noqa: S311 - jitter, not cryptography

    @staticmethod
    def _retryable(error: UpstreamError) -> bool:
        return isinstance(error, RateLimitedError) or type(error) is UnavailableError

    def _classify(self, source: str, response: httpx.Response) -> UpstreamError | None:
        code = response.status_code
        if 200 <= code < 300:
            return None
        if code in (429, 418):
            wait = retry_after_seconds(response.headers.get("Retry-After"), self._clock())
            return RateLimitedError(source, f"rate limited (HTTP {code})", retry_after_s=wait)
        if code == 451:
            return GeoBlockedError(source, "HTTP 451: unavailable from this location")
        if code == 403:
            body = response.text[:4000].lower()
            if "cloudflare" in body or "challenge" in body or "cf-" in body:
                return GeoBlockedError(source, "HTTP 403: blocked by a Cloudflare challenge")
            return GeoBlockedError(source, "HTTP 403: forbidden (region or IP block)")
        if code == 401:
            # A rejected key stays rejected: retrying only repeats the refusal (and counts against the plan).
            return NotRetried(source, f"HTTP 401: the API key was rejected; check {self.key_variable(source)}")
        if code >= 500:
            return UnavailableError(source, f"HTTP {code} from upstream")
        return NotRetried(source, f"HTTP {code} from upstream")

    # -- streamed bodies (a separate path: `get` and `_fetch` above are unchanged) --------------------------------

    async def get_streamed(
        self,
        source: str,
        path: str,
        parse: Callable[[httpx.Response], Awaitable[T]],
        *,
        params: Params | None = None,
        ttl_s: float = 60.0,
    ) -> Fetched[T]:
        """`get` for a body too large to hold in memory (DefiLlama's CEX pages are tens of MB).

        `parse` receives the response with its body unread and consumes `response.aiter_bytes()` itself; it may
        stop early, and the rest of the body is then never downloaded. The parsed value gets the same cache,
        single-flight, retries and stale-on-error as `get`. Error responses (non-2xx) are read whole to classify.
        """
        key = self._cache_key(source, "GET", path, params, None) + " +stream"
        status = self._status(source)
        entry = self.cache.get_fresh(key)
        if entry is not None:
            status.cache_hits += 1
            return self._fetched(source, entry, stale=False)
        endpoint = self.base_url(source) + path
        try:
            entry = await self._single_flight(key, lambda: self._fetch_streamed(source, endpoint, parse, params))
        except UpstreamError as exc:
            status.last_error_at = _now()
            status.last_error = f"{exc.kind}: {exc.message}"
            last = self.cache.get_last_good(key)
            if last is None:
                raise
            status.stale_served += 1
            return self._fetched(source, last, stale=True, reason=f"{exc.kind}: {exc.message}")
        self.cache.put(key, entry, ttl_s * self.config.ttl_scale)
        status.last_success_at = datetime.fromtimestamp(entry.fetched_at, UTC)
        return self._fetched(source, entry, stale=False)

    async def _fetch_streamed(
        self,
        source: str,
        endpoint: str,
        parse: Callable[[httpx.Response], Awaitable[Any]],
        params: Params | None,
    ) -> CacheEntry:
        last_error: UpstreamError | None = None
        status = self._status(source)
        for attempt in range(max(0, self.config.retries) + 1):
            if attempt:
                delay = self._backoff(attempt, last_error)
                if delay is None:
                    break
                await self._sleep(delay)
            headers = {"User-Agent": self.config.user_agent, "Accept": "*/*"}
            status.upstream_requests += 1
            try:
                async with self.client.stream(
                    "GET",
                    endpoint,
                    params=dict(params) if params else None,
                    headers=headers,
                    timeout=self.config.timeout_s,
                ) as response:
                    if not 200 <= response.status_code < 300:
                        await response.aread()  # a small error body, classified as `get` classifies it
                    error = self._classify(source, response)
                    if error is None:
                        fetched_at = self._clock()
                        value = await _parse_body(source, parse, response)
                        return CacheEntry(value=value, fetched_at=fetched_at, endpoint=endpoint)
            except httpx.TimeoutException:
                last_error = UnavailableError(source, f"timed out after {self.config.timeout_s:g}s")
                continue
            except httpx.RequestError as exc:
                last_error = UnavailableError(source, f"request failed ({type(exc).__name__})")
                continue
            assert error is not None
            if not self._retryable(error):
                raise error
            last_error = error
        assert last_error is not None
        raise last_error


async def _parse_body(source: str, parse: Callable[[httpx.Response], Awaitable[T]], response: httpx.Response) -> T:
    """A streamed parser's value; transport errors mid-body propagate (retried), anything else is drift."""
    try:
        return await parse(response)
    except (UpstreamError, httpx.RequestError):
        raise
    except Exception as exc:  # a parser bug or drift must never crash a tool
        raise BadPayloadError(source, f"unexpected payload ({type(exc).__name__}: {exc})") from None


class _RedactSecrets(logging.Filter):
    """Masks secret query values in records of the httpx logger, which prints full request URLs at INFO."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[REDACTED]")
            record.msg, record.args = message, None
        return True


_REDACTOR = _RedactSecrets()


def redact_in_logs(secrets: Iterable[str]) -> None:
    """Register values that must never appear in httpx log lines (installed once, on first use)."""
    # Also the URL-encoded forms, which is how a value appears inside a logged URL.
    new = {form for s in secrets if s for form in (s, quote(s, safe=""), quote_plus(s))}
    if new - _REDACTOR.secrets:
        _REDACTOR.secrets |= new
        for name in ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if _REDACTOR not in logger.filters:
                logger.addFilter(_REDACTOR)


class NotRetried(UnavailableError):
    """A 4xx that retrying will not fix (bad request, not found)."""
