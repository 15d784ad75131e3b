"""exchange_reserve_trend: BTC held on exchanges, per exchange, over time.

Keyless by default: balances of labelled exchange wallets (fetchers/address_book) read from Esplora. Past balances
come from the store's snapshots (`windvane collect`) or are reconstructed from each wallet's confirmed history.
With keys, CryptoQuant gives the all-exchange reserve and netflow, and CoinGlass the per-exchange balances
(including Coinbase); they are preferred for coverage and cross-checked against the on-chain figures.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver import Context
from pydantic import Field

from fetchers import address_book, coinglass_exchange, cryptoquant
from fetchers.address_book import AddressBook, AddressBookError
from fetchers.errors import NotConfiguredError, UpstreamError
from fetchers.http import Fetched
from schemas.reserves import (
    CategoryShare,
    Coverage,
    CoverageExchange,
    CrossCheck,
    ExchangeReserve,
    ExchangeReserves,
    MonthOverMonth,
    PeriodChange,
)
from store.base import Observation
from tools.common import (
    AsOfArg,
    AssetArg,
    Deps,
    InputError,
    Provenance,
    bar_cutoff,
    deps_from,
    parse_as_of,
    rounded,
    tool_error,
)
from tools.onchain_reserves import Onchain, fill_history, read_balances, snapshot_key

T = TypeVar("T")

# Venues the address book does not list but CoinGlass reports; the same institutional/retail/derivatives reading.
KNOWN_CATEGORIES = {
    "coinbase": "institutional",
    "coinbasepro": "institutional",
    "gemini": "institutional",
    "bitstamp": "institutional",
    "kraken": "institutional",
    "bitfinex": "institutional",
    "binance": "retail",
    "okx": "retail",
    "bitget": "retail",
    "htx": "retail",
    "huobi": "retail",
    "gate": "retail",
    "mexc": "retail",
    "cryptocom": "retail",
    "kucoin": "retail",
    "robinhood": "retail",
    "bybit": "derivatives",
    "deribit": "derivatives",
    "bitmex": "derivatives",
}

WindowArg = Annotated[int, Field(ge=1, le=365, description="Days the change is measured over (1-365).")]
SinceArg = Annotated[
    str | None,
    Field(description="Optional ISO date: also report the change since the end of that UTC day."),
]

TOOL_NAME = "exchange_reserve_trend"
TITLE = "Exchange BTC reserves"
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
- Categories (windvane's reading of each venue): institutional = Coinbase, Kraken, Bitfinex, Gemini, Bitstamp;
  derivatives = Bybit, Deribit, BitMEX; retail = the rest (Binance, OKX, Bitget, HTX, Gate, MEXC, Crypto.com, ...).
"""


# Vendor spellings of the same venue, so a cross-check pairs them (names compared lower-case, alphanumerics only).
ALIASES = {"gateio": "gate", "huobi": "htx", "okex": "okx", "binance2": "binance"}


def _norm(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return ALIASES.get(key, key)


def _pct(change: float | None, start: float | None) -> float | None:
    if change is None or start is None or start == 0:
        return None
    return round(100 * change / start, 6)


def _diff(end: float | None, start: float | None) -> float | None:
    return None if end is None or start is None else round(end - start, 8)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _month_end_before(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


async def _try(prov: Provenance, what: str, call: Callable[[], Awaitable[T]]) -> T | None:
    try:
        return await call()
    except NotConfiguredError:
        return None  # keyed sources are optional; their absence is not a warning
    except UpstreamError as exc:
        prov.failed(what, exc)
        return None


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


def _value_on(rows: Sequence[cryptoquant.DailyValue], day: date) -> float | None:
    for row in rows:
        if row.day == day:
            return row.value
    return None


def _chart_value(chart: coinglass_exchange.BalanceChart, exchange: str, instant: datetime) -> float | None:
    series = chart.by_exchange.get(exchange)
    if series is None:
        return None
    best: float | None = None
    for when, value in zip(chart.times, series, strict=True):
        if when <= instant and value is not None:
            best = value
    return best


# -- assembly ------------------------------------------------------------------------------------------------------


def _period(label: str, start_day: date, end_day: date, start: float | None, end: float | None) -> PeriodChange:
    change = _diff(end, start)
    return PeriodChange(
        label=label,
        start_date=start_day.isoformat(),
        end_date=end_day.isoformat(),
        start_btc=rounded(start, 8),
        end_btc=rounded(end, 8),
        change_btc=change,
        change_pct=_pct(change, start),
    )


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


def _category(book: AddressBook, exchange: str) -> str | None:
    return book.category_of(exchange) or KNOWN_CATEGORIES.get(_norm(exchange))


async def compute_reserves(
    deps: Deps, asset: str, window_days: int, as_of_raw: str | None, since_raw: str | None = None
) -> ExchangeReserves:
    if asset.upper() != "BTC":
        raise InputError(f"exchange_reserve_trend supports asset 'BTC' only (got {asset!r}); ETH is not tracked")
    if not 1 <= window_days <= 365:
        raise InputError(f"window_days={window_days} is out of range; use 1-365")
    now = deps.clock()
    as_of = parse_as_of(as_of_raw, now)
    cutoff = bar_cutoff(as_of, now)
    end_day = (cutoff - timedelta(days=1)).date()
    since = None
    if since_raw:
        try:
            since = date.fromisoformat(since_raw.strip())
        except ValueError:
            raise InputError(f"since {since_raw!r} is not an ISO date; use e.g. '2024-12-31'") from None
        if since >= end_day:
            raise InputError(f"since {since_raw!r} must be before the answer's end day {end_day.isoformat()}")
    points = Points(
        end_day=end_day,
        end=now if as_of is None else _end_of(end_day),
        live=as_of is None,
        window_start=end_day - timedelta(days=window_days),
        month_prev_end=_month_end_before(end_day),
        month_prev_prev_end=_month_end_before(_month_end_before(end_day)),
        year_start=date(end_day.year - 1, 12, 31),
        since=since,
    )
    prov = Provenance()
    settings = deps.extra.get("settings")
    try:
        book = address_book.load(getattr(settings, "address_book_path", None))
    except AddressBookError as exc:
        prov.warn(f"user address book ignored: {exc}")
        book = address_book.load(None)

    # Keyed sources first (cheap, one request each), then the on-chain wallets.
    first_day = min(points.days())
    results: dict[str, Any] = {}

    async def cq_reserve() -> None:
        results["cq_reserve"] = await _try(
            prov,
            "CryptoQuant reserve",
            lambda: cryptoquant.fetch_reserve(deps.http, first_day, end_day, today=now.date()),
        )

    async def cq_netflow() -> None:
        results["cq_netflow"] = await _try(
            prov,
            "CryptoQuant netflow",
            lambda: cryptoquant.fetch_netflow(
                deps.http, points.window_start + timedelta(days=1), end_day, today=now.date()
            ),
        )

    async def cg_list() -> None:
        if points.live:
            results["cg_list"] = await _try(
                prov, "CoinGlass balance list", lambda: coinglass_exchange.fetch_balance_list(deps.http)
            )

    async def cg_chart() -> None:
        results["cg_chart"] = await _try(
            prov, "CoinGlass balance chart", lambda: coinglass_exchange.fetch_balance_chart(deps.http)
        )

    async with anyio.create_task_group() as tg:
        for task in (cq_reserve, cq_netflow, cg_list, cg_chart):
            tg.start_soon(task)

    onchain = Onchain(book)
    await read_balances(deps, prov, onchain)
    keyed_per_exchange = results.get("cg_list") is not None or results.get("cg_chart") is not None
    if keyed_per_exchange:
        # CoinGlass answers per exchange; the wallets are only a cross-check of the end figure.
        instants = [] if points.live else [_end_of(end_day)]
    else:
        instants = [_end_of(d) for d in points.days() if d != end_day or not points.live]
    window_start_at = _end_of(points.window_start)
    await fill_history(deps, prov, onchain, instants, now)

    def onchain_at(exchange: str, instant: datetime | None) -> float | None:
        if instant is None:  # live
            return onchain.now_btc(exchange)
        return onchain.values.get(exchange, {}).get(instant)

    end_instant = None if points.live else _end_of(end_day)

    # Per exchange: CoinGlass when configured (it covers Coinbase), else the labelled wallets.
    cg_list_f: Fetched[list[coinglass_exchange.ExchangeBalance]] | None = results.get("cg_list")
    cg_chart_f: Fetched[coinglass_exchange.BalanceChart] | None = results.get("cg_chart")
    rows: list[ExchangeReserve] = []
    onchain_rows: list[ExchangeReserve] = []
    by_ex = book.by_exchange()
    for exchange in book.exchanges():
        end_v = onchain_at(exchange, end_instant)
        start_v = onchain_at(exchange, window_start_at)
        change = _diff(end_v, start_v)
        onchain_rows.append(
            ExchangeReserve(
                exchange=exchange,
                btc=end_v,
                change_btc=change,
                change_pct=_pct(change, start_v),
                category=book.category_of(exchange),
                source="onchain",
                addresses_ok=len(onchain.ok(exchange)),
                addresses_total=len(by_ex[exchange]),
            )
        )
    if cg_chart_f is not None or cg_list_f is not None:
        names: set[str] = set()
        if cg_chart_f is not None:
            prov.add(cg_chart_f)
            names |= set(cg_chart_f.value.by_exchange)
        listed = {}
        if cg_list_f is not None:
            prov.add(cg_list_f)
            listed = {b.exchange: b for b in cg_list_f.value}
            names |= set(listed)
        for name in sorted(names):
            end_cg = listed[name].btc if name in listed else None
            if end_cg is None and cg_chart_f is not None:
                end_cg = _chart_value(cg_chart_f.value, name, points.end)
            start_cg = None
            if points.live and name in listed and window_days in (1, 7, 30):
                # Live: CoinGlass's own 1/7/30-day change, consistent with its current balance.
                b = listed[name]
                delta = {1: b.change_1d, 7: b.change_7d, 30: b.change_30d}[window_days]
                start_cg = None if delta is None or end_cg is None else end_cg - delta
            elif cg_chart_f is not None:
                start_cg = _chart_value(cg_chart_f.value, name, window_start_at)
            change = _diff(end_cg, start_cg)
            rows.append(
                ExchangeReserve(
                    exchange=name,
                    btc=rounded(end_cg, 8),
                    change_btc=change,
                    change_pct=_pct(change, start_cg),
                    category=_category(book, name),
                    source="coinglass",
                )
            )
        per_exchange_source = "coinglass"
    else:
        rows = onchain_rows
        per_exchange_source = "onchain"

    cross_checks = []
    if per_exchange_source == "coinglass":
        keyed = {_norm(r.exchange): r for r in rows}
        for r in onchain_rows:
            k = keyed.get(_norm(r.exchange))
            if k is None or k.btc is None or r.btc is None or k.btc == 0:
                continue
            diff_pct = round(100 * (r.btc / k.btc - 1), 6)
            cross_checks.append(
                CrossCheck(
                    exchange=r.exchange, onchain_btc=r.btc, keyed_btc=k.btc, keyed_source="coinglass", diff_pct=diff_pct
                )
            )
            if abs(diff_pct) > 50:
                prov.warn(
                    f"{r.exchange}: labelled wallets hold {r.btc:,.0f} BTC vs CoinGlass {k.btc:,.0f} "
                    f"({diff_pct:+.1f}%); the public address list is partial"
                )

    # Totals: CryptoQuant (all exchanges) when configured, else the per-exchange sum.
    cq_res: Fetched[list[cryptoquant.DailyValue]] | None = results.get("cq_reserve")
    cq_net: Fetched[list[cryptoquant.DailyValue]] | None = results.get("cq_netflow")
    total_at: Callable[[date], float | None]
    if cq_res is not None:
        prov.add(cq_res)
        series = cq_res.value
        source = "cryptoquant"

        def total_at(day: date) -> float | None:
            value = _value_on(series, day)
            if value is None:
                prov.warn(f"CryptoQuant reserve has no row for {day.isoformat()}")
            return value

        total_end = total_at(end_day)
    else:
        source = per_exchange_source
        by_day: dict[date, float | None] = {}
        for day in points.days():
            vals = []
            for r in rows if source == "coinglass" else onchain_rows:
                if source == "coinglass":
                    assert cg_chart_f is not None or cg_list_f is not None
                    v = (
                        _chart_value(cg_chart_f.value, r.exchange, _end_of(day))
                        if cg_chart_f is not None and (day != end_day or not points.live)
                        else r.btc
                    )
                else:
                    v = onchain_at(r.exchange, None if (day == end_day and points.live) else _end_of(day))
                vals.append(v)
            known = [v for v in vals if v is not None]
            by_day[day] = round(sum(known), 8) if known and len(known) == len(vals) else None

        def total_at(day: date) -> float | None:
            return by_day.get(day)

        total_end = total_at(end_day)

    start_total = total_at(points.window_start)
    change_btc = _diff(total_end, start_total)
    if total_end is None:
        prov.warn("total_btc unavailable: no source gave the reserve at the end of the window")
    elif change_btc is None:
        prov.warn(f"change unavailable: no reserve for the window start {points.window_start.isoformat()}")

    # Net flow: CryptoQuant's netflow over the window's days, else the tracked balance change.
    net_flow = None
    if cq_net is not None:
        prov.add(cq_net)
        days = {points.window_start + timedelta(days=i) for i in range(1, window_days + 1)}
        got = [r for r in cq_net.value if r.day in days]
        if len(got) == window_days:
            net_flow = round(sum(r.value for r in got), 8)
        else:
            prov.warn(f"CryptoQuant netflow has {len(got)} of {window_days} days; net_flow_btc unavailable")
    elif change_btc is not None:
        net_flow = change_btc

    mom_this = _period(
        end_day.strftime("%Y-%m"),
        points.month_prev_end,
        end_day,
        total_at(points.month_prev_end),
        total_end,
    )
    mom_prev = _period(
        points.month_prev_end.strftime("%Y-%m"),
        points.month_prev_prev_end,
        points.month_prev_end,
        total_at(points.month_prev_prev_end),
        total_at(points.month_prev_end),
    )
    month_over_month = MonthOverMonth(
        this_month=mom_this,
        previous_month=mom_prev,
        difference_btc=_diff(mom_this.change_btc, mom_prev.change_btc),
    )
    ytd = _period(
        f"since {points.year_start.isoformat()}", points.year_start, end_day, total_at(points.year_start), total_end
    )
    since_change = (
        _period(f"since {since.isoformat()}", since, end_day, total_at(since), total_end) if since is not None else None
    )

    figures = [r.btc for r in rows]
    # Shares of a total with an unknown member would be wrong for every exchange: all or nothing.
    tracked_total = round(sum(v for v in figures if v is not None), 8) if figures and None not in figures else None
    coverage = Coverage(
        source=source,
        exchanges=[
            CoverageExchange(
                exchange=r.exchange,
                source=r.source,
                btc=r.btc,
                share_pct=None if r.btc is None or not tracked_total else round(100 * r.btc / tracked_total, 6),
            )
            for r in rows
        ],
        tracked_total_btc=tracked_total,
        share_of_all_exchanges_pct=(
            round(100 * tracked_total / total_end, 6)
            if source == "cryptoquant" and tracked_total is not None and total_end
            else None
        ),
        not_covered={} if per_exchange_source == "coinglass" else dict(book.not_covered),
        addresses_total=len(book.entries),
        addresses_ok=len(onchain.balances),
        complete=not onchain.failed and all(r.btc is not None for r in rows),
    )
    if per_exchange_source == "onchain" and "coinbase" in book.not_covered:
        prov.warn("Coinbase is not covered keyless (its wallets are not in public lists); set a CoinGlass key")
    return ExchangeReserves(
        as_of=as_of or now,
        asset="BTC",
        window_days=window_days,
        source=source,
        total_btc=rounded(total_end, 8),
        change_btc=change_btc,
        change_pct=_pct(change_btc, start_total),
        window_start=points.window_start.isoformat(),
        window_end=end_day.isoformat() if not points.live or source == "cryptoquant" else now.isoformat(),
        net_flow_btc=net_flow,
        net_flow_positive=None if net_flow is None else net_flow > 0,
        by_exchange=rows,
        categories=_categories(rows),
        month_over_month=month_over_month,
        year_to_date=ytd,
        since=since_change,
        coverage=coverage,
        cross_checks=cross_checks,
        sources=prov.sources,
        warnings=prov.warnings,
    )


async def collect(deps: Deps) -> int:
    """Snapshot each exchange's labelled-wallet total now; exchanges with an unreadable wallet are skipped."""
    if deps.store is None:
        return 0
    settings = deps.extra.get("settings")
    book = address_book.load(getattr(settings, "address_book_path", None))
    prov = Provenance()
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
    settings = deps.extra.get("settings")
    book = address_book.load(getattr(settings, "address_book_path", None))
    days = {until}
    month_end = _month_end_before(since.replace(day=1) + timedelta(days=32))
    while month_end <= until:
        if month_end >= since:
            days.add(month_end)
        month_end = _month_end_before(month_end + timedelta(days=32))
    prov = Provenance()
    data = Onchain(book)
    await read_balances(deps, prov, data)
    return await fill_history(deps, prov, data, [_end_of(d) for d in sorted(days)], deps.clock())


async def exchange_reserve_trend(
    ctx: Context[Any, Any],
    asset: AssetArg = "BTC",
    window_days: WindowArg = 30,
    as_of: AsOfArg = None,
    since: SinceArg = None,
) -> ExchangeReserves:
    try:
        return await compute_reserves(deps_from(ctx), asset, window_days, as_of, since)
    except InputError as exc:
        raise tool_error(exc) from None
