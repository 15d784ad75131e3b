"""The HTTP layer's memory of failures and its respect for the call's deadline, request by request.

Circuit per source: two failed requests (after their retries) open it, a refusal of the host (no route, geo-block,
rejected key) opens it at once; while open nothing is sent and the last good value is served stale; after the
cool-down one probe decides. A failed request is remembered, so an identical one is not sent again at once. No
attempt, retry or backoff outlives the call's deadline.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from fetchers.breaker import BASE_COOLDOWN_S
from fetchers.call_context import call_context, current_reachability
from fetchers.errors import BadPayloadError, DeadlineExceeded, UnavailableError, UnreachableError
from fetchers.http import FAILURE_MEMORY_S, Http, HttpConfig, decode_json
from tests.conftest import Sleeps

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Upstream:
    """Answers with `respond(request)` and counts what was asked, per path."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.respond(request)

    def count(self, path: str) -> int:
        return self.paths.count(path)


def make_http(upstream: Any, clock: Clock, sleeps: Sleeps, **config: Any) -> Http:
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    return Http(client, HttpConfig(base_urls={"up": "http://up.test"}, **config), sleep=sleeps, clock=clock)


def parse_price(response: httpx.Response) -> float:
    return float(decode_json(response, "up")["price"])


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request) from ConnectionRefusedError(111)


def server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, text="down")


async def test_two_failed_requests_open_the_circuit_and_the_next_is_not_sent(sleeps: Sleeps) -> None:
    upstream = Upstream(server_error)
    http = make_http(upstream, Clock(), sleeps)
    for path in ("/a", "/b"):
        with pytest.raises(UnavailableError, match="HTTP 500"):
            await http.get("up", path, parse_price)
    assert upstream.count("/a") == 3  # a transient fault is retried
    assert upstream.count("/b") == 3
    with pytest.raises(UnavailableError, match="circuit open") as failure:
        await http.get("up", "/c", parse_price)
    assert upstream.count("/c") == 0
    assert "HTTP 500" in failure.value.message  # the last error, and when the next probe is due
    assert http.breakers.circuit("up").state == "open"
    await http.client.aclose()


async def test_after_the_cool_down_one_probe_decides(sleeps: Sleeps) -> None:
    healthy = {"now": False}

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"price": "7"}) if healthy["now"] else server_error(request)

    upstream = Upstream(respond)
    clock = Clock()
    http = make_http(upstream, clock, sleeps)
    for path in ("/a", "/b"):
        with pytest.raises(UnavailableError):
            await http.get("up", path, parse_price)
    clock.now += BASE_COOLDOWN_S + 1
    with pytest.raises(UnavailableError, match="HTTP 500"):
        await http.get("up", "/probe-1", parse_price)  # the probe fails: one attempt, and open again
    assert upstream.count("/probe-1") == 1
    circuit = http.breakers.circuit("up")
    assert circuit.state == "open"
    assert circuit.open_until == pytest.approx(clock.now + 2 * BASE_COOLDOWN_S)  # the cool-down grew
    clock.now += 2 * BASE_COOLDOWN_S + 1
    healthy["now"] = True
    got = await http.get("up", "/probe-2", parse_price)
    assert got.value == 7.0
    assert http.breakers.circuit("up").state == "closed"
    await http.client.aclose()


async def test_no_route_is_one_attempt_opens_at_once_and_says_why(sleeps: Sleeps) -> None:
    upstream = Upstream(refused)
    http = make_http(upstream, Clock(), sleeps)
    with call_context(15.0):
        with pytest.raises(UnreachableError) as failure:
            await http.get("up", "/a", parse_price)
        reachability = current_reachability()
    assert failure.value.kind == "unreachable"
    assert failure.value.message == "connection refused"
    assert upstream.count("/a") == 1  # retrying in half a second will not give the host a route
    assert http.breakers.circuit("up").state == "open"
    assert reachability is not None
    assert reachability.no_route()
    assert reachability.unreachable == {"up": "connection refused"}
    await http.client.aclose()


async def test_a_dns_failure_is_named(sleeps: Sleeps) -> None:
    def no_dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request) from socket.gaierror(-2)

    http = make_http(Upstream(no_dns), Clock(), sleeps)
    with pytest.raises(UnreachableError, match="DNS lookup failed"):
        await http.get("up", "/a", parse_price)
    await http.client.aclose()


async def test_an_identical_request_after_a_bad_payload_is_not_sent_until_forgotten(sleeps: Sleeps) -> None:
    upstream = Upstream(lambda r: httpx.Response(200, text="<html>challenge</html>"))
    clock = Clock()
    http = make_http(upstream, clock, sleeps)
    with pytest.raises(BadPayloadError):
        await http.get("up", "/a", parse_price, ttl_s=600)
    with pytest.raises(BadPayloadError, match="not asked again"):
        await http.get("up", "/a", parse_price, ttl_s=600)
    assert upstream.count("/a") == 1
    assert http.breakers.circuit("up").state == "closed"  # the host answered: another path may be fine
    assert http.status["up"].remembered_failures == 1
    clock.now += FAILURE_MEMORY_S + 1
    with pytest.raises(BadPayloadError):
        await http.get("up", "/a", parse_price, ttl_s=600)
    assert upstream.count("/a") == 2
    await http.client.aclose()


async def test_an_open_circuit_serves_the_last_good_value_stale(sleeps: Sleeps) -> None:
    state = {"up": True}

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"price": "7"}) if state["up"] else server_error(request)

    upstream = Upstream(respond)
    clock = Clock()
    http = make_http(upstream, clock, sleeps, ttl_scale=0.0)  # every value is due for a refetch at once
    assert (await http.get("up", "/a", parse_price)).value == 7.0
    state["up"] = False
    for path in ("/b", "/c"):
        with pytest.raises(UnavailableError):
            await http.get("up", path, parse_price)
    sent = len(upstream.paths)
    stale = await http.get("up", "/a", parse_price)
    assert len(upstream.paths) == sent  # the circuit is open: nothing was sent
    assert stale.stale
    assert stale.value == 7.0
    assert stale.stale_reason is not None
    assert "circuit open" in stale.stale_reason
    await http.client.aclose()


async def test_a_request_that_never_answers_ends_at_the_deadline(sleeps: Sleeps) -> None:
    async def black_hole(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    http = Http(
        httpx.AsyncClient(transport=httpx.MockTransport(black_hole)),
        HttpConfig(base_urls={"up": "http://up.test"}, timeout_s=30.0),
        sleep=sleeps,
    )
    guard = anyio.fail_after(10)  # a deadlock guard, not a timing assertion
    with guard, call_context(0.2), pytest.raises(DeadlineExceeded, match=r"not answered within 0\.2 s"):
        await http.get("up", "/a", parse_price)
    assert http.breakers.circuit("up").failures == 0  # our own deadline ran out, not the upstream's patience
    await http.client.aclose()


async def test_no_backoff_is_slept_past_the_deadline(sleeps: Sleeps) -> None:
    upstream = Upstream(server_error)
    http = make_http(upstream, Clock(), sleeps, retry_base_delay_s=30.0)
    with call_context(1.0), pytest.raises(UnavailableError, match="HTTP 500"):
        await http.get("up", "/a", parse_price)
    assert upstream.count("/a") == 1  # a 30 s backoff would end after the deadline: the error now instead
    assert sleeps.calls == []
    await http.client.aclose()


async def test_a_waiting_follower_leaves_at_its_own_deadline(sleeps: Sleeps) -> None:
    release = anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json={"price": "7"})

    http = Http(httpx.AsyncClient(transport=httpx.MockTransport(slow)), HttpConfig({"up": "http://up.test"}))
    outcome: dict[str, Any] = {}

    async def leader() -> None:
        outcome["leader"] = (await http.get("up", "/a", parse_price)).value

    async def follower() -> None:
        with call_context(0.1):
            try:
                await http.get("up", "/a", parse_price)
            except DeadlineExceeded as exc:
                outcome["follower"] = exc.message
        release.set()

    with anyio.fail_after(10):  # a deadlock guard
        async with anyio.create_task_group() as tg:
            tg.start_soon(leader)
            await anyio.lowlevel.checkpoint()
            tg.start_soon(follower)
    assert outcome == {"leader": 7.0, "follower": "not answered within 0.1 s"}
    await http.client.aclose()
