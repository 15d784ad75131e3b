"""get_etf_flows end to end: the real Farside history (../shared/data) served in Farside's HTML, checked against sums
computed here straight from the CSV, plus provisional days, fallbacks, cross-checks, faults and the history store."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from tests.fakes import FakeUpstream
from tests.fakes import farside as fake_farside
from tests.fakes.data import DATA, PAYLOADS

pytestmark = pytest.mark.anyio
M = 1_000_000
CSV_PATH = DATA / "01_us_spot_btc_etf_flows_farside" / "farside_btc_etf_flows_daily.csv"


def csv_rows(path: Path = CSV_PATH) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def csv_sum(column: str, first: str, last: str, path: Path = CSV_PATH) -> float:
    """US$m summed over first..last (ISO dates, inclusive), straight from the CSV; empty cells skipped."""
    return sum(float(r[column]) for r in csv_rows(path) if first <= r["date"] <= last and r[column].strip())


def csv_monthly_totals(before_month: str) -> dict[str, float]:
    months: dict[str, float] = defaultdict(float)
    for r in csv_rows():
        if r["date"][:7] < before_month:
            months[r["date"][:7]] += float(r["Total"])
    return dict(months)


async def call(client: Any, **args: Any) -> dict[str, Any]:
    result = await client.call_tool("get_etf_flows", {"detail": "full", **args})  # every day, every endpoint
    assert not result.is_error, result.content
    out: dict[str, Any] = result.structured_content
    return out


# -- real data ------------------------------------------------------------------------------------------------------


async def test_november_2025_to_the_21st_matches_the_reported_figures(make_client) -> None:
    async with make_client() as client:
        out = await call(client, asset="BTC", as_of="2025-11-21", days=15)
    assert out["source_used"] == "farside"
    # Known: 1-21 Nov 2025 Total -3,536.9 US$m, IBIT -2,199.1 (PROVENANCE.md of the data set).
    assert out["month_to_date_usd"] == pytest.approx(-3536.9 * M, abs=1)
    assert out["month_to_date_by_fund_usd"]["IBIT"] == pytest.approx(-2199.1 * M, abs=1)
    assert out["month_to_date_days"] == 15
    for ticker, value in out["month_to_date_by_fund_usd"].items():
        assert value == pytest.approx(csv_sum(ticker, "2025-11-01", "2025-11-21") * M, abs=1), ticker
    assert [d["date"] for d in out["days"]][-1] == "2025-11-21"
    assert len(out["days"]) == 15
    assert out["previous_month"] == {"month": "2025-10", "total_usd": pytest.approx(3424.9 * M, abs=1)}
    assert out["price_impact_estimate_pct"] == pytest.approx(3.4 * -3.5369, abs=1e-3)
    assert out["impact_coefficient_pct_per_busd"] == 3.4


@pytest.mark.parametrize(
    ("as_of", "expected_total_m", "expected_ibit_m"),
    [
        ("2025-11-30", -3466.7, -2336.1),  # full November (19 trading days to 11-28)
        ("2025-10-31", 3424.9, 3931.2),
        ("2025-09-30", 3511.0, None),
    ],
)
async def test_full_months_match_known_figures(make_client, as_of: str, expected_total_m, expected_ibit_m) -> None:
    async with make_client(now=datetime(2026, 1, 5, tzinfo=UTC)) as client:
        out = await call(client, as_of=as_of)
    assert out["month_to_date_usd"] == pytest.approx(expected_total_m * M, abs=1)
    if expected_ibit_m is not None:
        assert out["month_to_date_by_fund_usd"]["IBIT"] == pytest.approx(expected_ibit_m * M, abs=1)


@pytest.mark.parametrize("month", ["2025-01", "2025-02", "2025-03", "2025-04", "2025-06", "2025-08", "2025-12"])
async def test_month_to_date_and_per_fund_sums_equal_the_csv(make_client, month: str) -> None:
    last_day = max(r["date"] for r in csv_rows() if r["date"].startswith(month))
    mid_day = sorted(r["date"] for r in csv_rows() if r["date"].startswith(month))[9]
    async with make_client(now=datetime(2026, 5, 1, tzinfo=UTC)) as client:
        for as_of in (mid_day, last_day):
            out = await call(client, as_of=as_of)
            assert out["month_to_date_usd"] == pytest.approx(csv_sum("Total", f"{month}-01", as_of) * M, abs=1)
            funds = out["month_to_date_by_fund_usd"]
            for ticker in ("IBIT", "FBTC", "GBTC", "ARKB", "BITB", "HODL", "BTC"):
                assert funds[ticker] == pytest.approx(csv_sum(ticker, f"{month}-01", as_of) * M, abs=1), ticker


async def test_record_months_against_an_independent_computation(make_client) -> None:
    months = csv_monthly_totals("2025-11")
    worst = min(months, key=lambda m: months[m])
    best = max(months, key=lambda m: months[m])
    assert worst == "2025-02"  # "the US$3.6B monthly record set in February"
    async with make_client() as client:
        out = await call(client, as_of="2025-11-21")
    assert out["record_monthly_outflow"]["month"] == worst
    assert out["record_monthly_outflow"]["total_usd"] == pytest.approx(months[worst] * M, abs=1)
    assert out["record_monthly_inflow"]["month"] == best
    assert out["record_monthly_inflow"]["total_usd"] == pytest.approx(months[best] * M, abs=1)
    assert out["month_to_date_pct_of_record"] == pytest.approx(100 * -3536.9 / months[worst], abs=0.01)
    assert 95 < out["month_to_date_pct_of_record"] < 100  # near, not past, the record


async def test_record_after_a_new_record_month(make_client) -> None:
    # By December 2025 the record outflow is still February's or November's, whichever is lower in the CSV.
    months = csv_monthly_totals("2025-12")
    worst = min(months, key=lambda m: months[m])
    async with make_client(now=datetime(2026, 1, 5, tzinfo=UTC)) as client:
        out = await call(client, as_of="2025-12-15")
    assert out["record_monthly_outflow"] == {"month": worst, "total_usd": pytest.approx(months[worst] * M, abs=1)}


async def test_streak_average_and_threshold_from_completed_days(make_client) -> None:
    rows = [r for r in csv_rows() if r["date"] <= "2025-11-20" and any(r[t] for t in ("IBIT", "FBTC", "GBTC"))]
    totals = [float(r["Total"]) for r in rows]
    run = 0
    for value in reversed(totals):
        if (value < 0) != (totals[-1] < 0):
            break
        run += 1
    async with make_client() as client:
        out = await call(client, as_of="2025-11-21")
        after = await call(client, as_of="2025-11-24")
    # as_of 11-21: the 11-21 row is provisional, so the latest completed day is 11-20 (-903.2 US$m).
    assert out["days"][-1]["provisional"] is True
    assert all(d["provisional"] is False for d in out["days"][:-1])
    assert out["latest_completed_day"] == {"date": "2025-11-20", "total_usd": pytest.approx(-903.2 * M, abs=1)}
    assert out["outflow_below_100m"] is False
    assert out["streak"]["sign"] == "negative"
    assert out["streak"]["days"] == run
    assert out["avg_5d_usd"] == pytest.approx(sum(totals[-5:]) / 5 * M, abs=1)
    assert any("provisional" in w and "2025-11-21" in w for w in out["warnings"])
    # as_of 11-24: 11-21 is completed (+238.4 US$m), an inflow day.
    assert after["latest_completed_day"]["date"] == "2025-11-21"
    assert after["outflow_below_100m"] is True
    assert after["streak"] == {"sign": "positive", "days": 1, "since": "2025-11-21", "complete": True}


async def test_largest_fund_is_ibit_by_cumulative_inflow(make_client) -> None:
    async with make_client() as client:
        out = await call(client, as_of="2025-11-21")
    cumulative = {t: csv_sum(t, "2024-01-01", "2025-11-21") for t in ("IBIT", "FBTC", "GBTC", "ARKB")}
    largest = out["largest_fund"]
    assert largest["ticker"] == "IBIT"
    assert largest["cumulative_net_inflow_usd"] == pytest.approx(cumulative["IBIT"] * M, abs=1)
    net = csv_sum("Total", "2024-01-01", "2025-11-21")
    assert largest["share_of_net_total_pct"] == pytest.approx(100 * cumulative["IBIT"] / net, abs=0.01)
    assert 0 < largest["share_pct"] < 100
    assert largest["share_of_assets_pct"] is None  # no holdings source without a SoSoValue key


async def test_eth_month_to_date_equals_the_csv(make_client) -> None:
    path = DATA / "01_us_spot_btc_etf_flows_farside" / "farside_eth_etf_flows_daily.csv"
    async with make_client() as client:
        out = await call(client, asset="eth", as_of="2025-11-21")
    assert out["asset"] == "ETH"
    assert out["month_to_date_usd"] == pytest.approx(csv_sum("Total", "2025-11-01", "2025-11-21", path) * M, abs=1)
    assert out["month_to_date_by_fund_usd"]["ETHA"] == pytest.approx(
        csv_sum("ETHA", "2025-11-01", "2025-11-21", path) * M, abs=1
    )
    months: dict[str, float] = defaultdict(float)
    for r in csv_rows(path):
        if r["date"][:7] < "2025-11":
            months[r["date"][:7]] += float(r["Total"])
    worst = min(months, key=lambda m: months[m])
    assert out["record_monthly_outflow"]["month"] == worst
    assert out["record_monthly_outflow"]["total_usd"] == pytest.approx(months[worst] * M, abs=1)


async def test_now_answer_never_sees_a_session_that_has_not_closed(make_client) -> None:
    async with make_client() as client:  # FROZEN_NOW is 2025-11-26 12:00Z, before the US open
        out = await call(client, days=3)
    assert out["as_of"].startswith("2025-11-26T12:00")
    assert out["days"][-1]["date"] == "2025-11-25"
    assert out["days"][-1]["provisional"] is False
    assert out["latest_completed_day"]["date"] == "2025-11-25"
    assert out["month_to_date_usd"] == pytest.approx(csv_sum("Total", "2025-11-01", "2025-11-25") * M, abs=1)


async def test_now_answer_after_the_close_marks_today_provisional(make_client) -> None:
    async with make_client(now=datetime(2025, 11, 26, 22, 30, tzinfo=UTC)) as client:
        out = await call(client, days=3)
    assert out["days"][-1]["date"] == "2025-11-26"
    assert out["days"][-1]["provisional"] is True
    assert out["latest_completed_day"]["date"] == "2025-11-25"
    assert out["month_to_date_usd"] == pytest.approx(csv_sum("Total", "2025-11-01", "2025-11-26") * M, abs=1)


async def test_custom_impact_coefficient(make_client, tmp_path) -> None:
    settings = make_settings(tmp_path, etf_impact_pct_per_busd=2.0)
    async with make_client(settings_=settings) as client:
        out = await call(client, as_of="2025-11-21")
    assert out["impact_coefficient_pct_per_busd"] == 2.0
    assert out["price_impact_estimate_pct"] == pytest.approx(2.0 * -3.5369, abs=1e-3)


# -- not-yet-reported days ------------------------------------------------------------------------------------------


def _serve(fake: FakeUpstream, rows: list[tuple[str, dict[str, float | None], float]]) -> None:
    tickers = tuple(rows[0][1])
    html = fake_farside.render_all_data(tickers, rows)
    fake.handlers["farside"] = lambda request, path: httpx.Response(200, text=html)


async def test_unreported_day_is_not_a_zero_flow(make_client, fake: FakeUpstream) -> None:
    tickers, rows = fake_farside.rows_through("BTC", "2025-11-25")
    rows = [*rows, ("2025-11-26", dict.fromkeys(tickers), 0.0)]
    _serve(fake, rows)
    async with make_client(now=datetime(2025, 11, 26, 23, tzinfo=UTC)) as client:
        out = await call(client, days=3)
    today = out["days"][-1]
    assert today["date"] == "2025-11-26"
    assert today["total_usd"] is None
    assert today["provisional"] is True
    assert all(v is None for v in today["funds"].values())
    assert out["month_to_date_usd"] == pytest.approx(csv_sum("Total", "2025-11-01", "2025-11-25") * M, abs=1)
    assert out["latest_completed_day"]["date"] == "2025-11-25"
    assert any("not reported yet" in w for w in out["warnings"])


async def test_partially_reported_latest_day_is_provisional(make_client, fake: FakeUpstream) -> None:
    _, rows = fake_farside.rows_through("BTC", "2025-11-24")
    day, funds, _ = rows[-1]
    partial = {t: (None if t in ("IBIT", "FBTC") else v) for t, v in funds.items()}
    rows[-1] = (day, partial, sum(v for v in partial.values() if v is not None))
    _serve(fake, rows)
    async with make_client() as client:
        out = await call(client, days=2)  # now is 11-26: 11-24 is not "today", but IBIT has not reported it
    assert out["days"][-1]["date"] == "2025-11-24"
    assert out["days"][-1]["provisional"] is True
    assert out["latest_completed_day"]["date"] == "2025-11-21"


# -- fallbacks and keyed sources ------------------------------------------------------------------------------------


async def test_all_data_page_down_falls_back_to_recent_page(make_client, fake: FakeUpstream) -> None:
    served = fake_farside.handler(last_day="2025-11-21")  # the recent page as it stood that day

    def flaky(request: httpx.Request, path: str) -> httpx.Response:
        if "all-data" in path:
            return httpx.Response(500, text="<html>error</html>")
        return served(request, path)

    fake.handlers["farside"] = flaky
    async with make_client() as client:
        out = await call(client, as_of="2025-11-21", days=5)
    assert out["source_used"] == "farside"
    assert out["days"][-1]["date"] == "2025-11-21"
    assert out["record_monthly_outflow"] is None
    assert out["largest_fund"] is None
    assert any("recent page" in w for w in out["warnings"])
    assert any("record months are unavailable" in w for w in out["warnings"])
    assert [s["endpoint"] for s in out["sources"]] == ["http://fake.test/farside/btc/"]


def keyed_settings(tmp_path: Path, **keys: str) -> Any:
    return make_settings(tmp_path, api_keys=keys)


async def test_farside_blocked_uses_sosovalue_per_fund(make_client, fake: FakeUpstream, tmp_path) -> None:
    body = (PAYLOADS / "farside" / "cloudflare_managed_challenge_generic_2025-02-24.html").read_text()
    fake.faults["farside"] = lambda request, path: httpx.Response(403, text=body)
    async with make_client(settings_=keyed_settings(tmp_path, sosovalue="test-soso-key")) as client:
        out = await call(client, as_of="2025-11-21")
    assert out["source_used"] == "sosovalue"
    assert out["month_to_date_usd"] == pytest.approx(-3536.9 * M, abs=1)
    assert out["month_to_date_by_fund_usd"]["IBIT"] == pytest.approx(-2199.1 * M, abs=1)
    assert any("farside" in w and "geo_blocked" in w for w in out["warnings"])
    assert fake.count("farside") == 1  # a block is not retried, and the recent page is not tried behind it
    requests = [r for r in fake.requests if r.url.path.startswith("/sosovalue/")]
    assert requests
    assert all(r.headers["x-soso-api-key"] == "test-soso-key" for r in requests)
    assert all("test-soso-key" not in str(r.url) for r in requests)
    assert all("test-soso-key" not in w for w in out["warnings"])


async def test_a_stale_sosovalue_table_says_why(make_client, fake: FakeUpstream, tmp_path) -> None:
    body = (PAYLOADS / "farside" / "cloudflare_managed_challenge_generic_2025-02-24.html").read_text()
    fake.faults["farside"] = lambda request, path: httpx.Response(403, text=body)
    settings = make_settings(tmp_path, api_keys={"sosovalue": "test-soso-key"}, ttl_scale=0.0)
    async with make_client(settings_=settings) as client:
        first = await call(client, as_of="2025-11-21")
        real = fake.handlers["sosovalue"]
        fake.handlers["sosovalue"] = lambda request, path: (
            httpx.Response(503, text="down") if "summary-history" in path else real(request, path)
        )
        second = await call(client, as_of="2025-11-21")
    assert second["month_to_date_usd"] == first["month_to_date_usd"]  # the last good table, served stale
    stale = [w for w in second["warnings"] if w.startswith("sosovalue is stale")]
    assert stale, second["warnings"]
    assert all("HTTP 503" in w for w in stale)
    assert not any(w.endswith(": None") for w in second["warnings"])


async def test_farside_blocked_without_keys_hints_at_sosovalue(make_client, fake: FakeUpstream) -> None:
    body = (PAYLOADS / "farside" / "cloudflare_managed_challenge_generic_2025-02-24.html").read_text()
    fake.faults["farside"] = lambda request, path: httpx.Response(200, text=body)  # challenge served with 200
    async with make_client() as client:
        out = await call(client, as_of="2025-11-21")
    assert out["source_used"] is None
    assert out["month_to_date_usd"] is None
    assert any("WINDVANE_SOSOVALUE_API_KEY" in w for w in out["warnings"])


async def test_crosscheck_agreement_is_silent_and_disagreement_named(make_client, fake: FakeUpstream, tmp_path):
    settings = keyed_settings(tmp_path, coinglass="test-cg-key")
    async with make_client(settings_=settings) as client:
        out = await call(client, as_of="2025-11-21", days=10)
    assert out["source_used"] == "farside"
    assert {s["name"] for s in out["sources"]} == {"farside", "coinglass"}
    assert not any("disagree" in w for w in out["warnings"])

    served = fake.handlers["coinglass"]

    def skewed(request: httpx.Request, path: str) -> httpx.Response:
        body = served(request, path).json()
        for row in body["data"]:
            if row["timestamp"] == int(datetime(2025, 11, 20, tzinfo=UTC).timestamp() * 1000):
                row["flow_usd"] = -866_700_000.0
        return httpx.Response(200, json=body)

    fake.handlers["coinglass"] = skewed
    async with make_client(settings_=keyed_settings(tmp_path / "b", coinglass="test-cg-key")) as client:
        out = await call(client, as_of="2025-11-21", days=10)
    warning = next(w for w in out["warnings"] if "disagree" in w)
    assert "2025-11-20: farside US$-903.2M vs coinglass US$-866.7M" in warning
    assert "farside was used" in warning
    assert out["month_to_date_usd"] == pytest.approx(-3536.9 * M, abs=1)


async def test_invalid_sosovalue_key_is_reported(make_client, fake: FakeUpstream, tmp_path) -> None:
    fake.faults["farside"] = lambda request, path: httpx.Response(503, text="down")
    async with make_client(settings_=keyed_settings(tmp_path, sosovalue="wrong")) as client:
        out = await call(client, as_of="2025-11-21")
    assert out["source_used"] is None
    assert any("sosovalue" in w and "key was rejected" in w for w in out["warnings"])
    assert not any("wrong" in w for w in out["warnings"])


# -- faults ---------------------------------------------------------------------------------------------------------


def _raise_timeout(request: httpx.Request, path: str) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


CF_BODY = (PAYLOADS / "farside" / "cloudflare_managed_challenge_generic_2025-02-24.html").read_text()


@pytest.mark.parametrize(
    ("fault", "needle"),
    [
        (_raise_timeout, "timed out"),
        (lambda request, path: httpx.Response(500, text="oops"), "HTTP 500"),
        (lambda request, path: httpx.Response(429, headers={"Retry-After": "60"}, text="slow down"), "rate_limited"),
        (lambda request, path: httpx.Response(451, text="unavailable"), "geo_blocked"),
        (lambda request, path: httpx.Response(403, text=CF_BODY), "Cloudflare"),
        (lambda request, path: httpx.Response(200, text="<html><body>moved</body></html>"), "no table.etf"),
        (lambda request, path: httpx.Response(200, text='<table class="etf"><tr><td>x'), "bad_payload"),
        (
            lambda request, path: httpx.Response(
                200, text='<table class="etf"><tr><th></th><th>IBIT</th><th>GBTC</th><th>Total</th></tr></table>'
            ),
            "empty table",
        ),
    ],
)
async def test_faults_degrade_to_null_with_a_reason(make_client, fake: FakeUpstream, fault, needle: str) -> None:
    fake.faults["farside"] = fault
    async with make_client() as client:
        result = await client.call_tool("get_etf_flows", {"as_of": "2025-11-21"})
    assert not result.is_error
    out = result.structured_content
    assert out["month_to_date_usd"] is None
    assert out["days"] == []
    assert out["price_impact_estimate_pct"] is None
    assert out["outflow_below_100m"] is None
    assert any(needle in w for w in out["warnings"]), out["warnings"]
    assert not any("Traceback" in w for w in out["warnings"])


async def test_429_with_short_retry_after_is_waited_out(make_client, fake: FakeUpstream, sleeps) -> None:
    served = fake_farside.handler()
    calls = {"n": 0}

    def once_limited(request: httpx.Request, path: str) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, headers={"Retry-After": "2"}, text="slow down")
        return served(request, path)

    fake.handlers["farside"] = once_limited
    async with make_client() as client:
        out = await call(client, as_of="2025-11-21")
    assert sleeps.calls == [2.0]
    assert out["month_to_date_usd"] == pytest.approx(-3536.9 * M, abs=1)


async def test_stale_page_is_served_after_a_failure(make_client, fake: FakeUpstream, tmp_path) -> None:
    settings = make_settings(tmp_path, ttl_scale=0.0)  # every cached page is immediately due for a refetch
    async with make_client(settings_=settings) as client:
        first = await call(client)
        fake.faults["farside"] = lambda request, path: httpx.Response(503, text="down")
        second = await call(client)
    assert second["month_to_date_usd"] == first["month_to_date_usd"]
    assert second["sources"][0]["stale"] is True
    assert any("farside is stale" in w and "HTTP 503" in w for w in second["warnings"])


# -- history store --------------------------------------------------------------------------------------------------


async def test_as_of_answer_from_the_store_needs_no_refetch(make_client, fake: FakeUpstream) -> None:
    async with make_client() as client:
        first = await call(client, as_of="2025-11-21")
    fake.faults["farside"] = lambda request, path: httpx.Response(503, text="down")
    before = fake.count("farside")
    async with make_client() as client:  # a new server process: empty HTTP cache, same store file
        again = await call(client, as_of="2025-11-21")
    assert fake.count("farside") == before
    assert again["month_to_date_usd"] == pytest.approx(first["month_to_date_usd"], abs=1)
    assert again["month_to_date_by_fund_usd"]["IBIT"] == pytest.approx(-2199.1 * M, abs=1)
    assert again["record_monthly_outflow"] == first["record_monthly_outflow"]
    assert again["sources"][0]["endpoint"].startswith("store:farside")


async def test_a_date_before_launch_after_the_store_filled_is_no_crash(make_client) -> None:
    # Found by the fuzz test: the store covered launch..now, and a date before launch matched none of its days.
    async with make_client() as client:
        await call(client, as_of="2025-11-21")
        result = await client.call_tool("get_etf_flows", {"as_of": "2011-01-01"})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    # An unexpected exception reaches the client as the bare "Error executing tool get_etf_flows".
    assert not result.is_error, text
    assert result.structured_content["days"] == []
    assert result.structured_content["month_to_date_usd"] is None


# -- input ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"asset": "SOL"}, "BTC"),
        ({"days": 0}, "greater than or equal to 1"),
        ({"as_of": "tomorrow"}, "not an ISO date"),
        ({"as_of": "2031-01-01"}, "in the future"),
    ],
)
async def test_bad_input_is_a_clear_tool_error(make_client, args: dict[str, Any], needle: str) -> None:
    async with make_client() as client:
        result = await client.call_tool("get_etf_flows", args)
    assert result.is_error
    assert needle in result.content[0].text


async def test_backfill_writes_completed_days_in_the_window(fake: FakeUpstream, tmp_path) -> None:
    from fetchers.http import Http, HttpConfig
    from store.base import SeriesKey
    from store.sqlite import SqliteStore
    from tests.fakes import base_urls
    from tools.deps import Deps
    from tools.etf.tool import backfill

    store = SqliteStore(tmp_path / "s.sqlite3")
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        deps = Deps(http=Http(client, HttpConfig(base_urls=base_urls(["farside"]))), store=store)
        written = await backfill(deps, datetime(2025, 11, 1).date(), datetime(2025, 11, 30).date())
    totals = await store.read(SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL"))
    ibit = await store.read(SeriesKey("farside", "net_flow_usd", "BTC", "IBIT"))
    eth = await store.read(SeriesKey("farside", "net_flow_usd", "ETH", "TOTAL"))
    await store.close()
    assert totals[0].ts.date().isoformat() == "2025-11-03"
    assert len(totals) == 19  # November 2025's trading days
    assert sum(o.value for o in totals) == pytest.approx(-3466.7 * M, abs=1)
    assert sum(o.value for o in ibit) == pytest.approx(-2336.1 * M, abs=1)
    assert eth
    assert written > 19 * 2


async def test_store_with_a_hole_is_not_trusted(make_client, fake: FakeUpstream, tmp_path) -> None:
    from store.base import SeriesKey
    from store.sqlite import SqliteStore

    async with make_client() as client:
        await call(client, as_of="2025-11-21")
    store = SqliteStore(tmp_path / "windvane.sqlite3")
    key = SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL")
    rows = await store.read(key, start=datetime(2025, 6, 1, tzinfo=UTC), end=datetime(2025, 6, 30, tzinfo=UTC))
    assert rows
    conn = store._connection()
    conn.execute("DELETE FROM observations WHERE venue = 'TOTAL' AND ts >= ? AND ts <= ?",
                 (int(rows[0].ts.timestamp() * 1000), int(rows[-1].ts.timestamp() * 1000)))  # fmt: skip
    await store.close()
    async with make_client() as client:
        out = await call(client, as_of="2025-11-21")
    assert out["sources"][0]["endpoint"].startswith("http://fake.test/farside/")  # refetched, not read from the hole


async def test_farside_down_uses_coinglass_per_fund(make_client, fake: FakeUpstream, tmp_path) -> None:
    fake.faults["farside"] = lambda request, path: httpx.Response(502, text="bad gateway")
    async with make_client(settings_=keyed_settings(tmp_path, coinglass="test-cg-key")) as client:
        out = await call(client, as_of="2025-11-21")
    assert out["source_used"] == "coinglass"
    assert out["month_to_date_usd"] == pytest.approx(-3536.9 * M, abs=1)
    for ticker in ("IBIT", "FBTC", "GBTC"):
        expected = csv_sum(ticker, "2025-11-01", "2025-11-21") * M
        assert out["month_to_date_by_fund_usd"][ticker] == pytest.approx(expected, abs=1)
    assert out["record_monthly_outflow"]["month"] == "2025-02"
    assert any("Farside unavailable: using coinglass" in w for w in out["warnings"])
    assert all(r.headers.get("CG-API-KEY") == "test-cg-key" for r in fake.requests if "/coinglass/" in str(r.url))


async def test_first_of_month_before_any_session_has_no_month_to_date(make_client) -> None:
    async with make_client(now=datetime(2025, 12, 1, 15, tzinfo=UTC)) as client:
        out = await call(client)
    assert out["month_to_date_usd"] is None
    assert out["month_to_date_days"] == 0
    assert out["price_impact_estimate_pct"] is None
    assert out["previous_month"]["total_usd"] == pytest.approx(-3466.7 * M, abs=1)
    assert any("no trading day of 2025-12" in w for w in out["warnings"])


async def test_keyed_cross_check_source_failing_costs_only_the_cross_check(make_client, fake: FakeUpstream, tmp_path):
    fake.faults["coinglass"] = lambda request, path: httpx.Response(500, text="oops")
    async with make_client(settings_=keyed_settings(tmp_path, coinglass="test-cg-key")) as client:
        out = await call(client, as_of="2025-11-21")
    assert out["source_used"] == "farside"
    assert out["month_to_date_usd"] == pytest.approx(-3536.9 * M, abs=1)
    assert any("coinglass" in w and "HTTP 500" in w for w in out["warnings"])
    assert [s["name"] for s in out["sources"]] == ["farside"]
