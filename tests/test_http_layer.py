"""Faults of the shared HTTP layer, seen through a tool and at the layer itself.

Every upstream failure must give a degraded answer with a reason (null + warning), never a traceback, never an
invented number. Retries honour Retry-After through the injected `sleep`; the last good value is served stale with
its age; concurrent identical requests share one upstream call; keys appear nowhere but in request headers.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from fetchers.errors import BadPayloadError, UnavailableError
from fetchers.http import Http, HttpConfig, decode_json
from server.app import build_server
from server.settings import Settings
from tests.conftest import FROZEN_NOW, Sleeps
from tests.fakes import FakeUpstream, Handler

pytestmark = pytest.mark.anyio

AS_OF_CALL = {"as_of": "2025-11-24", "days": 30}


def first_n_then_real(fake: FakeUpstream, source: str, n: int, fault: Handler) -> Counter[str]:
    """Serve `fault` for the first `n` requests of each path of `source`, then the real handler."""
    real = fake.handlers[source]
    seen: Counter[str] = Counter()

    def handler(request: httpx.Request, path: str) -> httpx.Response:
        seen[path] += 1
        return fault(request, path) if seen[path] <= n else real(request, path)

    fake.faults[source] = handler
    return seen


def raise_timeout(request: httpx.Request, path: str) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


FAULTS: dict[str, tuple[Handler, str]] = {
    "timeout": (raise_timeout, "timed out after"),
    "http_500": (lambda r, p: httpx.Response(500, text="Internal Server Error"), "HTTP 500 from upstream"),
    "geo_451": (lambda r, p: httpx.Response(451, json={"msg": "restricted location"}), "HTTP 451"),
    "malformed_json": (lambda r, p: httpx.Response(200, text="[[1732406400, 1.0, 2.0,"), "malformed JSON"),
    "html_not_json": (
        lambda r, p: httpx.Response(200, text="<!DOCTYPE html><html><title>Just a moment...</title></html>"),
        "expected JSON but received an HTML page",
    ),
    "empty_list": (lambda r, p: httpx.Response(200, json=[]), "no daily bars"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_coinbase_fault_degrades_with_reason_never_a_number(make_client, fake: FakeUpstream, fault: str) -> None:
    handler, reason = FAULTS[fault]
    fake.faults["coinbase"] = handler
    async with make_client() as client:
        result = await client.call_tool("get_coinbase_premium", AS_OF_CALL)
    assert not result.is_error, result.content
    out = result.structured_content
    text = json.dumps(out)
    assert "Traceback" not in text
    assert any(reason in w for w in out["warnings"]), out["warnings"]
    # Nothing computed from Coinbase may appear: no invented premium, no zero standing in for a failure.
    current = out["current"]
    for name in ("premium_pct", "premium_usd", "coinbase_price", "premium_usdt_adjusted_pct"):
        assert current[name] is None, name
    assert out["history"] == []
    assert out["avg_7d_pct"] is None
    assert out["avg_30d_pct"] is None
    assert out["streak"]["sign"] is None
    if fault != "empty_list":  # an empty answer was still an answer from Coinbase, so it is cited
        assert all(s["name"] != "coinbase" for s in out["sources"])


@pytest.mark.parametrize(("fault", "attempts"), [("timeout", 3), ("http_500", 3), ("geo_451", 1), ("html_not_json", 1)])
async def test_retried_only_when_retrying_can_help(make_client, fake: FakeUpstream, fault: str, attempts: int) -> None:
    fake.faults["coinbase"] = FAULTS[fault][0]
    async with make_client() as client:
        await client.call_tool("get_coinbase_premium", AS_OF_CALL)
    # retries=2 by default: 3 attempts for transient faults; a block or a bad body is not retried. A geo-block
    # also opens Coinbase's circuit, so the other product's request may not be sent at all.
    counts = [fake.count("coinbase", f"{product}/candles") for product in ("BTC-USD", "USDT-USD")]
    if fault == "geo_451":
        assert sorted(counts) in ([0, 1], [1, 1])
    else:
        assert counts == [attempts, attempts]


async def test_429_waits_exactly_retry_after_then_succeeds(make_client, fake: FakeUpstream, sleeps: Sleeps) -> None:
    served = first_n_then_real(
        fake, "coinbase", 1, lambda r, p: httpx.Response(429, headers={"Retry-After": "3"}, json={"message": "slow"})
    )
    async with make_client() as client:
        result = await client.call_tool("get_coinbase_premium", AS_OF_CALL)
    out = result.structured_content
    assert not result.is_error
    assert out["current"]["coinbase_price"] == pytest.approx(88266.20)
    rate_limited = sum(min(n, 1) for n in served.values())
    assert rate_limited == 2  # BTC-USD and USDT-USD candles, one 429 each
    assert sleeps.calls == [3.0] * rate_limited


async def test_429_retry_after_beyond_cap_is_not_waited(make_client, fake: FakeUpstream, sleeps: Sleeps) -> None:
    fake.faults["coinbase"] = lambda r, p: httpx.Response(429, headers={"Retry-After": "3600"})
    async with make_client() as client:
        out = (await client.call_tool("get_coinbase_premium", AS_OF_CALL)).structured_content
    assert sleeps.calls == []
    assert any("rate_limited" in w for w in out["warnings"])
    assert out["current"]["premium_pct"] is None


async def test_stale_on_error_through_the_tool(fake: FakeUpstream, settings: Settings, sleeps: Sleeps) -> None:
    from dataclasses import replace

    # ttl_scale=0: nothing is fresh, so the second call goes upstream, fails, and falls back to the last good value.
    server = build_server(
        replace(settings, ttl_scale=0.0), transport=fake.transport(), clock=lambda: FROZEN_NOW, sleep=sleeps
    )
    # Live tickers: closed candles would come from the history store and never reach the failing upstream.
    async with Client(server) as client:
        good = (await client.call_tool("get_coinbase_premium", {})).structured_content
        fake.faults["coinbase"] = lambda r, p: httpx.Response(503, text="down")
        stale = (await client.call_tool("get_coinbase_premium", {"detail": "full"})).structured_content  # endpoints
        summary = (await client.call_tool("get_coinbase_premium", {})).structured_content
    # The summary folds coinbase's endpoints into one entry carrying the worst freshness: stale.
    assert [s["stale"] for s in summary["sources"] if s["name"] == "coinbase"] == [True]
    assert stale["current"]["coinbase_price"] == good["current"]["coinbase_price"]
    assert stale["current"]["premium_usd"] == good["current"]["premium_usd"]
    ticker_refs = [s for s in stale["sources"] if s["name"] == "coinbase" and s["endpoint"].endswith("/ticker")]
    assert ticker_refs
    assert all(s["stale"] for s in ticker_refs)
    assert any("coinbase is stale" in w and "HTTP 503" in w for w in stale["warnings"])


# -- the layer itself, with a frozen clock ------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_http(handler: Callable[[httpx.Request], Any], clock: Clock, sleeps: Sleeps, **config: Any) -> Http:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Http(client, HttpConfig(base_urls={"up": "http://up.test"}, **config), sleep=sleeps, clock=clock)


def parse_price(response: httpx.Response) -> float:
    return float(decode_json(response, "up")["price"])


async def test_stale_value_carries_its_age_on_a_frozen_clock(sleeps: Sleeps) -> None:
    clock = Clock(1_700_000_000.0)
    status = {"code": 200}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status["code"], json={"price": "101.5"})

    http = make_http(handler, clock, sleeps, retries=0)
    first = await http.get("up", "/price", parse_price, ttl_s=60)
    clock.now += 30
    cached = await http.get("up", "/price", parse_price, ttl_s=60)
    clock.now += 100  # 130 s after the fetch: expired
    status["code"] = 500
    stale = await http.get("up", "/price", parse_price, ttl_s=60)
    await http.client.aclose()
    assert (first.value, first.stale) == (101.5, False)
    assert (cached.stale, cached.age_seconds) == (False, 30.0)
    assert stale.value == 101.5
    assert stale.stale is True
    assert stale.age_seconds == 130.0
    assert stale.stale_reason == "unavailable: HTTP 500 from upstream"
    assert http.status["up"].stale_served == 1


async def test_no_last_good_value_means_an_error_not_a_guess(sleeps: Sleeps) -> None:
    http = make_http(lambda request: httpx.Response(502), Clock(0.0), sleeps, retries=1)
    with pytest.raises(UnavailableError, match="HTTP 502"):
        await http.get("up", "/price", parse_price)
    await http.client.aclose()
    assert len(sleeps.calls) == 1


async def test_single_flight_100_concurrent_calls_one_upstream_request(sleeps: Sleeps) -> None:
    requests: list[httpx.Request] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        await anyio.sleep(0.05)  # keep the leader in flight while the 99 others arrive
        return httpx.Response(200, json={"price": "42"})

    http = make_http(slow, Clock(0.0), sleeps)
    values: list[float] = []

    async def one() -> None:
        values.append((await http.get("up", "/price", parse_price, params={"symbol": "BTC"})).value)

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(one)
    await http.client.aclose()
    assert len(requests) == 1
    assert values == [42.0] * 100


async def test_single_flight_through_the_tool(fake: FakeUpstream, settings: Settings, sleeps: Sleeps) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.05)
        return fake.handle(request)

    server = build_server(settings, transport=httpx.MockTransport(slow), clock=lambda: FROZEN_NOW, sleep=sleeps)
    results: list[Any] = []
    async with Client(server) as client:

        async def one() -> None:
            results.append(await client.call_tool("get_coinbase_premium", AS_OF_CALL))

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one)
    assert len(results) == 100
    assert all(not r.is_error for r in results)
    assert len({json.dumps(r.structured_content["history"]) for r in results}) == 1
    assert fake.count("coinbase", "/products/BTC-USD/candles") == 1
    assert fake.count("binance", "/api/v3/klines") == 1


async def test_api_key_only_in_headers_never_in_results_errors_or_logs(
    sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    key = "sekret-KEY-do-not-leak-8c1f"
    seen_headers: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers.get("CG-API-KEY"))
        if request.url.path == "/ok":
            return httpx.Response(200, json={"price": "7"})
        return httpx.Response(401, json={"error": f"bad key {key}"})  # an upstream that echoes the key back

    caplog.set_level(logging.DEBUG)
    http = make_http(handler, Clock(0.0), sleeps, api_keys={"up": key}, retries=0)
    ok = await http.get("up", "/ok", parse_price, headers={"CG-API-KEY": http.require_key("up")})
    with pytest.raises(UnavailableError) as failure:
        await http.get("up", "/denied", parse_price, headers={"CG-API-KEY": http.require_key("up")})
    await http.client.aclose()
    assert seen_headers == [key, key]
    visible = " ".join(
        [ok.endpoint, str(failure.value), failure.value.message, str(http.status["up"].last_error), caplog.text]
    )
    assert key not in visible


async def test_configured_key_never_reaches_tool_output(
    fake: FakeUpstream, settings: Settings, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    from dataclasses import replace

    key = "sekret-coinglass-KEY-4b9e"
    keyed = replace(settings, api_keys={"coinglass": key, "cryptoquant": key})
    fake.faults["binance"] = lambda r, p: httpx.Response(500, text=f"echo {key}")
    caplog.set_level(logging.DEBUG)
    server = build_server(keyed, transport=fake.transport(), clock=lambda: FROZEN_NOW, sleep=sleeps)
    texts: list[str] = []
    async with Client(server) as client:
        for tool in (await client.list_tools()).tools:
            result = await client.call_tool(tool.name, {"as_of": "2025-11-24"})
            texts.append(
                json.dumps(result.structured_content) + " ".join(getattr(c, "text", "") for c in result.content)
            )
        for uri in ("windvane://sources", "windvane://methodology"):
            texts.extend(getattr(c, "text", "") for c in (await client.read_resource(uri)).contents)
    assert texts
    assert key not in " ".join(texts)
    assert key not in caplog.text
    assert all(key not in str(r.url) for r in fake.requests)


async def test_parse_in_thread_runs_the_parser_off_the_event_loop_with_the_same_results(sleeps: Sleeps) -> None:
    import threading

    loop_thread = threading.get_ident()
    parsed_on: list[int] = []

    def parse_recording(response: httpx.Response) -> float:
        parsed_on.append(threading.get_ident())
        return parse_price(response)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/drift":
            return httpx.Response(200, json={"cost": "1"})
        return httpx.Response(200, json={"price": "101.5"})

    http = make_http(handler, Clock(1_700_000_000.0), sleeps, retries=0)
    inline = await http.get("up", "/price", parse_recording, ttl_s=0)
    threaded = await http.get("up", "/price", parse_recording, ttl_s=0, parse_in_thread=True)
    # A parser failure in the thread is the same BadPayloadError as inline, never a raw KeyError.
    with pytest.raises(BadPayloadError, match="KeyError") as drift:
        await http.get("up", "/drift", parse_recording, parse_in_thread=True)
    await http.client.aclose()
    assert inline.value == threaded.value == 101.5
    assert parsed_on[0] == loop_thread
    assert parsed_on[1] != loop_thread
    assert drift.value.source == "up"


async def test_a_rejected_key_is_requested_once_and_names_its_variable(sleeps: Sleeps) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(401, json={"code": "40001", "msg": "invalid credential"})

    http = make_http(handler, Clock(0.0), sleeps, api_keys={"up": "k"}, retries=2)
    with pytest.raises(UnavailableError) as failure:
        await http.get("up", "/api/etf/bitcoin/flow-history", parse_price, headers={"CG-API-KEY": "k"})
    await http.client.aclose()
    assert len(requests) == 1  # retries=2, yet a rejected key is asked once
    assert sleeps.calls == []
    assert "WINDVANE_UP_API_KEY" in failure.value.message
    assert http.key_variable("fred_api") == "WINDVANE_FRED_API_KEY"  # the JSON API host, keyed as FRED
