"""Parsers of the macro upstreams on real captured payloads (shared/payloads) and exact-format hand-built ones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from fetchers import alternative_me, coingecko, fred, kalshi, mempool, polymarket, yahoo
from fetchers.errors import BadPayloadError
from tests.fakes import kalshi as fake_kalshi
from tests.fakes import polymarket as fake_polymarket
from tests.fakes.data import PAYLOADS


def resp(body: Any, status: int = 200) -> httpx.Response:
    if isinstance(body, str | bytes):
        return httpx.Response(status, content=body if isinstance(body, bytes) else body.encode())
    return httpx.Response(status, json=body)


# -- FRED -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "series", "day", "close"),
    [
        ("fredgraph_SP500_2026-04-15.csv", "SP500", date(2025, 11, 21), 6602.99),
        ("fredgraph_NASDAQCOM_2026-04-15.csv", "NASDAQCOM", date(2025, 11, 20), 22078.05),
        ("fredgraph_DJIA_2016-01-11_to_2026-01-09.csv", "DJIA", date(2025, 11, 21), 46245.41),
    ],
)
def test_fredgraph_new_format_with_empty_holidays(file: str, series: str, day: date, close: float) -> None:
    text = (PAYLOADS / "fred" / file).read_text()
    rows = fred.parse_fredgraph_csv(series, text)
    by_day = {r.day: r.close for r in rows}
    assert text.splitlines()[0] == f"observation_date,{series}"
    assert by_day[day] == pytest.approx(close)
    holidays = [line.split(",")[0] for line in text.splitlines()[1:] if line.endswith(",")]
    assert holidays, "the capture has holiday rows with an empty value"
    assert all(date.fromisoformat(h) not in by_day for h in holidays)
    assert len(rows) == len(text.splitlines()) - 1 - len(holidays)
    assert [r.day for r in rows] == sorted(r.day for r in rows)


@pytest.mark.parametrize("series", ["SP500", "NASDAQCOM", "DJIA"])
def test_fredgraph_old_format_date_header_and_dot_holidays(series: str) -> None:
    text = (PAYLOADS / "fred" / f"fredgraph_{series}_oldformat_2024-09.csv").read_text()
    assert text.startswith(f"DATE,{series}")
    rows = fred.parse_fredgraph_csv(series, text)
    dots = sum(1 for line in text.splitlines() if line.endswith(",."))
    assert dots > 0
    assert len(rows) == len(text.splitlines()) - 1 - dots
    assert date(2019, 12, 25) not in {r.day for r in rows}
    assert all(r.close > 0 for r in rows)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("<!DOCTYPE html><html>Error</html>", "HTML"),
        ("observation_date,NASDAQCOM\n2025-01-02,1.0\n", "expected 'SP500'"),
        ("when,SP500\n2025-01-02,1.0\n", "unexpected date column"),
        ("observation_date,SP500\n2025-13-02,1.0\n", "bad date"),
        ("observation_date,SP500\n2025-01-02,n/a\n", "expected a number"),
        ("", "empty CSV"),
    ],
)
def test_fredgraph_drift_is_a_clear_error(text: str, needle: str) -> None:
    with pytest.raises(BadPayloadError) as info:
        fred.parse_fredgraph_csv("SP500", text)
    assert needle in str(info.value)


def test_fred_api_observations_real_payload_skips_dot_values() -> None:
    raw = (PAYLOADS / "fred" / "fred_api_series_observations_DFII10_desc_limit25_2026-07-04.json").read_bytes()
    rows = fred.parse_observations("DFII10", resp(raw))
    observations = json.loads(raw)["observations"]
    dots = [o["date"] for o in observations if o["value"] == "."]
    assert dots == ["2026-06-19"]
    assert len(rows) == len(observations) - 1
    assert [r.day for r in rows] == sorted(r.day for r in rows)  # the API sent them newest first
    first = observations[-1]
    assert rows[0].day.isoformat() == first["date"]
    assert rows[0].close == float(first["value"])


def test_fred_api_error_body_is_reported_without_query() -> None:
    with pytest.raises(BadPayloadError) as info:
        fred.parse_observations("SP500", resp({"error_code": 400, "error_message": "Bad Request.  Bad key."}))
    assert "Bad key" in str(info.value)


# -- Yahoo ------------------------------------------------------------------------------------------------------------


def yahoo_body(stamps: list[int], closes: list[float | None]) -> dict[str, Any]:
    return {
        "chart": {
            "result": [
                {
                    "meta": {"symbol": "^GSPC", "gmtoffset": -18000, "exchangeTimezoneName": "America/New_York"},
                    "timestamp": stamps,
                    "indicators": {"quote": [{"close": closes}]},
                }
            ],
            "error": None,
        }
    }


def test_yahoo_chart_drops_null_closes_and_uses_new_york_dates() -> None:
    # 2025-11-20 and 2025-11-21 at 14:30 UTC (09:30 New York); a null bar between them.
    stamps = [1763649000, 1763700000, 1763735400]
    rows = yahoo.parse_chart(resp(yahoo_body(stamps, [6538.76, None, 6602.99])))
    assert [(r.day, r.close) for r in rows] == [(date(2025, 11, 20), 6538.76), (date(2025, 11, 21), 6602.99)]


def test_yahoo_chart_error_inside_body() -> None:
    body = {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data found"}}}
    with pytest.raises(BadPayloadError, match="No data found"):
        yahoo.parse_chart(resp(body, 404))


def test_yahoo_chart_misaligned_arrays_are_drift() -> None:
    with pytest.raises(BadPayloadError, match="timestamps but"):
        yahoo.parse_chart(resp(yahoo_body([1763649000, 1763735400], [1.0])))


# -- Kalshi -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ticker", "expected"),
    [
        ("KXFEDDECISION-25DEC-H0", ("hold", 0)),
        ("KXFEDDECISION-25DEC-H25", ("hike", 25)),
        ("KXFEDDECISION-25DEC-H26", ("hike", 26)),
        ("KXFEDDECISION-25DEC-C25", ("cut", -25)),
        ("KXFEDDECISION-25DEC-C26", ("cut", -26)),
        ("KXFEDDECISION-25DEC-C0", None),
        ("KXBTCD-26JUL2502-T74299.99", None),
        ("KXELONMARS-99", None),
    ],
)
def test_kalshi_ticker_suffix_maps_to_bracket(ticker: str, expected: tuple[str, int] | None) -> None:
    assert kalshi.bracket_of(ticker) == expected


def test_kalshi_event_ticker_month() -> None:
    assert kalshi.event_month("KXFEDDECISION-25DEC") == (2025, 12)
    assert kalshi.event_month("KXFEDDECISION-26JAN") == (2026, 1)
    assert kalshi.event_month("KXELONMARS-99") is None


def test_kalshi_real_markets_page_parses_and_has_no_fed_outcomes() -> None:
    raw = (PAYLOADS / "kalshi" / "kalshi_v2_markets_limit3_2026-07-25.json").read_bytes()
    assert len(json.loads(raw)["markets"]) == 3
    assert kalshi.parse_markets(resp(raw)) == []  # KXBTCD strike tickers carry no H/C suffix


def test_kalshi_real_events_page_parses_and_has_no_fed_outcomes() -> None:
    raw = (PAYLOADS / "kalshi" / "kalshi_v2_events_with_nested_markets_limit2_2026-07.json").read_bytes()
    assert kalshi.parse_events(resp(raw)) == []


def test_kalshi_fed_markets_dollar_strings() -> None:
    body = {"cursor": "", "markets": fake_kalshi.default_markets()}
    raw = json.dumps(body)
    assert '"yes_bid_dollars": "0.6800"' in raw  # prices travel as dollar strings
    outcomes = kalshi.parse_markets(resp(raw))
    c25 = next(o for o in outcomes if o.ticker == "KXFEDDECISION-25DEC-C25")
    assert (c25.bracket, c25.bp, c25.event) == ("cut", -25, "KXFEDDECISION-25DEC")
    assert (c25.yes_bid, c25.yes_ask, c25.last_price) == (0.68, 0.70, 0.69)
    assert (c25.previous_yes_bid, c25.previous_yes_ask, c25.previous_price) == (0.42, 0.44, 0.43)
    assert c25.close_time == datetime(2025, 12, 10, 18, 55, tzinfo=UTC)
    assert {o.bracket for o in outcomes} == {"hold", "cut", "hike"}
    assert len(outcomes) == 8


def test_kalshi_events_with_nested_fed_markets() -> None:
    event = json.loads((PAYLOADS / "kalshi" / "kalshi_v2_events_with_nested_markets_limit2_2026-07.json").read_text())
    event["events"] = [
        dict(event["events"][0], event_ticker="KXFEDDECISION-25DEC", markets=fake_kalshi.default_markets()[:5])
    ]
    outcomes = kalshi.parse_events(resp(event))
    assert sorted(o.bp for o in outcomes) == [-26, -25, 0, 25, 26]


def test_kalshi_legacy_integer_cents_are_accepted() -> None:
    market = {"ticker": "KXFEDDECISION-25DEC-C25", "event_ticker": "KXFEDDECISION-25DEC", "yes_bid": 68, "yes_ask": 70}
    [outcome] = kalshi.parse_markets(resp({"markets": [market]}))
    assert (outcome.yes_bid, outcome.yes_ask, outcome.last_price) == (0.68, 0.70, None)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"markets": {"a": 1}}, "expected a list"),
        ({"markets": [{"ticker": "KXFEDDECISION-25DEC-C25", "yes_bid_dollars": "abc"}]}, "expected a number"),
        ({"markets": [{"event_ticker": "KXFEDDECISION-25DEC"}]}, "missing ticker"),
        ("<html>403</html>", "HTML"),
    ],
)
def test_kalshi_drift(body: Any, needle: str) -> None:
    with pytest.raises(BadPayloadError, match=needle):
        kalshi.parse_markets(resp(body))


# -- Polymarket -------------------------------------------------------------------------------------------------------


def test_polymarket_real_events_decode_json_inside_json() -> None:
    raw = (PAYLOADS / "polymarket" / "polymarket_gamma_events_limit2_2026-07.json").read_bytes()
    source = json.loads(raw)
    events = polymarket.parse_events(resp(raw))
    assert [e.slug for e in events] == [e["slug"] for e in source]
    market = events[0].markets[0]
    raw_market = source[0]["markets"][0]
    assert isinstance(raw_market["outcomes"], str)
    assert isinstance(raw_market["clobTokenIds"], str)
    assert market.outcomes == tuple(json.loads(raw_market["outcomes"])) == ("Yes", "No")
    assert market.outcome_prices == tuple(float(p) for p in json.loads(raw_market["outcomePrices"]))
    assert market.clob_token_ids == tuple(json.loads(raw_market["clobTokenIds"]))
    assert len(market.clob_token_ids[0]) > 70  # token ids are huge integers kept as strings
    assert market.yes_price() == 0.0
    assert market.closed is True
    assert polymarket.fed_outcomes(events[0]) == []  # a Kraken IPO event names no Fed bracket
    undeployed = next(m for m in events[0].markets if m.slug == "kraken-ipo-by-june-30-2026")
    assert undeployed.outcome_prices == ()
    assert undeployed.yes_price() is None


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("50+ bps decrease", ("cut", -26)),
        ("25 bps decrease", ("cut", -25)),
        ("No change", ("hold", 0)),
        ("25+ bps increase", ("hike", 25)),
        ("December 31", None),
    ],
)
def test_polymarket_bracket_titles(title: str, expected: tuple[str, int] | None) -> None:
    assert polymarket.bracket_of(title) == expected


def test_polymarket_fed_event_outcomes() -> None:
    [event] = polymarket.parse_events(resp([fake_polymarket.fed_event()]))
    outcomes = {o.bp: o for o in polymarket.fed_outcomes(event)}
    assert sorted(outcomes) == [-26, -25, 0, 25]
    cut25 = outcomes[-25]
    assert (cut25.yes_bid, cut25.yes_ask, cut25.last_price) == (0.8, 0.81, 0.805)
    assert cut25.previous_price == pytest.approx(0.805 - 0.35)
    assert event.end_date == datetime(2025, 12, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("outcomes", '["Yes", "No"', "not valid JSON"),
        ("outcomePrices", 0.5, "JSON-encoded list string"),
        ("clobTokenIds", '["1"]', "do not line up"),
        ("outcomePrices", '["0.5"]', "do not line up"),
    ],
)
def test_polymarket_drift(field: str, value: Any, needle: str) -> None:
    event = fake_polymarket.fed_event()
    event["markets"][0][field] = value
    with pytest.raises(BadPayloadError, match=needle):
        polymarket.parse_events(resp([event]))


# -- CoinGecko / CoinPaprika, mempool, alternative.me ------------------------------------------------------------------


def test_coingecko_global_real_payload() -> None:
    raw = (PAYLOADS / "coingecko" / "coingecko_api_v3_global_2026-09-12.json").read_bytes()
    snap = coingecko.parse_global(resp(raw))
    data = json.loads(raw)["data"]
    assert snap.total_usd == data["total_market_cap"]["usd"] == pytest.approx(2658993478160.99)
    assert snap.btc_dominance_pct == pytest.approx(58.17938979734104)
    assert snap.updated_at == datetime(2026, 9, 12, 17, 57, 17, tzinfo=UTC)


def test_coinpaprika_global() -> None:
    from tests.fakes.coingecko import PAPRIKA_GLOBAL

    snap = coingecko.parse_paprika_global(resp(PAPRIKA_GLOBAL))
    assert snap.total_usd == PAPRIKA_GLOBAL["market_cap_usd"]
    assert snap.updated_at == datetime(2025, 11, 26, 12, tzinfo=UTC)


@pytest.mark.parametrize("body", [{"data": {"total_market_cap": {"eur": 1}}}, {"status": {"error_code": 429}}])
def test_coingecko_drift(body: dict[str, Any]) -> None:
    with pytest.raises(BadPayloadError):
        coingecko.parse_global(resp(body))


def test_mempool_plain_text_height() -> None:
    assert mempool.parse_tip_height(resp("925000\n")) == 925000
    with pytest.raises(BadPayloadError, match="plain-text"):
        mempool.parse_tip_height(resp("<html>Too Many Requests</html>"))
    with pytest.raises(BadPayloadError, match="below"):
        mempool.parse_tip_height(resp("123"), "blockstream")


def test_alternative_me_real_payload() -> None:
    raw = (PAYLOADS / "alternative_me" / "alternative_me_fng_limit2_2026-09-08.json").read_bytes()
    readings = alternative_me.parse_fng(resp(raw))
    assert [(r.day, r.value, r.classification) for r in readings] == [
        (date(2026, 9, 7), 71, "Greed"),
        (date(2026, 9, 8), 69, "Greed"),
    ]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"data": [], "metadata": {"error": "limit invalid"}}, "limit invalid"),
        ({"data": [{"value": "101", "value_classification": "x", "timestamp": "1"}]}, "0-100"),
        ({"data": [{"value": "50", "timestamp": "1"}]}, "value_classification"),
    ],
)
def test_alternative_me_drift(body: dict[str, Any], needle: str) -> None:
    with pytest.raises(BadPayloadError, match=needle):
        alternative_me.parse_fng(resp(body))


def test_polymarket_price_history_real_payload() -> None:
    raw = (PAYLOADS / "polymarket" / "polymarket_clob_prices-history_5pts_2026-09.json").read_bytes()
    points = polymarket.parse_price_history(resp(raw))
    assert [p for _, p in points] == [0.63, 0.605, 0.605, 0.61, 0.635]
    assert points[0][0] == datetime.fromtimestamp(1789340418, UTC)
    with pytest.raises(BadPayloadError, match=r"outside 0\.\.1"):
        polymarket.parse_price_history(resp({"history": [{"t": 1, "p": 63}]}))


def test_polymarket_fed_outcomes_carry_the_yes_token() -> None:
    [event] = polymarket.parse_events(resp([fake_polymarket.fed_event()]))
    tokens = {o.bp: o.token_id for o in polymarket.fed_outcomes(event)}
    assert tokens[-25] == str(10**70 + 4)  # market 2's Yes token (outcomes are ["Yes", "No"])
