"""Liquidations for get_leverage_state: CoinGlass aggregated history when keyed, else OKX's swap only.

Windows the source cannot cover in full are null with a reason, never a partial sum presented as the total.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fetchers import coinglass_derivatives, okx
from fetchers.concurrency import gather
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from schemas.derivatives import Instrument, Liquidation
from schemas.leverage import Liquidations
from tools.deps import Deps
from tools.leverage.calc import last_complete_day_end, liquidation_totals
from tools.leverage.okx_liquidations import MS, Order, PageBudget, Paged, Recorded, page_windows, recorded
from tools.provenance import Provenance

# Paging stops here even if the week is not covered (100 orders a page); the 7d total is then null.
# (label -> USD, or None when the window is not covered)
Totals = dict[str, float | None]
LIQUIDATION_MAX_PAGES = 60


def _empty_liquidations(coverage: str) -> Liquidations:
    return Liquidations(
        long_usd_24h=None,
        short_usd_24h=None,
        long_usd_7d=None,
        short_usd_7d=None,
        coverage=coverage,
        source=None,
        window_end=None,
    )


async def _coinglass_liquidations(deps: Deps, prov: Provenance, asset: str, cutoff: datetime) -> Liquidations:
    """Daily aggregated bars: the windows are the last 1 and 7 complete UTC days at or before cutoff."""
    day_end = last_complete_day_end(cutoff)
    first = day_end - timedelta(days=7)
    fetched = await coinglass_derivatives.fetch_liquidation_history(
        deps.http, asset, first, day_end - timedelta(days=1)
    )
    prov.add(fetched)
    by_day = {b.time: b for b in fetched.value}
    days = [first + timedelta(days=i) for i in range(7)]
    missing = [d.date().isoformat() for d in days if d not in by_day]
    last = by_day.get(days[-1])
    if last is None:
        prov.warn(f"coinglass has no liquidation bar for {days[-1].date()}; 24h totals unavailable")
    if missing:
        prov.warn(f"coinglass liquidation bars missing for {', '.join(missing)}; 7d totals unavailable")
    full = not missing
    return Liquidations(
        long_usd_24h=None if last is None else round(last.long_usd, 2),
        short_usd_24h=None if last is None else round(last.short_usd, 2),
        long_usd_7d=round(sum(by_day[d].long_usd for d in days), 2) if full else None,
        short_usd_7d=round(sum(by_day[d].short_usd for d in days), 2) if full else None,
        coverage=f"all major venues (CoinGlass aggregated history, daily UTC bars: {coinglass_derivatives.EXCHANGES})",
        source="coinglass",
        window_end=day_end,
    )


def _okx_windows(prov: Provenance, liqs: list[Liquidation], reach: datetime | None, why: str, at: datetime) -> Totals:
    """24h and 7d totals ending at `at`, from orders known back to `reach`; a window not reached is null."""
    out: Totals = {}
    for label, start in (("24h", at - timedelta(hours=24)), ("7d", at - timedelta(days=7))):
        if reach is None:
            prov.warn(
                f"okx returned no liquidations at or before as_of (its public history is short); "
                f"the {label} totals are unavailable"
            )
            out[f"long_{label}"] = out[f"short_{label}"] = None
        elif reach > start:
            since = reach.strftime("%Y-%m-%dT%H:%MZ")
            prov.warn(f"okx liquidations reach back only to {since} ({why}); the {label} totals are unavailable")
            out[f"long_{label}"] = out[f"short_{label}"] = None
        else:
            long_usd, short_usd = liquidation_totals(liqs, start, at)
            out[f"long_{label}"], out[f"short_{label}"] = round(long_usd, 2), round(short_usd, 2)
    return out


async def _okx_liquidations(deps: Deps, prov: Provenance, asset: str, at: datetime) -> Liquidations:
    coverage = f"OKX {okx.swap_id(asset)} only (keyless); set WINDVANE_COINGLASS_API_KEY for all venues"
    week_start = at - timedelta(days=7)

    async def newest() -> tuple[Fetched[Instrument], Fetched[list[Order]]]:
        # ctVal is needed only to price the orders: fetched alongside the first page (one round trip saved).
        return await gather(
            lambda: okx.fetch_swap_instrument(deps.http, asset),
            lambda: okx.fetch_liquidation_page(deps.http, asset, at + MS),
        )

    # Asked while the record is read: an answer needs the newest page unless the record already covers `at` (a past
    # date inside it). The other days' windows start once the record says which stretches are missing, a local
    # read later, not a round trip.
    record, (instrument, first_page) = await gather(lambda: recorded(deps.store, asset, week_start, at), newest)
    budget = PageBudget(LIQUIDATION_MAX_PAGES)
    newer_from = week_start if record is None else record.end

    async def newer() -> Paged | None:
        if newer_from >= at:
            return None
        return await page_windows(deps.http, asset, at, newer_from, budget, first_page)

    async def older() -> Paged | None:
        if record is None or record.start <= week_start:
            return None
        return await page_windows(deps.http, asset, record.start - MS, week_start, budget)

    newer_paged, older_paged = await gather(newer, older)
    prov.add(instrument)
    if record is not None and record.fetched_at is not None:
        endpoint = f"windvane-store:{okx.SOURCE}/liquidations/{asset}"
        prov.add(Fetched.stored(None, okx.SOURCE, endpoint, record.fetched_at, now=deps.clock()))
    known = _Known(instrument.value.contract_value, prov)
    if record is None:
        assert newer_paged is not None
        known.join(newer_paged, week_start)
    else:
        known.add_record(record)
        if newer_paged is not None:
            known.join(newer_paged, record.end, joins=True)
        if older_paged is not None and known.contiguous:
            known.join(older_paged, week_start, joins=True, older=True)
    return _okx_result(_okx_windows(prov, known.liquidations, known.reach, known.why, at), coverage, at)


class _Known:
    """The orders known so far, complete from `reach` on: the record and the pages around it."""

    def __init__(self, contract_value: float, prov: Provenance) -> None:
        self.contract_value, self.prov = contract_value, prov
        self.liquidations: list[Liquidation] = []
        self.reach: datetime | None = None
        self.contiguous = True  # the pages joined the record with no gap
        self.why = "the record starts there"

    def add_record(self, record: Recorded) -> None:
        self.liquidations = list(record.liquidations)
        self.reach = record.start

    def join(self, paged: Paged, stop_at: datetime, *, joins: bool = False, older: bool = False) -> None:
        """Pages back to `stop_at`; `joins` when they continue the record (newer or older than it)."""
        self.prov.add(paged.fetches)
        if paged.page_limit_hit:
            self.prov.warn(f"okx liquidations: stopped after {LIQUIDATION_MAX_PAGES} pages")
        new = okx.liquidations_usd(paged.orders, self.contract_value)
        self.why = "its history ended" if paged.exhausted else "the page limit was reached"
        if not joins:
            self.liquidations, self.reach = new, paged.oldest
        elif older:
            self.liquidations += [liq for liq in new if self.reach is None or liq.time < self.reach]
            self.reach = stop_at if paged.reached else paged.oldest or self.reach
        elif paged.reached:  # newer than the record, and reaching it
            self.liquidations += [liq for liq in new if liq.time > stop_at]
        else:  # newer, with a gap before the record: only the pages stand
            self.liquidations, self.reach, self.contiguous = new, paged.oldest, False


def _okx_result(totals: Totals, coverage: str, at: datetime) -> Liquidations:
    return Liquidations(
        long_usd_24h=totals["long_24h"],
        short_usd_24h=totals["short_24h"],
        long_usd_7d=totals["long_7d"],
        short_usd_7d=totals["short_7d"],
        coverage=coverage,
        source="okx",
        window_end=at,
    )


async def liquidations(deps: Deps, prov: Provenance, asset: str, at: datetime, cutoff: datetime) -> Liquidations:
    if deps.http.api_key(coinglass_derivatives.SOURCE):
        try:
            return await _coinglass_liquidations(deps, prov, asset, cutoff)
        except UpstreamError as exc:
            prov.failed("coinglass liquidations (falling back to OKX only)", exc)
    try:
        return await _okx_liquidations(deps, prov, asset, at)
    except UpstreamError as exc:
        prov.failed("okx liquidations", exc)
    return _empty_liquidations("none: no liquidation source answered")
