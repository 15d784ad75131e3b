"""Pure readings of a daily ETF flow table: monthly sums, records, largest fund, cross-check.

Everything here works on `FlowRow`s in USD and reports what it could not compute through `Provenance` warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from schemas.etf_flows import FlowRow, FlowTable, LargestFund, MonthFlow
from tools.provenance import Provenance

# Two sources agree when their day totals differ by at most max(US$1M, 1%): rounding to US$0.1M and late revisions.
CROSSCHECK_ABS_USD = 1_000_000.0
CROSSCHECK_REL = 0.01
MAX_DISAGREEMENTS_LISTED = 5


def cross_check(
    prov: Provenance, used: str, table: FlowTable, other: str, other_table: FlowTable, window: tuple[date, date]
) -> None:
    since, until = window
    theirs = {r.day: r.total_usd for r in other_table.rows if r.total_usd is not None}
    disagreements = []
    compared = 0
    for row in table.rows:
        if not since <= row.day <= until or not row.reported or row.total_usd is None or row.day not in theirs:
            continue
        compared += 1
        mine, other_value = row.total_usd, theirs[row.day]
        if abs(mine - other_value) > max(CROSSCHECK_ABS_USD, CROSSCHECK_REL * abs(mine)):
            disagreements.append(f"{row.day}: {used} {musd(mine)} vs {other} {musd(other_value)}")
    if disagreements:
        listed = "; ".join(disagreements[:MAX_DISAGREEMENTS_LISTED])
        more = len(disagreements) - MAX_DISAGREEMENTS_LISTED
        prov.warn(
            f"{used} and {other} disagree on {len(disagreements)} of {compared} day totals by more than "
            f"max(US$1M, 1%); {used} was used: {listed}" + (f" (+{more} more)" if more > 0 else "")
        )
    elif compared == 0:
        prov.warn(f"no day in the window to cross-check {used} against {other}")


def musd(value: float) -> str:
    return f"US${value / 1e6:,.1f}M"


def month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(day: date) -> str:
    first = day.replace(day=1) - timedelta(days=1)
    return month(first)


def sum_funds(rows: Sequence[FlowRow]) -> dict[str, float]:
    sums: dict[str, float] = {}
    for row in rows:
        for ticker, value in row.funds.items():
            if value is not None:
                sums[ticker] = sums.get(ticker, 0.0) + value
    return {t: round(v, 2) for t, v in sums.items()}


def sum_total(rows: Sequence[FlowRow]) -> float:
    return round(sum(r.total_usd for r in rows if r.total_usd is not None), 2)


def monthly(rows: Sequence[FlowRow]) -> dict[str, float]:
    months: dict[str, float] = {}
    for row in rows:
        if row.total_usd is not None:
            months[month(row.day)] = months.get(month(row.day), 0.0) + row.total_usd
    return {m: round(v, 2) for m, v in months.items()}


def records(
    prov: Provenance, rows: Sequence[FlowRow], since_launch: bool, ref_month: str
) -> tuple[MonthFlow | None, MonthFlow | None]:
    if not since_launch:
        start = rows[0].day.isoformat() if rows else "n/a"
        prov.warn(f"history used starts {start}, not at launch: record months are unavailable")
        return None, None
    earlier = {m: v for m, v in monthly(rows).items() if m < ref_month}
    if not earlier:
        prov.warn("no complete month before the as_of month: record months are unavailable")
        return None, None
    low = min(earlier, key=lambda m: earlier[m])
    high = max(earlier, key=lambda m: earlier[m])
    outflow = MonthFlow(month=low, total_usd=earlier[low]) if earlier[low] < 0 else None
    inflow = MonthFlow(month=high, total_usd=earlier[high]) if earlier[high] > 0 else None
    return outflow, inflow


def pct_of_record(mtd: float | None, outflow: MonthFlow | None, inflow: MonthFlow | None) -> float | None:
    if mtd is None:
        return None
    record = outflow if mtd < 0 else inflow if mtd > 0 else None
    if record is None or record.total_usd == 0:
        return None
    return round(100 * mtd / record.total_usd, 2)


def largest_fund(prov: Provenance, rows: Sequence[FlowRow], since_launch: bool) -> LargestFund | None:
    if not since_launch:
        prov.warn("history used does not reach launch: the largest fund's cumulative share is unavailable")
        return None
    cumulative = sum_funds(rows)
    if not cumulative:
        prov.warn("the source gives no per-fund figures: largest fund unavailable")
        return None
    ticker = max(cumulative, key=lambda t: cumulative[t])
    gross = sum(v for v in cumulative.values() if v > 0)
    net = sum(cumulative.values())
    if cumulative[ticker] <= 0 or gross <= 0:
        return None
    return LargestFund(
        ticker=ticker,
        cumulative_net_inflow_usd=round(cumulative[ticker], 2),
        share_pct=round(100 * cumulative[ticker] / gross, 2),
        share_of_net_total_pct=round(100 * cumulative[ticker] / net, 2) if net > 0 else None,
    )
