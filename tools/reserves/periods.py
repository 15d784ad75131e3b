"""The instants and period changes exchange_reserve_trend compares (pure date and number helpers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from schemas.reserves import PeriodChange
from tools.errors import InputError
from tools.numbers import rounded
from tools.point_in_time import PointInTime, parse_day, quoted


def pct_change(change: float | None, start: float | None) -> float | None:
    if change is None or start is None or start == 0:
        return None
    return round(100 * change / start, 6)


def difference(end: float | None, start: float | None) -> float | None:
    return None if end is None or start is None else round(end - start, 8)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def month_end_before(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


@dataclass
class Points:
    """The instants the answer compares: each is the end of a UTC day, except a live `end`."""

    end_day: date
    end: datetime
    live: bool
    window_start: date
    month_prev_end: date
    month_prev_prev_end: date
    year_start: date
    since: date | None

    def days(self) -> list[date]:
        out = [self.end_day, self.window_start, self.month_prev_end, self.month_prev_prev_end, self.year_start]
        return sorted({d for d in (*out, self.since) if d is not None})


# -- keyed -----------------------------------------------------------------------------------------------------------


def comparison_points(pit: PointInTime, window_days: int, since_raw: str | None) -> Points:
    end_day = (pit.bar_cutoff - timedelta(days=1)).date()  # the last UTC day that has ended
    since = None
    if since_raw:
        since = parse_day(since_raw, "since")
        if since >= end_day:
            raise InputError(f"since {quoted(since_raw)} must be before the answer's end day {end_day.isoformat()}")
    return Points(
        end_day=end_day,
        end=pit.now if pit.is_live else end_of_day(end_day),
        live=pit.is_live,
        window_start=end_day - timedelta(days=window_days),
        month_prev_end=month_end_before(end_day),
        month_prev_prev_end=month_end_before(month_end_before(end_day)),
        year_start=date(end_day.year - 1, 12, 31),
        since=since,
    )


def period_change(label: str, start_day: date, end_day: date, start: float | None, end: float | None) -> PeriodChange:
    change = difference(end, start)
    return PeriodChange(
        label=label,
        start_date=start_day.isoformat(),
        end_date=end_day.isoformat(),
        start_btc=rounded(start, 8),
        end_btc=rounded(end, 8),
        change_btc=change,
        change_pct=pct_change(change, start),
    )
