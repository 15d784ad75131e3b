"""tools/etf/days.py, the one rule for which ETF days an answer uses: known after the close, final once published."""

from __future__ import annotations

from datetime import UTC, date, datetime

from schemas.etf_flows import FlowRow
from tools.etf.days import published_at, sort_days

M = 1_000_000.0
FRI, MON = date(2025, 11, 21), date(2025, 11, 24)


def row(day: date, ibit: float | None, fbtc: float | None) -> FlowRow:
    funds = {"IBIT": ibit, "FBTC": fbtc}
    figures = [v for v in funds.values() if v is not None]
    return FlowRow(day=day, funds=funds, total_usd=sum(figures) if figures else 0.0)


ROWS = [row(FRI, 200 * M, 38.4 * M), row(MON, -100 * M, -51 * M)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_row_is_published_when_its_utc_day_ends() -> None:
    assert published_at(MON) == at("2025-11-25T00:00")


def test_the_as_of_days_row_is_known_after_the_close_but_feeds_nothing_until_published() -> None:
    before_close = sort_days(ROWS, at("2025-11-24T20:59"))
    assert [r.day for r in before_close.known] == [FRI]
    assert before_close.latest_completed == ROWS[0]

    end_of_day = sort_days(ROWS, at("2025-11-24T23:59:59"))
    assert [r.day for r in end_of_day.reported] == [FRI, MON]  # shown (and in month to date)
    assert end_of_day.provisional == {MON}
    assert end_of_day.latest_completed == ROWS[0]

    published = sort_days(ROWS, at("2025-11-25T00:00"))
    assert published.provisional == set()
    assert published.latest_completed == ROWS[1]


def test_a_published_row_a_fund_has_not_filled_stays_provisional() -> None:
    partial = [ROWS[0], row(MON, None, -51 * M)]  # IBIT reported Friday, shows '-' on Monday
    days = sort_days(partial, at("2025-11-26T12:00"))
    assert days.provisional == {MON}
    assert days.latest_completed == partial[0]


def test_an_unreported_row_is_pending_on_its_day_and_a_holiday_after() -> None:
    holiday = row(date(2025, 11, 27), None, None)  # all '-', Total 0.0 as Farside prints it
    rows = [*ROWS, holiday]
    on_the_day = sort_days(rows, at("2025-11-27T23:00"))
    assert on_the_day.pending == [holiday]
    assert holiday not in on_the_day.reported
    later = sort_days(rows, at("2025-11-28T12:00"))
    assert later.pending == []
    assert later.latest_completed == ROWS[1]  # never a zero-flow day
