"""The Farside table parser on real captured pages (../shared/payloads/farside) and on hand-made edge cases."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fetchers.errors import BadPayloadError, GeoBlockedError
from fetchers.farside import is_challenge_page, parse_cell, parse_flow_table_html
from tests.fakes.data import PAYLOADS
from tests.fakes.farside import fmt, render_all_data, render_recent

FARSIDE = PAYLOADS / "farside"
M = 1_000_000


def page(name: str) -> str:
    return (FARSIDE / name).read_text()


def summary_row(html: str, label: str) -> list[float | None]:
    """The page's own summary row, read with a regex (independently of the parser)."""
    start = html.index(f'<span class="tabletext">{label}</span>', html.index("<tbody>"))
    end = html.index("</tr>", start)
    cells = re.findall(r'<span class="tabletext">(?:<span class="redFont">)?([^<]*)<', html[start:end])[1:]
    return [parse_cell(c, label) for c in cells]


def test_all_data_page_2025_10_07() -> None:
    html = page("btc_all_data_2025-10-07.html")
    table = parse_flow_table_html(html)
    assert table.tickers == ("IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL", "BTCW", "GBTC", "BTC")
    assert table.rows[0].day == date(2024, 1, 11)
    assert table.rows[-1].day == date(2025, 10, 6)
    first = table.rows[0]
    assert first.funds["IBIT"] == 111.7 * M
    assert first.funds["GBTC"] == -95.1 * M  # <span class="redFont">(95.1)</span>
    assert first.funds["BTC"] is None  # '-': the Mini Trust was not listed yet
    assert first.total_usd == 655.3 * M
    last = table.rows[-1]
    assert last.total_usd == 1190.1 * M  # '1,190.1'
    assert last.funds["HODL"] is None
    days = [r.day for r in table.rows]
    assert days == sorted(set(days))
    # The page's Total/Average/Maximum/Minimum rows are not trading days ...
    assert all(r.day.weekday() < 5 for r in table.rows)
    # ... and the Total row equals the column sums of the parsed days (to Farside's 0.1 US$m rounding).
    totals = summary_row(html, "Total")
    for ticker, expected in zip((*table.tickers, "Total"), totals, strict=True):
        assert expected is not None
        column = [r.total_usd for r in table.rows] if ticker == "Total" else [r.funds[ticker] for r in table.rows]
        assert sum(v for v in column if v is not None) / M == pytest.approx(expected, abs=0.6), ticker


def test_holiday_row_with_dashes_and_zero_total_is_not_reported() -> None:
    table = parse_flow_table_html(page("btc_all_data_2025-10-07.html"))
    holiday = next(r for r in table.rows if r.day == date(2024, 1, 15))  # Martin Luther King Jr. Day
    assert all(v is None for v in holiday.funds.values())
    assert holiday.total_usd == 0.0  # what Farside prints ...
    assert holiday.reported is False  # ... but it is no zero flow
    assert next(r for r in table.rows if r.day == date(2024, 1, 12)).reported is True


def test_all_data_page_2026_08_22_with_msbt_and_highlighted_row() -> None:
    table = parse_flow_table_html(page("btc_all_data_2026-08-22.html"))
    assert table.tickers[9] == "MSBT"
    assert len(table.tickers) == 12
    assert table.rows[-1].day == date(2026, 8, 21)
    assert table.rows[-1].total_usd == 307.5 * M
    assert table.rows[-1].funds["MSBT"] == 7.7 * M


def test_recent_page_layout_three_header_rows_and_unreported_last_day() -> None:
    table = parse_flow_table_html(page("btc_table_extract_2026-07-23.html"))
    assert table.tickers == (
        "IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL", "BTCW", "MSBT", "GBTC", "BTC"
    )  # fmt: skip
    assert table.rows[0].day == date(2026, 7, 6)
    assert table.rows[0].funds["IBIT"] == 209.4 * M
    assert table.rows[0].funds["GBTC"] == -44.5 * M
    assert table.rows[0].funds["BTCO"] == 0.0  # td class="zero-flow"
    last = table.rows[-1]
    assert last.day == date(2026, 7, 23)
    assert last.reported is False
    assert last.total_usd == 0.0


def test_eth_table_partially_reported_latest_day() -> None:
    table = parse_flow_table_html(page("eth_table_extract_2026-10-02.html"))
    assert table.tickers == ("ETHA", "ETHB", "FETH", "ETHW", "TETH", "ETHV", "QETH", "EZET", "MSSE", "ETHE", "ETH")
    assert [r.day for r in table.rows][-1] == date(2026, 10, 2)
    last = table.rows[-1]
    assert last.funds["ETHA"] is None
    assert last.funds["FETH"] == -17.3 * M
    assert last.reported is True
    assert table.rows[0].total_usd == 143.7 * M


@pytest.mark.parametrize(
    "name",
    [
        "btc_page_prefix65k_direct_2026-07-04.html",  # ends inside the 01 Jul row: its Total cell reads '2'
        "btc_page_prefix70k_archiveorg_2026-07-04.html",  # ends inside the Minimum summary row
    ],
)
def test_truncated_pages_are_bad_payloads_not_shorter_tables(name: str) -> None:
    with pytest.raises(BadPayloadError) as info:
        parse_flow_table_html(page(name))
    assert info.value.source == "farside"
    assert "truncated" in info.value.message


def test_a_table_without_its_summary_rows_is_incomplete() -> None:
    html = page("btc_table_extract_2026-07-23.html")
    start = html.index('<span class="tabletext">Total</span>', html.index("<tbody>"))
    cut = html[: html.rindex("<tr", 0, start)] + "</tbody></table></body></html>"
    with pytest.raises(BadPayloadError, match="summary rows are none"):
        parse_flow_table_html(cut)


def test_cloudflare_challenge_is_geo_blocked_with_hint() -> None:
    html = page("cloudflare_managed_challenge_generic_2025-02-24.html")
    assert is_challenge_page(html)
    with pytest.raises(GeoBlockedError) as info:
        parse_flow_table_html(html)
    assert "WINDVANE_SOSOVALUE_API_KEY" in info.value.message


def test_good_pages_carrying_the_jsd_beacon_are_not_challenges() -> None:
    for name in ("btc_all_data_2025-10-07.html", "btc_all_data_2026-08-22.html"):
        html = page(name)
        assert "/cdn-cgi/challenge-platform/scripts/jsd/main.js" in html
        assert not is_challenge_page(html)


@pytest.mark.parametrize(
    ("text", "value"),
    [("111.7", 111.7), ("(95.1)", -95.1), ("(25,177)", -25177.0), ("1,190.1", 1190.1), ("0.0", 0.0), ("-", None)],
)
def test_cells(text: str, value: float | None) -> None:
    assert parse_cell(text, "t") == value


@pytest.mark.parametrize("text", ["n/a", "12.3%", "(1.2", "1.2.3", "", "  "])
def test_garbage_cell_is_drift(text: str) -> None:
    with pytest.raises(BadPayloadError):
        parse_cell(text, "t")


def test_a_real_page_whose_figures_were_emptied_is_drift_not_unreported_days() -> None:
    # Every real capture writes '-' where it has no figure; a page whose cells lost their figures would
    # otherwise read as a table of days not reported yet.
    html = page("btc_table_extract_2026-07-23.html")
    emptied = re.sub(r'(?<=<span class="tabletext">)(\(?[\d,.]+\)?)(?=<)', "", html, count=1)
    assert emptied != html
    with pytest.raises(BadPayloadError, match="empty cell"):
        parse_flow_table_html(emptied)


@given(st.decimals(min_value=-99999, max_value=99999, places=1, allow_nan=False, allow_infinity=False))
def test_fake_formatting_round_trips(value: object) -> None:
    number = float(value)  # type: ignore[arg-type]
    html = render_all_data(("IBIT", "GBTC"), [("2025-03-03", {"IBIT": number, "GBTC": None}, number)])
    row = parse_flow_table_html(html).rows[0]
    assert row.funds["IBIT"] == pytest.approx(number * M)
    assert row.total_usd == pytest.approx(number * M)
    assert (fmt(number).startswith("<span") and number < 0) or (not fmt(number).startswith("<") and number >= 0)


def test_hand_built_table_with_every_quirk() -> None:
    rows = [
        ("2025-01-08", {"IBIT": -12.5, "GBTC": 1234.5}, 1222.0),
        ("2025-01-09", {"IBIT": None, "GBTC": None}, 0.0),  # market closed
        ("2025-01-10", {"IBIT": 3.0, "GBTC": None}, 3.0),
    ]
    for html in (render_all_data(("IBIT", "GBTC"), rows), render_recent(("IBIT", "GBTC"), rows)):
        table = parse_flow_table_html(html)
        assert [r.day.isoformat() for r in table.rows] == ["2025-01-08", "2025-01-09", "2025-01-10"]
        assert table.rows[0].funds == {"IBIT": -12.5 * M, "GBTC": 1234.5 * M}
        assert table.rows[1].reported is False
        assert table.rows[2].funds["GBTC"] is None


@pytest.mark.parametrize(
    ("html", "needle"),
    [
        ("<html><body><p>maintenance</p></body></html>", "no table.etf"),
        ('<table class="etf"><tr><th></th><th>IBIT</th><th>GBTC</th><th>Total</th></tr></table>', "no dated rows"),
        (
            '<table class="etf"><tr><th>Date</th><th>Total</th></tr><tr><td>02 Jan 2025</td><td>1</td></tr></table>',
            "no fund tickers",
        ),
        (
            '<table class="etf"><tr><th></th><th>IBIT</th><th>GBTC</th><th>Total</th></tr>'
            "<tr><td>02 Jan 2025</td><td>1.0</td><td>2.0</td></tr></table>",
            "has 3 cells",
        ),
        (
            '<table class="etf"><tr><th></th><th>IBIT</th><th>GBTC</th><th>Total</th></tr>'
            "<tr><td>02 Jan 2025</td><td>1.0</td><td>abc</td><td>1.0</td></tr></table>",
            "not a US$m figure",
        ),
    ],
)
def test_malformed_tables_are_bad_payloads(html: str, needle: str) -> None:
    with pytest.raises(BadPayloadError) as info:
        parse_flow_table_html(html)
    assert needle in info.value.message


def test_reported_rule_for_total_only_sources() -> None:
    from schemas.etf_flows import FlowRow

    day = date(2025, 11, 3)
    assert FlowRow(day, {}, 0.0).reported  # a totals-only source saying "no net flow"
    assert FlowRow(day, {"IBIT": None}, 12.0).reported  # per-fund figures missing, total given
    assert not FlowRow(day, {"IBIT": None}, 0.0).reported  # Farside's all-'-' row with Total 0.0
    assert not FlowRow(day, {}, None).reported
