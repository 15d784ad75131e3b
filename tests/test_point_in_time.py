"""One point in time per call: 'today' means live in every tool, and one parse feeds the whole assessment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FROZEN_NOW, make_settings
from tools.point_in_time import PointInTime

pytestmark = pytest.mark.anyio

TODAY = FROZEN_NOW.date().isoformat()
TOOLS = [
    "get_coinbase_premium",
    "get_etf_flows",
    "exchange_reserve_trend",
    "get_leverage_state",
    "get_macro_backdrop",
    "assess_rebound_vs_reversal",
]


def without_ages(value: Any) -> Any:
    """The answer without fetch times (a book with no timestamp of its own is stamped when fetched), and with
    sources and warnings as sets (concurrent calls finish in any order)."""
    if isinstance(value, dict):
        out = {k: without_ages(v) for k, v in value.items() if k not in ("age_seconds", "fetched_at", "time")}
        for key in ("sources", "warnings"):
            if isinstance(out.get(key), list):
                out[key] = sorted(out[key], key=repr)
        return out
    if isinstance(value, list):
        return [without_ages(v) for v in value]
    return value


def test_live_means_now() -> None:
    assert PointInTime(FROZEN_NOW).is_live
    today = PointInTime.parse(TODAY, FROZEN_NOW)
    assert today.as_of == FROZEN_NOW
    assert today.is_live
    assert today.bar_cutoff == FROZEN_NOW
    earlier = PointInTime.parse((FROZEN_NOW - timedelta(hours=2)).isoformat(), FROZEN_NOW)
    assert not earlier.is_live
    assert earlier.bar_cutoff == FROZEN_NOW - timedelta(hours=2) + timedelta(microseconds=1)
    past = PointInTime.parse("2025-11-24", FROZEN_NOW)
    assert past.at == datetime(2025, 11, 24, 23, 59, 59, 999999, tzinfo=UTC)
    assert not past.is_live


@pytest.mark.parametrize("tool", TOOLS)
async def test_todays_date_answers_like_no_as_of(make_client, tool: str, tmp_path: Path) -> None:
    # Each on a fresh server and store: a repeated call would read what the first one stored.
    async with make_client(settings_=make_settings(tmp_path / "live")) as client:
        live = await client.call_tool(tool, {})
    async with make_client(settings_=make_settings(tmp_path / "today")) as client:
        today = await client.call_tool(tool, {"as_of": TODAY})
    assert not live.is_error, live.content
    assert not today.is_error, today.content
    assert without_ages(today.structured_content) == without_ages(live.structured_content)
