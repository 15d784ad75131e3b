"""The two drift cases of issue 13 end to end, through the MCP client: a Binance kline missing one column, and a
Farside page cut short. Each must come back as bad_payload naming the source and a fallback (or null), never as
figures read from a shifted row or a shorter table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from tests.drift import needs_shared
from tests.fakes import FakeUpstream
from tests.fakes import farside as fake_farside
from tests.fakes.data import binance_daily, coinbase_daily, day_ts

pytestmark = [pytest.mark.anyio, needs_shared]
M = 1_000_000


async def tool(client: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, result.content
    out: dict[str, Any] = result.structured_content
    return out


# -- a Binance kline with one column missing -------------------------------------------------------------------------


def _klines_missing(fake: FakeUpstream, column: int) -> None:
    served = fake.handlers["binance"]

    def drifted(request: httpx.Request, path: str) -> httpx.Response:
        answer = served(request, path)
        if path != "/api/v3/klines":
            return answer
        rows = answer.json()
        for row in rows:
            del row[column]
        return httpx.Response(200, json=rows)

    fake.faults["binance"] = drifted


@pytest.mark.parametrize("column", [0, 1, 4, 5, 11])  # open time, open, close, volume, the unused last one
async def test_binance_kline_missing_a_column_falls_back_and_says_bad_payload(
    make_client, fake: FakeUpstream, column: int
) -> None:
    _klines_missing(fake, column)
    async with make_client() as client:
        out = await tool(client, "get_coinbase_premium", {"as_of": "2025-11-21", "days": 10})
    assert out["current"]["reference_venue"] == "okx"
    assert any(w.startswith("reference candles from binance unavailable: binance bad_payload") for w in out["warnings"])
    assert any("kline 0 has 11 fields, expected 12" in w for w in out["warnings"])
    # The OKX fake re-serves Binance's real closes: every figure is the healthy one, never a shifted column's.
    bn = float(binance_daily()[day_ts("2025-11-21") * 1000][4])
    cb = coinbase_daily()[day_ts("2025-11-21")][3]
    assert bn == pytest.approx(85129.43)
    last = out["history"][-1]
    assert last["ts"].startswith("2025-11-21")
    assert last["reference_close"] == pytest.approx(bn)
    assert last["premium_pct"] == pytest.approx(100 * (cb / bn - 1), abs=1e-6)
    assert last["premium_pct"] == pytest.approx(-0.071, abs=0.001)
    for bar in out["history"]:
        day = bar["ts"][:10]
        bn_day = float(binance_daily()[day_ts(day) * 1000][4])
        assert bar["premium_pct"] == pytest.approx(100 * (coinbase_daily()[day_ts(day)][3] / bn_day - 1), abs=1e-6)


# -- a Farside page cut short ----------------------------------------------------------------------------------------


def _farside_cut(fake: FakeUpstream, fraction: float, *, recent_too: bool = False) -> None:
    served = fake_farside.handler(last_day="2025-11-21")  # the pages as they stood that day

    def cut(request: httpx.Request, path: str) -> httpx.Response:
        answer = served(request, path)
        if "all-data" not in path and not recent_too:
            return answer
        html = answer.text
        if fraction >= 1:  # inside the summary rows, just before </table>
            return httpx.Response(200, text=html[: html.index("</table>") - 20])
        return httpx.Response(200, text=html[: int(len(html) * fraction)])

    fake.handlers["farside"] = cut


def _healthy_recent(fake: FakeUpstream) -> None:
    served = fake_farside.handler(last_day="2025-11-21")
    fake.handlers["farside"] = lambda request, path: (
        httpx.Response(500, text="<html>error</html>") if "all-data" in path else served(request, path)
    )


FIGURES = ("days", "month_to_date_usd", "avg_5d_usd", "latest_completed_day", "outflow_below_100m")


@pytest.mark.parametrize("fraction", [0.5, 0.9, 1.0])
async def test_farside_page_cut_short_is_bad_payload_and_the_recent_page_answers(
    make_client, fake: FakeUpstream, tmp_path: Path, fraction: float
) -> None:
    _healthy_recent(fake)
    async with make_client(settings_=make_settings(tmp_path / "reference")) as client:
        reference = await tool(client, "get_etf_flows", {"as_of": "2025-11-21", "days": 5})
    _farside_cut(fake, fraction)
    async with make_client() as client:
        out = await tool(client, "get_etf_flows", {"as_of": "2025-11-21", "days": 5})
    assert out["source_used"] == "farside"
    cut = [w for w in out["warnings"] if w.startswith("Farside all-data page unavailable: farside bad_payload")]
    assert cut, out["warnings"]
    assert "truncated" in cut[0]
    assert any("using Farside's recent page" in w for w in out["warnings"])
    assert [s["endpoint"] for s in out["sources"]] == ["http://fake.test/farside/btc/"]
    assert out["month_to_date_usd"] == pytest.approx(-3536.9 * M, abs=1)  # 1-21 Nov 2025, the real figure
    for name in FIGURES:
        assert out[name] == reference[name], name


async def test_both_farside_pages_cut_short_without_a_key_give_nulls(make_client, fake: FakeUpstream) -> None:
    _farside_cut(fake, 0.5, recent_too=True)
    async with make_client() as client:
        out = await tool(client, "get_etf_flows", {"as_of": "2025-11-21", "days": 5})
    assert out["source_used"] is None
    assert out["days"] == []
    assert out["month_to_date_usd"] is None
    assert out["avg_5d_usd"] is None
    assert out["latest_completed_day"] is None
    for page in ("Farside all-data page", "Farside recent page"):
        assert any(w.startswith(f"{page} unavailable: farside bad_payload") for w in out["warnings"]), page


async def test_both_farside_pages_cut_short_with_a_key_use_sosovalue(
    make_client, fake: FakeUpstream, tmp_path: Path
) -> None:
    _farside_cut(fake, 0.5, recent_too=True)
    settings = make_settings(tmp_path, api_keys={"sosovalue": "test-soso-key"})
    async with make_client(settings_=settings) as client:
        out = await tool(client, "get_etf_flows", {"as_of": "2025-11-21", "days": 5})
    assert out["source_used"] == "sosovalue"
    assert out["month_to_date_usd"] == pytest.approx(-3536.9 * M, abs=1)
    assert any("farside bad_payload" in w and "truncated" in w for w in out["warnings"])
    assert any("Farside unavailable: using sosovalue" in w for w in out["warnings"])
