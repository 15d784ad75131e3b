"""The shared, cached HTTP layer every fetcher goes through.

One `httpx.AsyncClient` (opened in the server lifespan, or a MockTransport in tests) is wrapped with:
- a per-request cache keyed by (source, method, path, sorted query, body), TTL chosen by the fetcher;
- single-flight: concurrent identical requests share one upstream call;
- retries with exponential backoff and jitter on timeouts, 5xx, dropped connections and 429 (Retry-After honoured);
  never past the call's deadline (fetchers/deadline.py), which also bounds each attempt's timeout;
- a circuit breaker per source (fetchers/breaker.py), and a short memory of each failed request, so a failing
  upstream is not asked again on every call;
- stale-on-error: when the upstream fails, the last good parsed value is served, flagged stale with its age;
- in a fleet (WINDVANE_REDIS_URL, fetchers/shared/), behind this process's cache: the fleet's cache, a fleet-wide
  single-flight lock per key, shared rate budgets and shared circuits. Without one, none of that path runs.

Fetchers give a `parse` function that turns the response into validated rows; anything it raises becomes a
BadPayloadError, which is not retried (a malformed body will not fix itself in 200 ms).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import anyio
import httpx
from cachetools import TLRUCache

from fetchers.breaker import Breakers
from fetchers.cache import Cache, CacheEntry, MemoryCache
from fetchers.call_context import Deadline, current_deadline, current_reachability
from fetchers.errors import (
    BadPayloadError,
    DeadlineExceeded,
    NotConfiguredError,
    NotRetried,
    RateLimitedError,
    UnavailableError,
    UnreachableError,
    UpstreamError,
)
from fetchers.failures import status_error, transport_error
from fetchers.redact import Redactor, mask_upstream_text, masking_while_parsing
from fetchers.shared.tier import BudgetSpentError, Fleet, SharedOpen, local_fleet

T = TypeVar("T")
log = logging.getLogger("windvane.http")

# How long a failed request is remembered (at most its TTL): an identical call within it is not asked again.
FAILURE_MEMORY_S = 60.0
# How much of a parser's own exception text an error repeats.
UNEXPECTED_TEXT_CHARS = 300
# Redirects followed for one request (same origin only for a keyed one), as httpx's default allows 20.
MAX_REDIRECTS = 5

ParamValue = str | int | float
# One request attempt under the call's deadline (None outside a call): the parsed entry, or an UpstreamError.
Attempt = Callable[["Deadline | None"], Awaitable["CacheEntry"]]
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
    # Masks every configured secret (all keys and the HTTP token) out of what an upstream says; the keys above are
    # always added to it.
    redactor: Redactor = field(default_factory=Redactor)


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
    remembered_failures: int = 0  # calls answered from a remembered failure or an open circuit, not re-asked


@dataclass(frozen=True, slots=True)
class Costed:
    """What a request costs against a rate budget is decided by its path and query."""

    path: str
    params: Params | None


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
        fleet: Fleet | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.fleet = fleet if fleet is not None else local_fleet()
        self.cache: Cache = cache if cache is not None else MemoryCache(clock=clock)
        self._sleep = sleep
        self._clock = clock
        self._inflight: dict[str, _Flight] = {}
        self.status: dict[str, SourceStatus] = {}
        self.breakers = Breakers(clock)
        self.redactor = config.redactor.with_secrets(config.api_keys.values())

        def _forget_at(_key: str, value: tuple[UpstreamError, float], now: float) -> float:
            return value[1]

        # A failed request is remembered a short while, so an identical call does not ask again at once:
        # key -> (the error, clock time it is forgotten at).
        self._failures: TLRUCache[str, tuple[UpstreamError, float]] = TLRUCache(4096, ttu=_forget_at, timer=clock)

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
        sent = {**(params or {}), **(secret_params or {})}
        all_headers = {"User-Agent": self.config.user_agent, "Accept": "*/*", **(headers or {})}

        async def attempt(deadline: Deadline | None) -> CacheEntry:
            response = await self._request(source, endpoint, method, sent, all_headers, json_body, deadline)
            await self._observe(source, response)
            error = self._classify(source, response)
            if error is not None:
                raise error
            fetched_at = self._clock()
            value = await self._parse(source, parse, response, parse_in_thread)
            return CacheEntry(value=value, fetched_at=fetched_at, endpoint=endpoint)

        return await self._cached(source, key, attempt, ttl_s, allow_stale, Costed(path, params))

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
        single-flight, retries, circuit, deadline and stale-on-error as `get`. Error responses (non-2xx) are read
        whole to classify.
        """
        endpoint = self.base_url(source) + path
        key = self._cache_key(source, "GET", path, params, None) + " +stream"
        headers = {"User-Agent": self.config.user_agent, "Accept": "*/*"}

        async def attempt(deadline: Deadline | None) -> CacheEntry:
            remaining = math.inf if deadline is None else deadline.remaining()
            timeout = min(self.config.timeout_s, remaining)
            self._status(source).upstream_requests += 1
            # The whole body counts against the deadline, not only the first byte.
            with anyio.move_on_after(remaining):
                try:
                    async with self.client.stream(
                        "GET", endpoint, params=dict(params) if params else None, headers=headers, timeout=timeout
                    ) as response:
                        self._reached(source)
                        await self._observe(source, response)
                        if not 200 <= response.status_code < 300:
                            await response.aread()  # a small error body, classified as `get` classifies it
                        error = self._classify(source, response)
                        if error is not None:
                            raise error
                        fetched_at = self._clock()
                        with masking_while_parsing(self.redactor):
                            value = await _parse_body(source, parse, response)
                        return CacheEntry(value=value, fetched_at=fetched_at, endpoint=endpoint)
                except httpx.RequestError as exc:  # before the answer, or mid-body
                    if deadline is not None and deadline.expired():
                        raise DeadlineExceeded(source, deadline.describe()) from None
                    raise transport_error(source, exc, timeout) from None
            assert deadline is not None, "only a deadline cancels the attempt"
            raise DeadlineExceeded(source, deadline.describe())

        return await self._cached(source, key, attempt, ttl_s, True, Costed(path, params))

    async def _cached(
        self, source: str, key: str, attempt: Attempt, ttl_s: float, allow_stale: bool, costed: Costed
    ) -> Fetched[Any]:
        """The fresh cached value, or one `attempt` with retries (single-flight), cached; or the failure path."""
        status = self._status(source)
        entry = self.cache.get_fresh(key)
        if entry is not None:
            status.cache_hits += 1
            return self._fetched(source, entry, stale=False)
        try:
            remembered = self._failures.get(key)
            if remembered is not None:
                error, until = remembered
                raise error.again(f"{error.message}; not asked again for {max(0.0, until - self._clock()):.0f} s")
            entry = await self._single_flight(key, lambda: self._obtain(source, key, attempt, ttl_s, costed))
        except UpstreamError as exc:
            return self._failed(source, key, exc, min(ttl_s, FAILURE_MEMORY_S), allow_stale)
        fresh_s = ttl_s * self.config.ttl_scale
        if entry.fresh_until is not None:  # the fleet's value: fresh for what is left of its TTL, not a new one
            fresh_s = entry.fresh_until - self._clock()
        self.cache.put(key, entry, fresh_s)
        status.last_success_at = datetime.fromtimestamp(entry.fetched_at, UTC)
        return self._fetched(source, entry, stale=False)

    def _failed(self, source: str, key: str, exc: UpstreamError, memory_s: float, allow_stale: bool) -> Fetched[Any]:
        """Record a failure, remember it for this request, and serve the last good value stale if there is one."""
        status = self._status(source)
        reachability = current_reachability()
        if reachability is not None and isinstance(exc, UnreachableError):
            reachability.unreachable.setdefault(source, exc.message.split("; ")[0])
        if exc.remembered:
            status.remembered_failures += 1
        else:
            status.last_error_at = _now()
            status.last_error = self.redactor.mask(f"{exc.kind}: {exc.message}")
            memory_s *= self.config.ttl_scale
            # our own deadline, configuration or budget: nothing the upstream said, nothing to remember
            if not isinstance(exc, DeadlineExceeded | NotConfiguredError | BudgetSpentError) and memory_s > 0:
                self._failures[key] = (exc, self._clock() + memory_s)
        last = self.cache.get_last_good(key) if allow_stale else None
        if last is None:
            raise exc
        status.stale_served += 1
        log.warning("serving stale %s after %s", source, exc.kind)
        return self._fetched(source, last, stale=True, reason=f"{exc.kind}: {exc.message}")

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
            deadline = current_deadline()
            with anyio.move_on_after(math.inf if deadline is None else deadline.remaining()):
                await flight.done.wait()
            if not flight.done.is_set():
                assert deadline is not None
                raise DeadlineExceeded(key.split(" ", 1)[0], deadline.describe())
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

    async def _fetch(self, source: str, attempt: Attempt, costed: Costed) -> CacheEntry:
        deadline = current_deadline()
        attempts = max(0, self.config.retries) + 1
        if self.fleet.shared:
            await self._adopt_shared_circuit(source)
        if self.breakers.before_request(source):  # an open circuit fails here at once, with its remembered error
            attempts = 1  # the half-open probe: one attempt tells whether the source is back
        last_error: UpstreamError | None = None
        for n in range(attempts):
            if n:
                delay = self._backoff(n, last_error)
                if delay is None or (deadline is not None and delay >= deadline.remaining()):
                    break  # the answer would come too late to use: give the last error now
                await self._sleep(delay)
            refused = await self.fleet.budgets.spend(source, costed.path, costed.params)
            if refused is not None:
                self.fleet.stats.budget_refusals += 1
                if last_error is None:
                    raise refused  # not sent: the budget, not the upstream, said no (no circuit, no memory)
                break
            try:
                entry = await attempt(deadline)
            except UpstreamError as raised:
                # Masked here, before the breaker, the failure memory, the fleet or a tool sees it: an upstream that
                # quotes our key back in its error body never gets it stored or shown.
                error = raised.masked(self.redactor.mask)
                if not self._retryable(error):
                    await self._failure(source, error)
                    raise error from None
                last_error = error
                continue
            await self._success(source)
            return entry
        assert last_error is not None
        if isinstance(last_error, RateLimitedError) and self._backoff(attempts, last_error) is None:
            self.breakers.open_now(source, last_error)  # asked to wait longer than a call can: remember until then
            await self._share_circuit(source)
        else:
            await self._failure(source, last_error)
        raise last_error

    async def _obtain(self, source: str, key: str, attempt: Attempt, ttl_s: float, costed: Costed) -> CacheEntry:
        """This process's one request for `key`: on its own, or through the fleet's single-flight when shared."""
        if not self.fleet.shared:
            return await self._fetch(source, attempt, costed)
        from fetchers.shared.flight import SharedRequest, obtain

        deadline = current_deadline()
        worst_s = self.config.timeout_s * (max(0, self.config.retries) + 1) + self.config.retry_after_cap_s
        lease_s = min(worst_s, deadline.remaining()) + 1.0 if deadline is not None else worst_s
        request = SharedRequest(
            source=source,
            key=self._shared_key(source, key),
            ttl_s=ttl_s * self.config.ttl_scale,
            memory_s=min(ttl_s, FAILURE_MEMORY_S) * self.config.ttl_scale,
            lease_s=lease_s,
        )
        fetch = lambda: self._fetch(source, attempt, costed)  # noqa: E731
        return await obtain(self.fleet, request, fetch, self._clock, lambda entry: self._keep(key, entry))

    def _keep(self, key: str, entry: CacheEntry) -> None:
        """Keep the fleet's stale value as this process's last good one, unless ours is newer."""
        mine = self.cache.get_last_good(key)
        if mine is None or mine.fetched_at < entry.fetched_at:
            self.cache.put(key, entry, 0.0)  # a TTL of 0 keeps it as the last good value only

    def _shared_key(self, source: str, key: str) -> str:
        """The request key hashed with a digest of the source's API key: no secret or query in Redis, and answers
        fetched under one key are never served under another."""
        api_key = self.api_key(self.config.key_source.get(source, source)) or self.api_key(source) or ""
        partition = hashlib.sha256(api_key.encode()).hexdigest()[:16] if api_key else "keyless"
        digest = hashlib.sha256(f"{key}\n{partition}".encode()).hexdigest()
        return f"{source}:{digest}"

    async def _adopt_shared_circuit(self, source: str) -> None:
        opened = await self.fleet.circuits.pull(source)
        if opened is not None:
            self.breakers.adopt(source, opened.failure.error(source, "opened by another replica"), opened.until)

    async def _success(self, source: str) -> None:
        was_closed = self.breakers.circuit(source).state == "closed"
        self.breakers.success(source)
        if self.fleet.shared and not was_closed:
            await self.fleet.circuits.publish_closed(source)

    async def _failure(self, source: str, error: UpstreamError) -> None:
        self.breakers.failure(source, error)
        await self._share_circuit(source)

    async def _share_circuit(self, source: str) -> None:
        circuit = self.breakers.circuit(source)
        if self.fleet.shared and circuit.state == "open" and circuit.open_until and circuit.last_error:
            from fetchers.shared.tier import SharedFailure

            await self.fleet.circuits.publish_open(
                source, SharedOpen(circuit.open_until, SharedFailure.of(circuit.last_error))
            )

    async def _observe(self, source: str, response: httpx.Response) -> None:
        """Tell the fleet's budgets what the upstream said about our usage (used weight, Retry-After)."""
        if self.fleet.shared:
            wait = retry_after_seconds(response.headers.get("Retry-After"), self._clock())
            await self.fleet.budgets.observe(source, response.status_code, response.headers, wait)

    async def _request(
        self,
        source: str,
        endpoint: str,
        method: str,
        params: Params | None,
        headers: Mapping[str, str],
        json_body: Any,
        deadline: Deadline | None,
    ) -> httpx.Response:
        """One attempt, bounded by the call's deadline as well as the per-request timeout."""
        remaining = math.inf if deadline is None else deadline.remaining()
        if remaining <= 0:
            assert deadline is not None
            raise DeadlineExceeded(source, deadline.describe())
        timeout = min(self.config.timeout_s, remaining)
        self._status(source).upstream_requests += 1
        with anyio.move_on_after(remaining):
            try:
                response = await self.client.request(
                    method,
                    endpoint,
                    params=dict(params) if params else None,
                    headers=headers,
                    json=json_body,
                    timeout=timeout,
                    follow_redirects=False,
                )
                response = await self._follow_redirects(source, response, self._carries_key(headers, params))
            except httpx.RequestError as exc:  # transport failures, timeouts, undecodable bodies, redirect loops
                if deadline is not None and deadline.expired():
                    raise DeadlineExceeded(source, deadline.describe()) from None
                raise transport_error(source, exc, timeout) from None
            self._reached(source)
            return response
        assert deadline is not None, "only a deadline cancels the attempt"
        raise DeadlineExceeded(source, deadline.describe())

    def _carries_key(self, headers: Mapping[str, str], params: Params | None) -> bool:
        """Whether a configured secret rides in this request's headers or query."""
        sent = [*headers.values(), *(str(v) for v in (params or {}).values())]
        keys = [k for k in self.config.api_keys.values() if k]
        return any(self.redactor.found_in(value) or any(k in value for k in keys) for value in sent)

    async def _follow_redirects(self, source: str, response: httpx.Response, keyed: bool) -> httpx.Response:
        """Redirects followed one by one, so a key never goes to another origin: httpx would carry every header
        but Authorization to wherever the upstream points (CG-API-KEY, x-soso-api-key, FRED's query key)."""
        origin = _origin(response.request.url)
        for _ in range(MAX_REDIRECTS):
            target = response.next_request
            if target is None:
                return response
            await response.aclose()
            if keyed and _origin(target.url) != origin:
                raise NotRetried(
                    source,
                    f"redirected to another origin ({_origin(target.url)[:120]}); a keyed request is never sent "
                    "there with its key: check its base URL setting",
                )
            response = await self.client.send(target, follow_redirects=False)
        await response.aclose()
        raise NotRetried(source, f"more than {MAX_REDIRECTS} redirects; check its base URL setting")

    @staticmethod
    def _reached(source: str) -> None:
        reachability = current_reachability()
        if reachability is not None:
            reachability.reached.add(source)

    async def _parse(
        self, source: str, parse: Callable[[httpx.Response], Any], response: httpx.Response, in_thread: bool
    ) -> Any:
        with masking_while_parsing(self.redactor):  # worker threads run in a copy of this context
            try:
                return await anyio.to_thread.run_sync(parse, response) if in_thread else parse(response)
            except UpstreamError:
                raise
            except Exception as exc:  # a parser bug or drift must never crash a tool
                raise unexpected_payload(source, exc) from None

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
        wait = retry_after_seconds(response.headers.get("Retry-After"), self._clock())
        return status_error(source, response, self.key_variable(source), wait)


def _origin(url: httpx.URL) -> str:
    """scheme://host[:port], the unit a key is scoped to (RFC 6454)."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


async def _parse_body(source: str, parse: Callable[[httpx.Response], Awaitable[T]], response: httpx.Response) -> T:
    """A streamed parser's value; transport errors mid-body propagate (retried), anything else is drift."""
    try:
        return await parse(response)
    except (UpstreamError, httpx.RequestError):
        raise
    except Exception as exc:  # a parser bug or drift must never crash a tool
        raise unexpected_payload(source, exc) from None


def unexpected_payload(source: str, exc: Exception) -> BadPayloadError:
    """The drift error for a parser's own exception. Its text may quote the body (a validation error repeats the
    input): configured secrets are masked first, then it is cut short, so no body is copied out whole."""
    text = mask_upstream_text(str(exc))[:UNEXPECTED_TEXT_CHARS]
    return BadPayloadError(source, f"unexpected payload ({type(exc).__name__}: {text})")


class _RedactSecrets(logging.Filter):
    """Masks secret query values in records of the httpx logger, which prints full request URLs at INFO."""

    def __init__(self) -> None:
        super().__init__()
        self.redactor = Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.redactor.found_in(message):
            record.msg, record.args = self.redactor.mask(message), None
        return True


_REDACTOR = _RedactSecrets()


def redact_in_logs(secrets: Iterable[str]) -> None:
    """Register values that must never appear in httpx log lines (installed once, on first use). The redactor
    masks their URL-encoded forms too, which is how a value appears inside a logged URL."""
    new = {s for s in secrets if s} - _REDACTOR.redactor.secrets
    if new:
        _REDACTOR.redactor = _REDACTOR.redactor.with_secrets(new)
        for name in ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if _REDACTOR not in logger.filters:
                logger.addFilter(_REDACTOR)
