"""get_etf_flows: US spot BTC / ETH ETF daily net flows per fund, month-to-date, records, streak, price impact.

Farside (keyless HTML) is the default source; SoSoValue and CoinGlass, when their keys are configured, replace it
when it is blocked and cross-check it when it is not. Completed days are kept in the history store, so an `as_of`
answer the store already covers is served without a refetch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from statistics import fmean
from typing import Annotated

from pydantic import Field

from fetchers import coinglass, farside, sosovalue
from fetchers.concurrency import gather, gather_all
from fetchers.errors import GeoBlockedError, UpstreamError
from fetchers.http import Fetched
from schemas.etf_flows import EtfFlowDay, EtfFlows, FlowRow, FlowTable, LatestDay, MonthFlow
from store.base import StoreError
from tools.args import AsOfArg, AssetArg, ChartArg, DetailArg
from tools.deps import Deps
from tools.detail import latest_rows, summary_view
from tools.errors import InputError
from tools.etf import metrics
from tools.etf.days import FlowDays, sort_days
from tools.history import etf_store, etf_vintages
from tools.point_in_time import PointInTime
from tools.provenance import Provenance
from tools.registry import ToolArgs, ToolSpec
from tools.streaks import sign_streak

# First trading day of the US spot funds: a history starting later cannot give "since launch" records.
LAUNCH = {"BTC": date(2024, 1, 11), "ETH": date(2024, 7, 23)}
OUTFLOW_THRESHOLD_USD = 100_000_000.0

DaysArg = Annotated[int, Field(ge=1, le=365, description="Trading days of daily rows to return (1-365).")]

DESCRIPTION = """US spot BTC or ETH ETF net flows, in USD, per fund and in total:
daily rows (provisional for the as_of day or while issuers still report), month-to-date total and per fund,
previous month, record monthly outflow/inflow since launch and month-to-date as pct of record, the day streak,
5-day average, the largest fund's share, outflow_below_100m (read as selling exhaustion) and a rough price impact.
Farside (keyless); SoSoValue/CoinGlass with keys."""

METHODOLOGY = """## Spot ETF flows (`get_etf_flows`)
- Source: Farside Investors' flow tables (`/bitcoin-etf-flow-all-data/`, `/ethereum-etf-flow-all-data/`, keyless;
  the recent `/btc/`, `/eth/` pages as a fallback without since-launch records). Cells are US$m (converted to USD),
  negatives in parentheses. A day whose fund cells are all `-` is *not reported* (holiday or not posted yet), never
  a zero flow, even though Farside's Total shows 0.0. Summary rows (Total/Average/Maximum/Minimum) are ignored.
- With `WINDVANE_SOSOVALUE_API_KEY` (daily totals: `/openapi/v1/etfs/summary-history`; per fund:
  `/openapi/v1/etfs/{ticker}/history`) or `WINDVANE_COINGLASS_API_KEY` (`/api/etf/{bitcoin|ethereum}/flow-history`)
  the keyed source replaces Farside when Farside is blocked (Cloudflare answers datacenter IPs with 403 or a
  challenge page) and cross-checks it otherwise: a day whose totals differ by more than max(US$1M, 1%) is listed in
  `warnings` with both values and the source used (Farside when it answered).
- A day's row is used only when as_of is at or after 21:00 UTC that day (the US close), so an intraday as_of never
  sees a session that had not finished. Provisional: a row not yet published at as_of - a row counts as published
  once the UTC day it is dated has ended, so the as_of day's own row (today's when as_of is omitted) is always
  provisional, because several issuers post late - and a latest row where a fund that reported the day before
  shows `-`. Provisional rows count in month-to-date (with a warning) but not in the streak, the 5-day average,
  `latest_completed_day` or `outflow_below_100m`, which use completed days only; the assessment's ETF signals read
  these same fields, so both name the same latest completed day.
- As known then: each fetch records every reported figure with the time first seen (a vintage). A past as_of reads
  each day as first seen by as_of, with `known_at` on the day; `known_at` null = only the final figures exist
  (imported, stored before vintages, or first fetched after as_of), which may carry later revisions.
- Month-to-date: sum of daily totals from the 1st of the as_of month to as_of; per fund likewise. Previous month:
  the calendar month before. Records: the most negative / most positive monthly total among the months before the
  as_of month, since launch (null when the history used does not reach launch). `month_to_date_pct_of_record` =
  100 * MTD / record of the same sign.
- Largest fund: the fund with the largest cumulative net inflow since launch; `share_pct` = its cumulative net inflow
  / the summed cumulative net inflow of all funds with net inflows (GBTC's conversion outflows would otherwise push a
  share of the net total above 100%, reported apart as `share_of_net_total_pct`). `share_of_assets_pct` uses
  SoSoValue net assets when its key is set and as_of is now.
- `outflow_below_100m`: the latest completed day's total is above -US$100M (an inflow day also counts).
- `price_impact_estimate_pct = coefficient * month_to_date_usd / 1e9`. The default coefficient, 3.4% per US$1B of net
  flow, is a published bank research rule of thumb (roughly -3.4% in BTC price for each US$1B of net ETF outflow);
  set `WINDVANE_ETF_IMPACT_PCT_PER_BUSD` to change it. It is an order-of-magnitude reading, not a forecast.
"""


def _has_key(deps: Deps, source: str) -> bool:
    return bool(deps.http.api_key(source))


# -- sources -------------------------------------------------------------------------------------------------------


async def _farside(deps: Deps, prov: Provenance, asset: str, keyed_alternative: bool) -> Fetched[FlowTable] | None:
    try:
        return await farside.fetch_flow_table(deps.http, asset, all_data=True)
    except GeoBlockedError as exc:
        prov.failed("Farside all-data page", exc)
        if not keyed_alternative:
            prov.warn(f"Farside is blocked from this address: {farside.BLOCKED_HINT}")
        return None  # the recent page sits behind the same Cloudflare rule
    except UpstreamError as exc:
        prov.failed("Farside all-data page", exc)
    recent = await prov.attempt(
        "Farside recent page", lambda: farside.fetch_flow_table(deps.http, asset, all_data=False)
    )
    if recent is not None:
        prov.warn("using Farside's recent page: records, previous month and cumulative shares may be unavailable")
    return recent


async def _sosovalue_table(deps: Deps, prov: Provenance, asset: str, per_fund: bool) -> Fetched[FlowTable] | None:
    summary = await prov.attempt("SoSoValue daily totals", lambda: sosovalue.fetch_summary(deps.http, asset))
    if summary is None or not per_fund:
        return summary
    funds = sosovalue.FUNDS[asset]
    got = await gather_all(
        partial(prov.attempt, f"SoSoValue {ticker} history", partial(sosovalue.fetch_fund_history, deps.http, ticker))
        for ticker in funds
    )
    histories = {ticker: history for ticker, history in zip(funds, got, strict=True) if history is not None}
    prov.add(histories.values())
    tickers = tuple(t for t in sosovalue.FUNDS[asset] if t in histories)
    rows = [
        FlowRow(day=r.day, funds={t: histories[t].value[0].get(r.day) for t in tickers}, total_usd=r.total_usd)
        for r in summary.value.rows
    ]
    assets = dict(summary.value.net_assets_usd)
    for ticker, history in histories.items():
        if history.value[1] is not None:
            assets[ticker] = history.value[1]
    table = FlowTable(tickers=tickers, rows=rows, net_assets_usd=assets)
    return replace(summary, value=table)  # keeps the summary's staleness and its reason


async def _secondaries(deps: Deps, prov: Provenance, asset: str, per_fund: bool) -> dict[str, Fetched[FlowTable]]:
    """The keyed sources whose key is configured, fetched together: source name -> table."""

    async def absent() -> None:
        return None

    soso, cg = await gather(
        lambda: _sosovalue_table(deps, prov, asset, per_fund) if _has_key(deps, "sosovalue") else absent(),
        lambda: (
            prov.attempt("CoinGlass ETF flow history", lambda: coinglass.fetch_etf_flow_history(deps.http, asset))
            if _has_key(deps, "coinglass")
            else absent()
        ),
    )
    return {name: table for name, table in (("sosovalue", soso), ("coinglass", cg)) if table is not None}


async def _share_of_assets(deps: Deps, prov: Provenance, asset: str, ticker: str) -> float | None:
    """The fund's latest net assets over the total, from SoSoValue (current holdings only)."""
    summary = await prov.attempt("SoSoValue net assets", lambda: sosovalue.fetch_summary(deps.http, asset))
    fund = await prov.attempt(f"SoSoValue {ticker} net assets", lambda: sosovalue.fetch_fund_history(deps.http, ticker))
    if summary is None or fund is None:
        return None
    total = summary.value.net_assets_usd.get("TOTAL")
    held = fund.value[1]
    if total is None or held is None or total <= 0:
        prov.warn("SoSoValue gave no net assets: the largest fund's share of assets is unavailable")
        return None
    prov.add([summary, fund])
    return round(100 * held / total, 2)


# -- the tool ------------------------------------------------------------------------------------------------------


async def _load(
    deps: Deps, prov: Provenance, asset: str, pit: PointInTime, ref_day: date, days: int
) -> tuple[str | None, FlowTable | None]:
    if deps.store is not None and not pit.is_live:
        stored = await etf_store.read_table(deps.store, farside.SOURCE, asset, LAUNCH[asset], ref_day)
        if stored is not None:
            table, fetched_at = stored
            endpoint = f"store:{farside.SOURCE}/{etf_store.METRIC}/{asset}"
            prov.add(Fetched.stored(table, farside.SOURCE, endpoint, fetched_at, now=pit.now))
            return "farside", table
    keyed = _has_key(deps, "sosovalue") or _has_key(deps, "coinglass")
    primary = await _farside(deps, prov, asset, keyed)
    others = await _secondaries(deps, prov, asset, per_fund=primary is None)
    # Trading days are about 5 of every 7 calendar days: this spans the rows shown.
    window = (ref_day - timedelta(days=days * 7 // 5 + 7), ref_day)
    if primary is not None:
        prov.add(primary)
        if deps.store is not None:
            try:
                await etf_store.write_completed(deps.store, farside.SOURCE, asset, primary.value, primary.fetched_at)
            except Exception as exc:  # a store fault must not cost the answer
                prov.warn(f"history store write failed ({type(exc).__name__})")
        for name, other in others.items():
            metrics.cross_check(prov, "farside", primary.value, name, other.value, window)
            prov.add(other)
        return "farside", primary.value
    # Farside failed: CoinGlass has per-fund rows in one call; SoSoValue needs one call per fund.
    for name in ("coinglass", "sosovalue"):
        chosen = others.get(name)
        if chosen is None:
            continue  # not configured, or it failed too
        prov.add(chosen)
        prov.warn(f"Farside unavailable: using {name}")
        for other_name, other in others.items():
            if other_name != name:
                metrics.cross_check(prov, name, chosen.value, other_name, other.value, window)
                prov.add(other)
        return name, chosen.value
    return None, None


async def _as_known(
    deps: Deps, prov: Provenance, asset: str, pit: PointInTime, source_used: str | None, table: FlowTable
) -> FlowTable:
    """A past as_of reads Farside's days as windvane knew them then, where it recorded them (a live answer is
    as known now; the keyed sources record no vintages)."""
    if pit.is_live or deps.store is None or source_used != "farside":
        return table
    try:
        return await etf_vintages.as_known(deps.store, farside.SOURCE, asset, table, pit.at)
    except StoreError as exc:  # a store fault must not cost the answer: the days stay final, known_at null
        prov.warn(f"history store unavailable ({type(exc).__name__}): figures as known at as_of not read")
        return table


def _empty(asset: str, as_of: datetime, coefficient: float, prov: Provenance, reason: str | None = None) -> EtfFlows:
    prov.warn(reason or "no ETF flow source answered: every figure is unavailable")
    return EtfFlows(
        as_of=as_of,
        asset=asset,
        source_used=None,
        days=[],
        month_to_date_usd=None,
        month_to_date_by_fund_usd={},
        month_to_date_days=None,
        record_monthly_outflow=None,
        record_monthly_inflow=None,
        month_to_date_pct_of_record=None,
        streak=sign_streak([]),
        avg_5d_usd=None,
        outflow_below_100m=None,
        price_impact_estimate_pct=None,
        impact_coefficient_pct_per_busd=coefficient,
        sources=prov.sources,
        warnings=prov.warnings,
    )


@dataclass(frozen=True)
class _Days:
    """The table's rows as known at the answer's time (sorted by tools/etf/days.py), and whether they reach launch."""

    flow: FlowDays
    since_launch: bool


def _days(prov: Provenance, table: FlowTable, asset: str, at: datetime, source_used: str | None) -> _Days:
    ref_day = at.date()
    flow = sort_days(table.rows, at)
    if flow.pending:
        prov.warn(f"{ref_day} is not reported yet (every fund shows '-'): it is not counted as a zero flow")
    if not flow.reported:
        prov.warn(f"{source_used} has no reported day at or before {ref_day}")
    return _Days(
        flow=flow,
        since_launch=table.since_launch
        or (bool(flow.known) and flow.known[0].day <= LAUNCH[asset] + timedelta(days=7)),
    )


@dataclass(frozen=True)
class _Months:
    rows: list[FlowRow]  # reported days of the as_of month
    mtd: float | None
    previous: MonthFlow | None
    previous_rows: list[FlowRow]


def _months(prov: Provenance, d: FlowDays, ref_day: date) -> _Months:
    ref_month = metrics.month(ref_day)
    month_rows = [r for r in d.reported if metrics.month(r.day) == ref_month]
    prev_month = metrics.previous_month(ref_day)
    prev_rows = [r for r in d.reported if metrics.month(r.day) == prev_month]
    if d.reported and not month_rows:
        prov.warn(f"no trading day of {ref_month} is reported yet: month-to-date unavailable")
    if any(r.day in d.provisional for r in month_rows):
        prov.warn(
            "month-to-date includes provisional figures for "
            + ", ".join(sorted(r.day.isoformat() for r in month_rows if r.day in d.provisional))
        )
    if d.reported and not prev_rows:
        prov.warn(f"no reported days for {prev_month} in the history used: previous month unavailable")
    return _Months(
        rows=month_rows,
        mtd=metrics.sum_total(month_rows) if month_rows else None,
        previous=MonthFlow(month=prev_month, total_usd=metrics.sum_total(prev_rows)) if prev_rows else None,
        previous_rows=prev_rows,
    )


async def compute_etf_flows(deps: Deps, asset: str, days: int, pit: PointInTime) -> EtfFlows:
    asset = asset.strip().upper()
    if asset not in LAUNCH:
        raise InputError(f"asset {asset!r} has no US spot ETFs tracked here; use one of: {', '.join(LAUNCH)}")
    answer_at = pit.at
    ref_day = answer_at.date()
    coefficient = deps.config.etf_impact_pct_per_busd
    prov = Provenance()
    if ref_day < LAUNCH[asset]:  # nothing to ask anyone: there were no flows yet
        reason = f"no US spot {asset} ETF traded before {LAUNCH[asset].isoformat()}: every figure is unavailable"
        return _empty(asset, answer_at, coefficient, prov, reason)
    source_used, table = await _load(deps, prov, asset, pit, ref_day, days)
    if table is None:
        return _empty(asset, answer_at, coefficient, prov)
    table = await _as_known(deps, prov, asset, pit, source_used, table)
    d = _days(prov, table, asset, answer_at, source_used)
    m = _months(prov, d.flow, ref_day)
    outflow_rec, inflow_rec = metrics.records(prov, d.flow.reported, d.since_launch, metrics.month(ref_day))
    largest = metrics.largest_fund(prov, d.flow.reported, d.since_launch)
    if largest is not None and pit.is_live and _has_key(deps, "sosovalue"):
        largest.share_of_assets_pct = await _share_of_assets(deps, prov, asset, largest.ticker)

    completed = d.flow.completed
    streak = sign_streak(
        [(datetime.combine(r.day, time(), tzinfo=UTC), r.total_usd) for r in completed if r.total_usd is not None]
    )
    last5 = [r.total_usd for r in completed[-5:] if r.total_usd is not None]
    if completed and len(last5) < 5:
        prov.warn(f"only {len(last5)} completed days for the 5-day average")
    latest = d.flow.latest_completed
    latest_total = latest.total_usd if latest is not None else None
    return EtfFlows(
        as_of=answer_at,
        asset=asset,
        source_used=source_used,
        days=[
            EtfFlowDay(
                date=r.day.isoformat(),
                total_usd=r.total_usd if r.reported else None,
                funds=dict(r.funds),
                provisional=r.day in d.flow.provisional or not r.reported,
                known_at=r.known_at,
            )
            for r in [*d.flow.reported[-days:], *d.flow.pending]
        ],
        month_to_date_usd=m.mtd,
        month_to_date_by_fund_usd=metrics.sum_funds(m.rows),
        month_to_date_days=len(m.rows),
        previous_month=m.previous,
        previous_month_by_fund_usd=metrics.sum_funds(m.previous_rows),
        record_monthly_outflow=outflow_rec,
        record_monthly_inflow=inflow_rec,
        month_to_date_pct_of_record=metrics.pct_of_record(m.mtd, outflow_rec, inflow_rec),
        streak=streak,
        avg_5d_usd=round(fmean(last5), 2) if last5 else None,
        latest_completed_day=None
        if latest is None or latest_total is None
        else LatestDay(date=latest.day.isoformat(), total_usd=latest_total),
        outflow_below_100m=None if latest_total is None else latest_total > -OUTFLOW_THRESHOLD_USD,
        largest_fund=largest,
        price_impact_estimate_pct=None if m.mtd is None else round(coefficient * m.mtd / 1e9, 3),
        impact_coefficient_pct_per_busd=coefficient,
        sources=prov.sources,
        warnings=prov.warnings,
    )


async def backfill(deps: Deps, since: date, until: date) -> int:
    """Store Farside's completed days in [since, until] for BTC and ETH (the all-data pages hold every day)."""
    if deps.store is None:
        return 0
    written = 0
    for asset in LAUNCH:
        fetched = await farside.fetch_flow_table(deps.http, asset, all_data=True)
        rows = [r for r in fetched.value.rows if since <= r.day <= until]
        table = FlowTable(tickers=fetched.value.tickers, rows=rows, since_launch=fetched.value.since_launch)
        written += await etf_store.write_completed(deps.store, farside.SOURCE, asset, table, fetched.fetched_at)
    return written


class EtfArgs(ToolArgs):
    asset: AssetArg = "BTC"
    days: DaysArg = 30
    detail: DetailArg = "summary"
    as_of: AsOfArg = None
    chart: ChartArg = False


def summarize(out: EtfFlows) -> EtfFlows:
    days, cut = latest_rows(out.days)
    return summary_view(out, {"days": days}, {"days": cut})


async def run(deps: Deps, args: EtfArgs, pit: PointInTime) -> EtfFlows:
    return await compute_etf_flows(deps, args.asset, args.days, pit)


SPEC = ToolSpec(
    name="get_etf_flows",
    title="Spot ETF flows",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=EtfArgs,
    output=EtfFlows,
    run=run,
    backfill=backfill,
    summarize=summarize,
)
