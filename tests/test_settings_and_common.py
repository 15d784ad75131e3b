"""Settings from the environment, as_of parsing, streaks and the response cache: pure, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fetchers.cache import CacheEntry, MemoryCache
from server.settings import DEFAULT_BASE_URLS, SettingsError, load_settings
from tools.errors import InputError
from tools.point_in_time import PointInTime, parse_as_of
from tools.streaks import sign_streak

NOW = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)


def test_defaults_point_at_real_public_apis() -> None:
    settings = load_settings({})
    assert settings.base_url("coinbase") == "https://api.exchange.coinbase.com"
    assert settings.base_url("binance") == "https://api.binance.com"
    assert settings.api_keys == {}
    assert settings.http_token is None


def test_every_contract_source_has_an_override() -> None:
    contract = [
        "COINBASE",
        "BINANCE",
        "BINANCE_FUTURES",
        "OKX",
        "KRAKEN",
        "BITSTAMP",
        "BYBIT",
        "DERIBIT",
        "FARSIDE",
        "SOSOVALUE",
        "COINGLASS",
        "CRYPTOQUANT",
        "FRED",
        "YAHOO",
        "KALSHI",
        "POLYMARKET",
        "COINGECKO",
        "MEMPOOL",
        "ALTERNATIVE_ME",
    ]
    env = {f"WINDVANE_{name}_BASE_URL": f"http://127.0.0.1:9000/{name.lower()}/" for name in contract}
    settings = load_settings(env)
    for name in contract:
        assert settings.base_url(name.lower()) == f"http://127.0.0.1:9000/{name.lower()}"
    assert set(name.lower() for name in contract) <= set(DEFAULT_BASE_URLS)


def test_keys_come_only_from_keyed_sources_and_are_trimmed() -> None:
    settings = load_settings({"WINDVANE_COINGLASS_API_KEY": " k1 ", "WINDVANE_COINBASE_API_KEY": "nope"})
    assert settings.api_key("coinglass") == "k1"
    assert settings.api_key("coinbase") is None


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"WINDVANE_HTTP_TIMEOUT": "soon"}, "WINDVANE_HTTP_TIMEOUT"),
        ({"WINDVANE_HTTP_TIMEOUT": "0"}, ">= 0.1"),
        ({"WINDVANE_OKX_BASE_URL": "ftp://x"}, "http:// or https://"),
    ],
)
def test_malformed_settings_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle.replace("+", r"\+")):
        load_settings(env)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("2025-11-24", datetime(2025, 11, 24, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2025-11-24T15:00:00Z", datetime(2025, 11, 24, 15, tzinfo=UTC)),
        ("2025-11-24T17:00:00+02:00", datetime(2025, 11, 24, 15, tzinfo=UTC)),
        ("2025-11-26", NOW),  # today: capped at now, so no bar of the future is asked for
    ],
)
def test_parse_as_of(raw: str | None, expected: datetime | None) -> None:
    assert parse_as_of(raw, NOW) == expected


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("24/11/2025", "not an ISO date"),
        ("2025-11-24T15:00:00", "not an ISO date"),  # a datetime without Z or an offset is ambiguous
        ("2025-13-01", "not an ISO date"),
        ("2026-01-01", "future"),
        ("2009-01-03", "before 2010"),
    ],
)
def test_bad_as_of_is_an_input_error(raw: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        parse_as_of(raw, NOW)


def test_bar_cutoff_includes_the_bar_closing_at_the_end_of_the_day() -> None:
    assert PointInTime.parse("2025-11-24", NOW).bar_cutoff == datetime(2025, 11, 25, tzinfo=UTC)
    assert PointInTime(NOW).bar_cutoff == NOW


def _days(*values: float) -> list[tuple[datetime, float]]:
    return [(datetime(2025, 11, d + 1, tzinfo=UTC), v) for d, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "sign", "days", "since", "complete"),
    [
        ((1.0, -2.0, -1.0, -0.5), "negative", 3, "2025-11-02", True),
        ((-1.0, -2.0), "negative", 2, "2025-11-01", False),
        ((-1.0, 2.0), "positive", 1, "2025-11-02", True),
        ((1.0, 0.0), "zero", 1, "2025-11-02", True),
    ],
)
def test_sign_streak(values: tuple[float, ...], sign: str, days: int, since: str, complete: bool) -> None:
    streak = sign_streak(_days(*values))
    assert (streak.sign, streak.days, streak.since, streak.complete) == (sign, days, since, complete)


def test_empty_streak_has_no_sign_and_no_length() -> None:
    streak = sign_streak([])
    assert streak.sign is None
    assert streak.days is None  # no data is not a run of zero days


def test_cache_entry_expires_but_last_good_remains() -> None:
    now = [1000.0]
    cache = MemoryCache(clock=lambda: now[0])
    cache.put("k", CacheEntry(value=[1], fetched_at=1000.0, endpoint="e"), ttl_s=60)
    assert cache.get_fresh("k") is not None
    now[0] += 61
    assert cache.get_fresh("k") is None
    last = cache.get_last_good("k")
    assert last is not None
    assert last.value == [1]
    assert cache.stats()["hits"] == 1
