"""exchange_reserve_trend: BTC held on exchanges, per exchange, over time.

Keyless by default: balances of labelled exchange wallets (fetchers/address_book) read from Esplora. Past balances
come from the store's snapshots (`windvane collect`) or are reconstructed from each wallet's confirmed history.
With keys, CryptoQuant gives the all-exchange reserve and netflow, and CoinGlass the per-exchange balances
(including Coinbase); they are preferred for coverage and cross-checked against the on-chain figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import Field

from fetchers import address_book
from fetchers.address_book import AddressBook, AddressBookError
from schemas.reserves import (
    CategoryShare,
    Coverage,
    CoverageExchange,
    ExchangeReserve,
    ExchangeReserves,
    MonthOverMonth,
)
from store.base import Observation
from tools.args import AsOfArg, AssetArg
from tools.deps import Deps
from tools.errors import InputError
from tools.numbers import rounded
from tools.point_in_time import PointInTime
from tools.provenance import Provenance
from tools.registry import ToolArgs, ToolSpec
from tools.reserves.keyed import (
    Keyed,
    chart_value,
    coinglass_rows,
    cross_checks,
    fetch_keyed,
)
from tools.reserves.onchain import Onchain, fill_history, read_balances, snapshot_key, use_snapshots
from tools.reserves.periods import (
    Points,
    comparison_points,
    difference,
    end_of_day,
    month_end_before,
    pct_change,
    period_change,
)

WindowArg = Annotated[int, Field(ge=1, le=365, description="Days the change is measured over (1-365).")]
SinceArg = Annotated[
    str | None,
    Field(description="Optional ISO date: also report the change since the end of that UTC day."),
]

DESCRIPTION = """BTC held on exchanges and how it changed: total_btc, change_btc/change_pct over window_days
(negative = coins left exchanges, read as supply drying up), per exchange with its category (institutional /
retail / derivatives), the category split, month-over-month and year-to-date changes, net_flow_positive (latest
window's net flow is an inflow, read as selling supply returning) and coverage. Keyless: labelled exchange wallets
on-chain (Coinbase not covered); with CryptoQuant/CoinGlass keys, all-exchange and per-exchange vendor figures."""

METHODOLOGY = """## Exchange reserves (`exchange_reserve_trend`)
- Keyless (default): an address book of labelled exchange cold/reserve wallets (packaged from DefiLlama's public
  bitcoin-book lists, each entry with source and date; extend it with `WINDVANE_ADDRESS_BOOK`). Balance of a wallet
  = Esplora `chain_stats.funded_txo_sum - chain_stats.spent_txo_sum` (confirmed only; sats / 1e8), from
  mempool.space, falling back to blockstream.info; at most 4 requests at once. An exchange = sum of its wallets.
  Coinbase's wallets are not in any public list: it is only covered with a CoinGlass key.
- Store first: an exchange whose every needed figure is in the store (a `windvane collect` snapshot under 1 h old
  for "now", and past snapshots) is answered without reading its wallets; `snapshot_at` says so.
- Past balances: the store's snapshots (`windvane collect` records each exchange's total) within 36 h before the
  date; otherwise reconstructed as `balance_now - sum(confirmed tx effects after the date)` from `/txs/chain`
  pages (25 per page, at most 4 pages per wallet and 1000 per call; unused wallets are not paged). A history that
  ends with fewer txs than `chain_stats.tx_count` is not trusted. A wallet whose history does not reach the
  date makes its exchange's past figure null, with a warning. Complete reconstructions are stored as snapshots;
  `windvane backfill` reconstructs every month end in its range the same way.
- A wallet that cannot be read is left out of its exchange at both ends of every comparison, and reported
  (`addresses_ok` < `addresses_total`, coverage.complete=false).
- Keyed: CryptoQuant `exchange-flows/reserve` and `/netflow` (all_exchange, day) give total_btc, the changes and
  the net flow; CoinGlass `exchange/balance/list|chart` gives per-exchange balances (including Coinbase). The
  on-chain figure of an exchange is cross-checked against CoinGlass's (`diff_pct`; the wallets are a subset).
- Changes: `change = R(end) - R(start)`, `change_pct = 100*change/R(start)`, R = end-of-UTC-day reserve. Window:
  start = end - window_days. Month over month: this month = R(as_of) - R(end of previous month), previous month
  = R(end of previous month) - R(end of the month before). Year to date: since the end of the previous year.
- `net_flow_positive`: CryptoQuant netflow summed over the window's days > 0; keyless, the change of the tracked
  wallets over the window > 0 (a transfer between two tracked wallets nets to zero).
- Caveats: block times can be off by up to ~2 h, so a transfer near midnight UTC may fall on the adjacent day; the
  address lists are partial and rotate, so on-chain totals are a floor for each exchange, not its reserve.
- Categories (windvane's reading of each venue): institutional = Coinbase, Kraken, Bitfinex, Gemini, Bitstamp;
  derivatives = Bybit, Deribit, BitMEX; retail = the rest (Binance, OKX, Bitget, HTX, Gate, MEXC, Crypto.com, ...).
"""


def _categories(rows: Sequence[ExchangeReserve]) -> list[CategoryShare]:
    tracked = sum(r.btc for r in rows if r.btc is not None)
    all_known = all(r.btc is not None for r in rows)
    out = []
    for category in ("institutional", "retail", "derivatives"):
        members = [r for r in rows if r.category == category]
        if not members:
            continue
        values = [r.btc for r in members]
        # One unknown member makes the category total unknown: a partial sum would read as an outflow.
        btc = None if any(v is None for v in values) else round(sum(v for v in values if v is not None), 8)
        changes = [r.change_btc for r in members]
        change = None if any(c is None for c in changes) else round(sum(c for c in changes if c is not None), 8)
        out.append(
            CategoryShare(
                category=category,
                exchanges=sorted(r.exchange for r in members),
                btc=btc,
                share_pct=None if btc is None or not tracked or not all_known else round(100 * btc / tracked, 6),
                change_btc=change,
            )
        )
    return out


def _book(deps: Deps, prov: Provenance) -> AddressBook:
    path = deps.config.address_book_path
    try:
        return address_book.load(path)
    except AddressBookError as exc:
        prov.warn(f"user address book ignored: {exc}")
        return address_book.load(None)


def _onchain_rows(
    book: AddressBook, onchain: Onchain, end: datetime | None, start: datetime, served: set[str]
) -> list[ExchangeReserve]:
    by_ex = book.by_exchange()
    rows = []
    for exchange in book.exchanges():
        end_v = onchain.at(exchange, end)
        start_v = onchain.at(exchange, start)
        change = difference(end_v, start_v)
        rows.append(
            ExchangeReserve(
                exchange=exchange,
                btc=end_v,
                change_btc=change,
                change_pct=pct_change(change, start_v),
                category=book.category_of(exchange),
                source="onchain",
                addresses_ok=None if exchange in served else len(onchain.ok(exchange)),
                addresses_total=len(by_ex[exchange]),
                snapshot_at=onchain.now_snapshots[exchange][0]
                if end is None and exchange in onchain.now_snapshots
                else None,
            )
        )
    return rows


def _sum_or_none(values: Sequence[float | None]) -> float | None:
    """The sum when every part is known; a partial sum would read as coins leaving."""
    if not values or any(v is None for v in values):
        return None
    return round(sum(v for v in values if v is not None), 8)


def _totals(
    prov: Provenance, keyed: Keyed, points: Points, onchain: Onchain, rows: Sequence[ExchangeReserve]
) -> tuple[str, Callable[[date], float | None]]:
    """The source of the total reserve and the reserve at the end of each day the answer compares."""
    if keyed.cq_reserve is not None:
        series = {r.day: r.value for r in keyed.cq_reserve.value}

        def cryptoquant_at(day: date) -> float | None:
            value = series.get(day)
            if value is None:
                prov.warn(f"CryptoQuant reserve has no row for {day.isoformat()}")
            return value

        return "cryptoquant", cryptoquant_at
    by_day: dict[date, float | None] = {}
    chart = keyed.cg_chart.value if keyed.cg_chart is not None else None
    for day in points.days():
        live_end = day == points.end_day and points.live
        if keyed.per_exchange:
            values = [
                r.btc if live_end or chart is None else chart_value(chart, r.exchange, end_of_day(day)) for r in rows
            ]
        else:
            values = [onchain.at(r.exchange, None if live_end else end_of_day(day)) for r in rows]
        by_day[day] = _sum_or_none(values)
    return ("coinglass" if keyed.per_exchange else "onchain"), by_day.get


def _net_flow(
    prov: Provenance, keyed: Keyed, points: Points, window_days: int, change_btc: float | None
) -> float | None:
    """CryptoQuant's netflow over the window's days; else the change of the reserve total over the window."""
    if keyed.cq_netflow is None:
        return change_btc
    days = {points.window_start + timedelta(days=i) for i in range(1, window_days + 1)}
    got = [r for r in keyed.cq_netflow.value if r.day in days]
    if len(got) != window_days:
        prov.warn(f"CryptoQuant netflow has {len(got)} of {window_days} days; net_flow_btc unavailable")
        return None
    return round(sum(r.value for r in got), 8)


def _coverage(
    source: str,
    rows: Sequence[ExchangeReserve],
    book: AddressBook,
    onchain: Onchain,
    total_end: float | None,
    *,
    keyed_per_exchange: bool,
) -> Coverage:
    tracked = _sum_or_none([r.btc for r in rows])  # shares of a total with an unknown part would all be wrong
    return Coverage(
        source=source,
        exchanges=[
            CoverageExchange(
                exchange=r.exchange,
                source=r.source,
                btc=r.btc,
                share_pct=None if r.btc is None or not tracked else round(100 * r.btc / tracked, 6),
            )
            for r in rows
        ],
        tracked_total_btc=tracked,
        share_of_all_exchanges_pct=(
            round(100 * tracked / total_end, 6)
            if source == "cryptoquant" and tracked is not None and total_end
            else None
        ),
        not_covered={} if keyed_per_exchange else dict(book.not_covered),
        addresses_total=len(book.entries),
        addresses_ok=len(onchain.balances),
        complete=not onchain.failed and all(r.btc is not None for r in rows),
    )


async def _read_onchain(
    deps: Deps, prov: Provenance, book: AddressBook, keyed: Keyed, points: Points, now: datetime
) -> tuple[Onchain, set[str]]:
    """The labelled wallets at every instant the answer compares: from snapshots where the store has them, else
    read and reconstructed. Returns them with the exchanges the store answered alone."""
    onchain = Onchain(book)
    if keyed.per_exchange:
        # CoinGlass answers per exchange; the wallets only cross-check its end figure.
        instants = [] if points.live else [end_of_day(points.end_day)]
    else:
        instants = [end_of_day(d) for d in points.days() if d != points.end_day or not points.live]
    served = await use_snapshots(deps, onchain, instants, now, live=points.live)
    if served:
        when = min((t for t, _ in onchain.now_snapshots.values()), default=None)
        prov.warn(
            f"{len(served)} of {len(book.exchanges())} exchanges answered from the store's snapshots"
            + (f" (oldest current one {when.isoformat()})" if when else "")
            + "; their wallets were not read"
        )
    await read_balances(deps, prov, onchain, skip=served)
    await fill_history(deps, prov, onchain, instants, now)
    return onchain, served


def _month_over_month(
    points: Points, total_at: Callable[[date], float | None], total_end: float | None
) -> MonthOverMonth:
    this_month = period_change(
        points.end_day.strftime("%Y-%m"),
        points.month_prev_end,
        points.end_day,
        total_at(points.month_prev_end),
        total_end,
    )
    previous_month = period_change(
        points.month_prev_end.strftime("%Y-%m"),
        points.month_prev_prev_end,
        points.month_prev_end,
        total_at(points.month_prev_prev_end),
        total_at(points.month_prev_end),
    )
    return MonthOverMonth(
        this_month=this_month,
        previous_month=previous_month,
        difference_btc=difference(this_month.change_btc, previous_month.change_btc),
    )


async def compute_reserves(
    deps: Deps, asset: str, window_days: int, pit: PointInTime, since_raw: str | None = None
) -> ExchangeReserves:
    if asset.upper() != "BTC":
        raise InputError(f"exchange_reserve_trend supports asset 'BTC' only (got {asset!r}); ETH is not tracked")
    if not 1 <= window_days <= 365:
        raise InputError(f"window_days={window_days} is out of range; use 1-365")
    now = pit.now
    points = comparison_points(pit, window_days, since_raw)
    prov = Provenance()
    book = _book(deps, prov)

    # Keyed sources first (one request each), then the labelled wallets.
    keyed = await fetch_keyed(deps, prov, points, now.date())
    onchain, served = await _read_onchain(deps, prov, book, keyed, points, now)

    end_at = None if points.live else end_of_day(points.end_day)
    onchain_rows = _onchain_rows(book, onchain, end_at, end_of_day(points.window_start), served)
    if keyed.per_exchange:
        rows = coinglass_rows(book, keyed, points, window_days)
        checks = cross_checks(prov, rows, onchain_rows)
    else:
        rows, checks = onchain_rows, []
        if "coinbase" in book.not_covered:
            prov.warn("Coinbase is not covered keyless (its wallets are not in public lists); set a CoinGlass key")

    source, total_at = _totals(prov, keyed, points, onchain, rows)
    total_end = total_at(points.end_day)
    start_total = total_at(points.window_start)
    change_btc = difference(total_end, start_total)
    if total_end is None:
        prov.warn("total_btc unavailable: no source gave the reserve at the end of the window")
    elif change_btc is None:
        prov.warn(f"change unavailable: no reserve for the window start {points.window_start.isoformat()}")
    net_flow = _net_flow(prov, keyed, points, window_days, change_btc)

    since = points.since
    return ExchangeReserves(
        as_of=pit.at,
        asset="BTC",
        window_days=window_days,
        source=source,
        total_btc=rounded(total_end, 8),
        change_btc=change_btc,
        change_pct=pct_change(change_btc, start_total),
        window_start=points.window_start.isoformat(),
        window_end=now.isoformat() if points.live and source != "cryptoquant" else points.end_day.isoformat(),
        net_flow_btc=net_flow,
        net_flow_positive=None if net_flow is None else net_flow > 0,
        by_exchange=rows,
        categories=_categories(rows),
        month_over_month=_month_over_month(points, total_at, total_end),
        year_to_date=period_change(
            f"since {points.year_start.isoformat()}",
            points.year_start,
            points.end_day,
            total_at(points.year_start),
            total_end,
        ),
        since=None
        if since is None
        else period_change(f"since {since.isoformat()}", since, points.end_day, total_at(since), total_end),
        coverage=_coverage(source, rows, book, onchain, total_end, keyed_per_exchange=keyed.per_exchange),
        cross_checks=checks,
        sources=prov.sources,
        warnings=prov.warnings,
    )


async def collect(deps: Deps) -> int:
    """Snapshot each exchange's labelled-wallet total now; exchanges with an unreadable wallet are skipped."""
    if deps.store is None:
        return 0
    prov = Provenance()
    book = _book(deps, prov)
    data = Onchain(book)
    await read_balances(deps, prov, data)
    now = deps.clock()
    rows = []
    for exchange, entries in book.by_exchange().items():
        if any(e.address in data.failed for e in entries):
            continue  # a partial total would read as coins leaving the exchange
        btc = data.now_btc(exchange)
        if btc is not None:
            rows.append(Observation(snapshot_key(exchange), now, btc, now))
    return await deps.store.upsert(rows)


async def backfill(deps: Deps, since: date, until: date) -> int:
    """Reconstruct each exchange's labelled-wallet total at every month end in [since, until] and at `until`."""
    if deps.store is None or since > until:
        return 0
    prov = Provenance()
    book = _book(deps, prov)
    days = {until}
    month_end = month_end_before(since.replace(day=1) + timedelta(days=32))
    while month_end <= until:
        if month_end >= since:
            days.add(month_end)
        month_end = month_end_before(month_end + timedelta(days=32))
    data = Onchain(book)
    await read_balances(deps, prov, data)
    return await fill_history(deps, prov, data, [end_of_day(d) for d in sorted(days)], deps.clock())


class ReservesArgs(ToolArgs):
    asset: AssetArg = "BTC"
    window_days: WindowArg = 30
    as_of: AsOfArg = None
    since: SinceArg = None


async def run(deps: Deps, args: ReservesArgs, pit: PointInTime) -> ExchangeReserves:
    return await compute_reserves(deps, args.asset, args.window_days, pit, args.since)


SPEC = ToolSpec(
    name="exchange_reserve_trend",
    title="Exchange BTC reserves",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=ReservesArgs,
    output=ExchangeReserves,
    run=run,
    collect=collect,
    backfill=backfill,
)
