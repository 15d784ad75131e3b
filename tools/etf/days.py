"""The one rule for which ETF flow days an answer may use: known, provisional, completed, "the latest completed day".

get_etf_flows sorts its table's rows with `sort_days` and reports `latest_completed_day`, the streak, the 5-day
average and `outflow_below_100m` from `FlowDays.completed` only; the assessment's ETF signals and flip signal read
those fields (tools/assess/adapters.py) and the brief quotes them, so every reader agrees on the day and its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from schemas.etf_flows import FlowRow

# A trading day's flows exist only after the US close: 16:00 New York is 21:00 UTC in winter (20:00 in summer). The
# later bound keeps an intraday as_of from seeing a day that had not happened yet.
US_CLOSE_UTC = time(21, 0)


def known(day: date, at: datetime) -> bool:
    """The day's session had closed by `at`, so a row for it can exist."""
    return datetime.combine(day, US_CLOSE_UTC, tzinfo=UTC) <= at


def published_at(day: date) -> datetime:
    """When a day's row counts as published: the end of the UTC day it is dated.

    Farside fills the row in the US evening after the close, issuer by issuer, so before the UTC day is over the
    row may still change. An as_of date means the end of that UTC day, so the as_of day's own row never feeds a
    signal; an as_of instant after this one may use it, unless a fund is still missing (`provisional_days`).
    """
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def provisional_days(rows: Sequence[FlowRow], at: datetime) -> set[date]:
    """Days whose figures may still change at `at`: not published yet, or a latest day a fund has not filled."""
    marked = {r.day for r in rows if published_at(r.day) > at}
    reported = [r for r in rows if r.reported]
    if len(reported) >= 2:
        last, before = reported[-1], reported[-2]
        # A fund that had a figure the day before but none on the latest day has not reported yet.
        if any(before.funds.get(t) is not None and v is None for t, v in last.funds.items()):
            marked.add(last.day)
    return marked


@dataclass(frozen=True)
class FlowDays:
    """A table's rows as known at one instant, sorted by what they can be used for."""

    known: list[FlowRow]  # closed by the instant
    provisional: set[date]  # may still change (see `provisional_days`)
    reported: list[FlowRow]  # at least one fund figure
    completed: list[FlowRow]  # reported and final: what streaks, averages, thresholds and signals read
    pending: list[FlowRow]  # not reported at all and not published yet (a day nobody has posted)

    @property
    def latest_completed(self) -> FlowRow | None:
        return self.completed[-1] if self.completed else None


def sort_days(rows: Sequence[FlowRow], at: datetime) -> FlowDays:
    seen = [r for r in rows if known(r.day, at)]
    provisional = provisional_days(seen, at)
    reported = [r for r in seen if r.reported]
    return FlowDays(
        known=seen,
        provisional=provisional,
        reported=reported,
        completed=[r for r in reported if r.day not in provisional],
        # Unreported and published is a holiday row (all '-'); unreported and not published is still to come.
        pending=[r for r in seen if not r.reported and r.day in provisional],
    )
