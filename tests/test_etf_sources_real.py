"""SoSoValue and CoinGlass ETF parsers on real recorded bodies, and a three-source cross-check on real captures:
Farside's all-data page of 2026-08-22 against CoinGlass's and SoSoValue's recorded histories of the same weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from fetchers.coinglass import parse_etf_flow_history
from fetchers.errors import BadPayloadError, UnavailableError
from fetchers.farside import parse_flow_table_html
from fetchers.sosovalue import parse_fund_history, parse_summary_history
from tests.conftest import make_settings
from tests.fakes import FakeUpstream
from tests.fakes.data import PAYLOADS

M = 1_000_000
SOSO_SUMMARY = PAYLOADS / "sosovalue" / "sosovalue_openapi_v1_etfs_summary-history_BTC_US_2026-07-31.json"
SOSO_IBIT = PAYLOADS / "sosovalue" / "sosovalue_openapi_v1_etfs_IBIT_history_2026-08-03.json"
SOSO_BAD_KEY = PAYLOADS / "sosovalue" / "sosovalue_error_invalid_api_key.json"
CG_FLOWS = PAYLOADS / "coinglass" / "coinglass_v4_etf_bitcoin_flow-history_2026-07-04.json"
FARSIDE_2026 = PAYLOADS / "farside" / "btc_all_data_2026-08-22.html"


def response(path: Any) -> httpx.Response:
    return httpx.Response(200, text=path.read_text())


def test_sosovalue_summary_history() -> None:
    table = parse_summary_history(response(SOSO_SUMMARY))
    assert table.rows[0].day < table.rows[-1].day  # newest-first body, ascending result
    assert table.rows[-1].day == date(2026, 7, 31)
    assert table.rows[-1].total_usd == pytest.approx(-265372778.16)
    assert table.net_assets_usd["TOTAL"] == pytest.approx(76293563503.2954)


def test_sosovalue_fund_history_skips_the_pending_day() -> None:
    flows, net_assets = parse_fund_history(response(SOSO_IBIT))
    assert date(2026, 8, 3) not in flows  # nulls: still being reported
    assert flows[date(2026, 7, 31)] == pytest.approx(-122656640.0)
    assert net_assets == pytest.approx(46401292160.0)


def test_sosovalue_invalid_key_body() -> None:
    with pytest.raises(UnavailableError) as info:
        parse_summary_history(response(SOSO_BAD_KEY))
    assert "400101" in info.value.message


def test_coinglass_flow_history() -> None:
    table = parse_etf_flow_history(response(CG_FLOWS))
    assert len(table.rows) == 30
    assert table.rows[-1].day == date(2026, 7, 2)  # timestamp is 00:00 UTC of the US trade date
    assert table.rows[-1].total_usd == 223.5 * M
    assert table.rows[-1].funds == {}  # this recording dropped etf_flows[]


def test_coinglass_error_body() -> None:
    with pytest.raises(BadPayloadError):
        parse_etf_flow_history(httpx.Response(200, json={"code": "50001", "msg": "server busy", "data": None}))


def test_real_sources_agree_day_by_day() -> None:
    farside = {r.day: r.total_usd for r in parse_flow_table_html(FARSIDE_2026.read_text()).rows}
    coinglass = parse_etf_flow_history(response(CG_FLOWS)).rows
    sosovalue = parse_summary_history(response(SOSO_SUMMARY)).rows
    # Farside rounds each fund to US$0.1M, so totals drift by a few tenths; CoinGlass matches to the tenth.
    for row in coinglass:
        assert row.total_usd == pytest.approx(farside[row.day], abs=0.05 * M), row.day
    for row in sosovalue:
        assert row.total_usd == pytest.approx(farside[row.day], abs=0.5 * M), row.day
    ibit_farside = {r.day: r.funds["IBIT"] for r in parse_flow_table_html(FARSIDE_2026.read_text()).rows}
    for day, value in parse_fund_history(response(SOSO_IBIT))[0].items():
        assert value == pytest.approx(ibit_farside[day], abs=0.05 * M), day


@pytest.mark.anyio
async def test_tool_on_real_captures_cross_checks_and_reports_asset_share(
    make_client, fake: FakeUpstream, tmp_path
) -> None:
    fake.handlers["farside"] = lambda request, path: httpx.Response(200, text=FARSIDE_2026.read_text())

    def soso(request: httpx.Request, path: str) -> httpx.Response:
        if path == "/openapi/v1/etfs/summary-history":
            return response(SOSO_SUMMARY)
        if path == "/openapi/v1/etfs/IBIT/history":
            return response(SOSO_IBIT)
        return httpx.Response(404, json={"code": 404, "message": "not found"})

    fake.handlers["sosovalue"] = soso
    fake.handlers["coinglass"] = lambda request, path: response(CG_FLOWS)
    settings = make_settings(tmp_path, api_keys={"sosovalue": "k1", "coinglass": "k2"})
    async with make_client(now=datetime(2026, 8, 4, 12, tzinfo=UTC), settings_=settings) as client:
        result = await client.call_tool("get_etf_flows", {"days": 30})
    assert not result.is_error, result.content
    out = result.structured_content
    assert out["source_used"] == "farside"
    assert {s["name"] for s in out["sources"]} == {"farside", "sosovalue", "coinglass"}
    assert not any("disagree" in w for w in out["warnings"]), out["warnings"]
    assert out["days"][-1]["date"] == "2026-08-03"  # at 12:00Z on 08-04 that session had not closed; later days cut
    assert out["largest_fund"]["ticker"] == "IBIT"
    # "a fund holding about 60% of the assets": IBIT 46.40B of 76.29B on 2026-07-31 (SoSoValue).
    assert out["largest_fund"]["share_of_assets_pct"] == pytest.approx(100 * 46401292160.0 / 76293563503.2954, abs=0.01)
    july = [
        r.total_usd
        for r in parse_flow_table_html(FARSIDE_2026.read_text()).rows
        if (r.day.year, r.day.month) == (2026, 7)
    ]
    assert out["previous_month"]["month"] == "2026-07"
    assert out["previous_month"]["total_usd"] == pytest.approx(sum(v for v in july if v is not None), abs=1)
