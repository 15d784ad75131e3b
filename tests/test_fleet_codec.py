"""The shared cache's codec: every value a tool's fetchers parse survives Redis unchanged, and nothing but windvane's
own value types can be rebuilt from what Redis holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from fetchers.shared import codec
from schemas.common import SourceRef
from schemas.market import Candle
from server.settings import Settings
from tests.conftest import FROZEN_NOW, Sleeps

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class NotOurs:  # defined in a tests. module: outside the registry
    x: int


def test_round_trips_nested_values_exactly() -> None:
    value = {
        "bars": [Candle(datetime(2025, 11, 24, tzinfo=UTC), 1.0, 2.0, 0.5, 1.5, 3.0, closed=False)],
        "ref": SourceRef(
            name="okx",
            endpoint="https://x/y",
            fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
            stale=False,
            age_seconds=1.0,
        ),
        "pair": (1, "a", None),
        "days": {date(2025, 11, 24): float("inf")},
        "$t": "a key that looks like the tag",
        "set": frozenset({1, 2}),
    }
    back = codec.loads(codec.dumps(value))
    assert back == value
    assert type(back["pair"]) is tuple
    assert back["ref"].model_fields_set == value["ref"].model_fields_set


@pytest.mark.parametrize(
    "document",
    [
        {"$t": "dc", "c": "os:system", "f": {}},
        {"$t": "dc", "c": "subprocess:Popen", "f": {"args": "true"}},
        {"$t": "dc", "c": "fetchers.http:log", "f": {}},  # ours, but not a value type
        {"$t": "model", "c": "builtins:object", "f": {}, "s": []},
        {"$t": "dc", "c": "tests.test_fleet_codec:NotOurs", "f": {"x": 1}},
        {"$t": "unknown", "v": 1},
    ],
)
def test_refuses_anything_outside_the_registry(document: dict[str, Any]) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(document)


def test_refuses_to_encode_what_it_could_not_rebuild() -> None:
    with pytest.raises(codec.CodecError):
        codec.encode(object())
    assert codec.decode(codec.encode(NotOurs(1))["f"]) == {"x": 1}  # encodable, but never rebuilt as NotOurs


CALLS = [
    ("assess_rebound_vs_reversal", {}),
    ("assess_rebound_vs_reversal", {"as_of": "2025-11-24"}),
    ("get_etf_flows", {"as_of": "2025-11-20", "days": 10}),
    ("get_coinbase_premium", {"interval": "1h", "days": 2}),
]


async def test_every_value_the_tools_fetch_survives_the_shared_tier(
    redis_url: str, settings: Settings, sleeps: Sleeps
) -> None:
    from dataclasses import replace

    from mcp import Client

    from server.app import build_server
    from tests.fakes import default_fake
    from tools.deps import Deps

    live: list[Deps] = []
    fleet_settings = replace(settings, redis_url=redis_url)
    server = build_server(
        fleet_settings, transport=default_fake().transport(), clock=lambda: FROZEN_NOW, sleep=sleeps, live=live
    )
    async with Client(server) as client:
        for name, args in CALLS:
            result = await client.call_tool(name, args)
            assert not result.is_error, (name, result)
        http = live[0].http
        assert http.fleet.shared
        local = dict(http.cache._last_good.items())  # type: ignore[attr-defined]
        assert len(local) > 40
        missing, different = [], []
        for key, entry in local.items():
            shared = await http.fleet.cache.get(http._shared_key(key.split(" ", 1)[0], key))
            if shared is None:
                missing.append(key)
            elif (shared.value, shared.fetched_at, shared.endpoint) != (entry.value, entry.fetched_at, entry.endpoint):
                different.append(key)
    assert missing == []
    assert different == []
