"""The fleet's settings: URLs checked without echoing them, rate budget overrides, a clear word on a missing extra."""

from __future__ import annotations

import importlib.util

import pytest

from fetchers.shared.budgets import PUBLISHED, Window, binance_weight, with_overrides
from server.settings import SettingsError, load_settings


def test_fleet_urls_are_read_and_checked_without_echoing_them() -> None:
    settings = load_settings(
        {"WINDVANE_REDIS_URL": "redis://r:6379/0", "WINDVANE_DATABASE_URL": "postgresql://u:pw@d/x"}
    )
    assert (settings.redis_url, settings.database_url, settings.fleet) == (
        "redis://r:6379/0",
        "postgresql://u:pw@d/x",
        True,
    )
    assert not load_settings({}).fleet
    with pytest.raises(SettingsError, match="WINDVANE_DATABASE_URL must start with postgresql://") as caught:
        load_settings({"WINDVANE_DATABASE_URL": "mysql://u:secret-pw@d/x"})
    assert "secret-pw" not in str(caught.value)


def test_a_missing_fleet_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "asyncpg" else real(name, *a))
    with pytest.raises(SettingsError, match=r"WINDVANE_DATABASE_URL needs asyncpg: pip install 'windvane\[fleet\]'"):
        load_settings({"WINDVANE_DATABASE_URL": "postgresql://d/x"})


def test_rate_budget_overrides() -> None:
    parsed = load_settings({"WINDVANE_RATE_BUDGETS": "cryptoquant=50/1d, coinbase=8/1s+400/1m,okx=off"}).rate_budgets
    assert parsed == {"cryptoquant": ((50, 86400),), "coinbase": ((8, 1), (400, 60)), "okx": ()}
    budgets = with_overrides(PUBLISHED, {k: tuple(Window(a, s) for a, s in v) for k, v in parsed.items()})
    by_name = {b.name: b for b in budgets}
    assert by_name["cryptoquant"].windows == (Window(50, 86400),)  # a new budget, per day
    assert by_name["coinbase"].windows == (Window(8, 1), Window(400, 60))
    assert not any(b.source == "okx" for b in budgets)  # every OKX endpoint's budget removed
    assert by_name["binance"].windows == (Window(6000, 60),)  # untouched: the published limit
    for bad in ("coinbase=8", "coinbase=0/1s", "coinbase=8/1w", "=8/1s"):
        with pytest.raises(SettingsError, match="WINDVANE_RATE_BUDGETS"):
            load_settings({"WINDVANE_RATE_BUDGETS": bad})


def test_binance_weights_follow_its_published_table() -> None:
    assert binance_weight("/api/v3/klines", {"symbol": "BTCUSDT"}) == 2
    assert [binance_weight("/api/v3/depth", {"limit": n}) for n in (100, 500, 1000, 5000)] == [5, 25, 50, 250]
