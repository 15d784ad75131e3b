"""Every fault kind on one upstream of each tool, through the MCP client, figure by figure against the healthy run.

For each (tool, source, fault): the call answers (no tool error, no traceback); a warning names the source and the
reason; and no figure differs from the healthy run unless it is null (missing, with that warning) or an aggregate
the tool marks as partial. A missing figure is never 0. Faults wrap the fake's real responses (each API's exact
format, from ../shared): transport and status faults, and drifted bodies (truncated, HTML, empty, renamed keys, a
column dropped, strings or nulls for numbers, wrong types, empty data).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import FROZEN_NOW
from tests.fakes import FakeUpstream, default_fake
from tests.fakes.data import PAYLOADS

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("shared_data")]  # the fakes replay ../shared

Handler = Callable[[httpx.Request, str], httpx.Response]
AS_OF = {"as_of": "2025-11-24"}

# (tool, the source faulted, aggregate figures allowed to change when the source's share is left out)
CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("get_coinbase_premium", "coinbase", ()),
    ("get_etf_flows", "farside", ()),
    ("exchange_reserve_trend", "defillama", ("total_btc", "change_btc", "change_pct", "net_flow_btc")),
    ("get_leverage_state", "okx", ("open_interest.", "funding_avg_8h_pct", "order_book.")),
    ("get_macro_backdrop", "fred", ()),
    # track_record is the packaged record of whichever verdict the degraded evidence gives
    (
        "assess_rebound_vs_reversal",
        "coinbase",
        ("score", "evidence_agreement", "coverage", "flip_signals.", "track_record."),
    ),
]


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _walk(value: Any, leaf: Callable[[Any], Any], container: Callable[[Any], Any] = lambda v: v) -> Any:
    if isinstance(value, dict):
        return container({k: _walk(v, leaf, container) for k, v in value.items()})
    if isinstance(value, list):
        return container([_walk(v, leaf, container) for v in value])
    return leaf(value)


def _numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value) is not None


def _drop_column(value: Any) -> Any:
    def container(v: Any) -> Any:
        if isinstance(v, list) and v and all(not isinstance(x, dict | list) for x in v) and len(v) > 2:
            return v[:1] + v[2:]  # a row of scalars loses its second column
        if isinstance(v, dict) and len(v) > 1:
            first = next(iter(v))
            return {k: x for k, x in v.items() if k != first} if not isinstance(v[first], dict | list) else v
        return v

    return _walk(value, lambda x: x, container)


def _renamed(value: Any) -> Any:
    return {f"{k}_renamed": x for k, x in value.items()} if isinstance(value, dict) else value


def _text_mutation(kind: str, text: str) -> str:
    """The same drift for CSV and HTML bodies."""
    if kind == "renamed_keys":
        return re.sub(r"^([^\n,]+)", r"\1_renamed", text, count=1) if "," in text[:200] else text.replace("<th", "<td")
    if kind == "dropped_column":
        return (
            "\n".join(line.rsplit(",", 1)[0] for line in text.splitlines())
            if "<" not in text[:50]
            else (re.sub(r"<td[^>]*>[^<]*</td>\s*(</tr>)", r"\1", text))
        )
    if kind in ("string_for_number", "null_for_number"):
        filler = "abc" if kind == "string_for_number" else ""
        return re.sub(r"(?<=[,>])-?\d[\d.,]*(?=[\n<,])", filler, text)
    if kind == "wrong_types":
        return "[1, 2, 3]"
    if kind == "empty_data":
        return text.splitlines()[0] + "\n" if "<" not in text[:50] else "<html><body><table></table></body></html>"
    raise AssertionError(kind)


def _body_mutation(kind: str, body: bytes) -> bytes:
    parsed = _json_or_none(body)
    if parsed is None:
        return _text_mutation(kind, body.decode("utf-8", "replace")).encode()
    if kind == "renamed_keys":
        mutated = _walk(parsed, lambda x: x, _renamed)
    elif kind == "dropped_column":
        mutated = _drop_column(parsed)
    elif kind == "string_for_number":
        mutated = _walk(parsed, lambda x: "abc" if _numeric(x) else x)
    elif kind == "null_for_number":
        mutated = _walk(parsed, lambda x: None if _numeric(x) else x)
    elif kind == "wrong_types":
        mutated = {"unexpected": parsed} if isinstance(parsed, list) else [parsed]
    elif kind == "empty_data":
        mutated = [] if isinstance(parsed, list) else {k: ([] if isinstance(v, list) else v) for k, v in parsed.items()}
    else:
        raise AssertionError(kind)
    return json.dumps(mutated).encode()


def fault(kind: str, real: Handler) -> Handler:
    def handler(request: httpx.Request, path: str) -> httpx.Response:
        if kind == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        if kind == "http_500":
            return httpx.Response(500, text="Internal Server Error")
        if kind == "http_429":
            return httpx.Response(429, headers={"Retry-After": "1"}, text="Too Many Requests")
        if kind == "http_451":
            return httpx.Response(451, json={"code": 0, "msg": "Service unavailable from a restricted location"})
        if kind == "cloudflare_403":
            page = (PAYLOADS / "farside" / "cloudflare_managed_challenge_generic_2025-02-24.html").read_text()
            return httpx.Response(403, text=page)
        response = real(request, path)
        body = response.read()
        if kind == "truncated":
            mutated = body[: len(body) // 2]
        elif kind == "html":
            mutated = b"<!DOCTYPE html><html><title>Just a moment...</title></html>"
        elif kind == "empty_body":
            mutated = b""
        else:
            mutated = _body_mutation(kind, body)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return httpx.Response(response.status_code, headers=headers, content=mutated)

    return handler


UNMISSABLE = {"timeout", "http_500", "http_429", "http_451", "cloudflare_403", "truncated", "html", "empty_body"}
FAULTS = [
    "timeout", "http_500", "http_429", "http_451", "cloudflare_403", "truncated", "html", "empty_body",
    "renamed_keys", "dropped_column", "string_for_number", "null_for_number", "wrong_types", "empty_data",
]  # fmt: skip


def _item_key(item: Any, i: int) -> str:
    if isinstance(item, dict):
        for name in ("venue", "exchange", "name", "date", "ts", "symbol", "label", "ticker", "category", "price"):
            if name in item:
                return str(item[name])
    return str(i)


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}{k}.")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{_item_key(v, i)}].")
    else:
        yield path.rstrip("."), value


IGNORED = re.compile(r"(^|\.)(sources|warnings|summary|age_seconds|fetched_at|time|evidence)(\.|$)")


async def call(fake: FakeUpstream, settings: Any, tool: str) -> dict[str, Any]:
    from mcp import Client

    from server.app import build_server

    async def no_sleep(seconds: float) -> None:
        return None

    server = build_server(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW, sleep=no_sleep)
    async with Client(server) as client:  # type: ignore[arg-type]
        result = await client.call_tool(tool, AS_OF)
    assert not result.is_error, result.content
    out: dict[str, Any] = result.structured_content
    assert "Traceback" not in json.dumps(out)
    return out


_healthy: dict[str, dict[str, Any]] = {}


@pytest.mark.parametrize("kind", FAULTS)
@pytest.mark.parametrize(("tool", "source", "aggregates"), CASES, ids=[c[0] for c in CASES])
async def test_a_fault_degrades_to_null_with_its_reason(
    tmp_path: Any, tool: str, source: str, aggregates: tuple[str, ...], kind: str
) -> None:
    from tests.conftest import make_settings

    if tool not in _healthy:
        _healthy[tool] = await call(default_fake(), make_settings(tmp_path / "healthy"), tool)
    healthy = dict(leaves(_healthy[tool]))
    fake = default_fake()
    fake.faults[source] = fault(kind, fake.handlers[source])
    out = await call(fake, make_settings(tmp_path / "faulted"), tool)
    figures = {path: value for path, value in leaves(out) if not IGNORED.search(path)}
    degraded = {path for path, value in figures.items() if healthy.get(path) != value}
    # A failed request or an unreadable body is always reported; a drift the format cannot show (no keys to
    # rename in array rows) may change nothing, and then needs no warning.
    if degraded or kind in UNMISSABLE:
        assert any(source in w for w in out["warnings"]), (kind, sorted(degraded)[:5], out["warnings"])
    for path, value in figures.items():
        if path not in healthy or value is None or value == healthy[path]:
            continue
        if isinstance(value, bool | str) or any(path.startswith(a) or a in path for a in aggregates):
            continue  # labels, flags and the tool's documented partial aggregates
        assert not (value == 0 and healthy[path] not in (0, None)), f"{kind}: {path} became 0 (was {healthy[path]})"
        raise AssertionError(f"{kind}: {path} = {value!r}, healthy {healthy[path]!r}, and not null")
