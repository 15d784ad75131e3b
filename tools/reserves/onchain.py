"""Exchange reserves from labelled wallets on-chain: the cross-check of the keyless DefiLlama figures.

No tool call reads a wallet. `windvane collect` scans the address book (`scan`: at most COLLECT_WALLET_BUDGET
wallets, CONCURRENCY at once, a polite pause after each read) and stores each exchange's total as a snapshot;
`windvane backfill` rebuilds past month ends as today's confirmed balance minus every confirmed change after the
date, from bounded history paging (`fill_history`). The tool reads those snapshots from the store (`snapshot_at`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import anyio

from fetchers import esplora
from fetchers.address_book import AddressBook
from fetchers.concurrency import gather_all
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from store.base import Observation, SeriesKey
from tools.deps import Deps
from tools.history.at_or_before import as_of_value
from tools.provenance import Provenance

log = logging.getLogger("windvane.collect")
CONCURRENCY = 4  # simultaneous Esplora requests: polite to a public API with unpublished limits
COLLECT_WALLET_BUDGET = 600  # wallet reads per collect round (the packaged book has 441)
MAX_PAGES_PER_ADDRESS = 4  # 100 confirmed txs back per wallet
PAGE_BUDGET = 1000  # Esplora history pages per backfill run, all wallets together
SNAPSHOT_TOLERANCE = timedelta(hours=36)
FRESH_SNAPSHOT = timedelta(hours=1)  # a `collect` snapshot this recent cross-checks "now"
SNAPSHOT_METRIC = "balance_btc"


def snapshot_key(exchange: str) -> SeriesKey:
    return SeriesKey("onchain", SNAPSHOT_METRIC, "BTC", exchange)


@dataclass
class Onchain:
    book: AddressBook
    balances: dict[str, esplora.AddressBalance] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    # exchange -> {instant: btc or None}
    values: dict[str, dict[datetime, float | None]] = field(default_factory=dict)

    def ok(self, exchange: str) -> list[str]:
        return [e.address for e in self.book.by_exchange()[exchange] if e.address in self.balances]

    def now_btc(self, exchange: str) -> float | None:
        addresses = self.ok(exchange)
        if not addresses:
            return None
        return round(sum(self.balances[a].confirmed_sats for a in addresses) / esplora.SATS_PER_BTC, 8)


_ADDRESS_IN_PATH = re.compile(r"/api/address/[^/]+(/txs/chain)?(/[0-9a-fA-F]+)?$")


def _collapse(fetches: Sequence[Fetched[Any]]) -> list[Fetched[Any]]:
    """One source line per host and endpoint kind, not one per wallet: the oldest, most stale fetch stands for all."""
    worst: dict[str, Fetched[Any]] = {}
    stale: dict[str, int] = {}
    for f in fetches:
        endpoint = _ADDRESS_IN_PATH.sub(
            lambda m: "/api/address/:address" + ("/txs/chain[/:last_seen_txid]" if m.group(1) else ""), f.endpoint
        )
        stale[endpoint] = stale.get(endpoint, 0) + int(f.stale)
        known = worst.get(endpoint)
        if known is None or (f.stale, f.age_seconds) > (known.stale, known.age_seconds):
            worst[endpoint] = f
    out = []
    for endpoint, f in worst.items():
        reason = f.stale_reason
        if f.stale and stale[endpoint] > 1:
            reason = f"{stale[endpoint]} wallets served stale; last error {reason}"
        out.append(replace(f, value=None, endpoint=endpoint, stale_reason=reason))
    return out


async def snapshot_at(
    deps: Deps, book: AddressBook, at: datetime, max_age: timedelta
) -> dict[str, tuple[datetime, float]]:
    """Each exchange's stored snapshot in force at `at` (time, BTC): the store only, never Esplora."""
    out = {}
    for exchange in book.exchanges():
        found = (await as_of_value(deps.store, snapshot_key(exchange), at, max_age=max_age, known_at=None)).observation
        if found is not None:
            out[exchange] = (found.ts, found.value)
    return out


async def read_balances(
    deps: Deps, prov: Provenance, data: Onchain, *, budget: int | None = None, delay_s: float = 0.0
) -> None:
    """Current balances of the book's wallets, in book order: at most `budget` of them (the rest are marked
    unread), CONCURRENCY at once, each worker pausing `delay_s` after a read."""

    async def one(address: str) -> Fetched[esplora.AddressBalance] | None:
        try:
            got = await esplora.fetch_balance(deps.http, address)
        except UpstreamError as exc:
            data.failed[address] = f"{exc.source} {exc.kind} ({exc.message})"
            return None
        finally:
            if delay_s > 0:
                await anyio.sleep(delay_s)
        data.balances[address] = got.value
        return got

    entries = data.book.entries
    read = [e.address for e in (entries if budget is None else entries[:budget])]
    for entry in entries[len(read) :]:
        data.failed[entry.address] = f"not read: over the budget of {budget} wallets per round"
    fetched = await gather_all((partial(one, address) for address in read), limit=CONCURRENCY)
    prov.add(_collapse([f for f in fetched if f is not None]))
    for exchange, book_entries in data.book.by_exchange().items():
        bad = [e.address for e in book_entries if e.address in data.failed]
        if bad:
            prov.warn(
                f"{exchange}: {len(bad)} of {len(book_entries)} labelled wallets unavailable "
                f"({data.failed[bad[0]]}); its figures cover the other {len(book_entries) - len(bad)}"
            )


async def _snapshot(deps: Deps, exchange: str, instant: datetime) -> float | None:
    # A reconstruction stored later still describes `instant`: past balances never change, so no known_at bound.
    found = await as_of_value(deps.store, snapshot_key(exchange), instant, max_age=SNAPSHOT_TOLERANCE, known_at=None)
    return None if found.observation is None else found.observation.value


async def fill_history(deps: Deps, prov: Provenance, data: Onchain, instants: Sequence[datetime], now: datetime) -> int:
    """Fill data.values for each exchange at each instant: snapshot, else reconstruction, else None.

    Returns how many reconstructed values were stored as snapshots."""
    needs = await _from_snapshots(deps, data, instants)
    if not needs:
        return 0
    histories = await _histories(deps, prov, data, needs)
    to_store: list[Observation] = []
    for exchange, wanted in needs.items():
        to_store += _reconstruct(deps, prov, data, exchange, wanted, histories, now)
    if to_store and deps.store is not None:
        return await deps.store.upsert(to_store)
    return 0


async def _from_snapshots(deps: Deps, data: Onchain, instants: Sequence[datetime]) -> dict[str, list[datetime]]:
    """Fill what the store's snapshots answer; return, per exchange, the instants still to reconstruct."""
    needs: dict[str, list[datetime]] = {}
    for exchange in data.book.exchanges():
        data.values[exchange] = {}
        for instant in instants:
            snap = await _snapshot(deps, exchange, instant)
            if snap is not None:
                data.values[exchange][instant] = snap
            else:
                needs.setdefault(exchange, []).append(instant)
    return needs


async def _histories(
    deps: Deps, prov: Provenance, data: Onchain, needs: dict[str, list[datetime]]
) -> dict[str, esplora.History | None]:
    """Confirmed histories back to the oldest instant needed, within the page budget of one call."""
    oldest = min(min(v) for v in needs.values())
    budget = {"pages": PAGE_BUDGET}
    histories: dict[str, esplora.History | None] = {}

    async def one(address: str) -> list[Fetched[list[esplora.TxEffect]]]:
        if budget["pages"] <= 0:
            histories[address] = None
            return []
        pages = min(MAX_PAGES_PER_ADDRESS, budget["pages"])
        budget["pages"] -= pages
        try:
            hist = await esplora.fetch_history(deps.http, address, oldest, max_pages=pages)
        except UpstreamError as exc:
            prov.failed(f"transaction history of {address}", exc)
            histories[address] = None
            return []
        budget["pages"] += pages - hist.pages  # give back what was not needed
        histories[address] = hist
        return hist.fetches

    paged = []
    for exchange in needs:
        for address in data.ok(exchange):
            if data.balances[address].tx_count == 0:
                histories[address] = esplora.History(address, [], True, True, 0, [])  # never used: nothing to page
            else:
                paged.append(address)
    fetches = await gather_all((partial(one, address) for address in paged), limit=CONCURRENCY)
    prov.add(_collapse([f for page in fetches for f in page]))
    return histories


def _reconstruct(
    deps: Deps,
    prov: Provenance,
    data: Onchain,
    exchange: str,
    wanted: Sequence[datetime],
    histories: dict[str, esplora.History | None],
    now: datetime,
) -> list[Observation]:
    """The exchange's balance at each wanted instant as now minus the later confirmed changes; what to store."""
    addresses = data.ok(exchange)
    short: dict[date, int] = {}
    to_store = []
    for instant in wanted:
        total = 0
        missing = 0
        for address in addresses:
            hist = histories.get(address)
            if hist is not None and hist.ended and len(hist.txs) != data.balances[address].tx_count:
                prov.warn(
                    f"{address}: history lists {len(hist.txs)} txs but chain_stats count "
                    f"{data.balances[address].tx_count}; its past balance is not trusted"
                )
                hist = None
            if hist is None or not _covers(hist, instant):
                missing += 1
                continue
            total += esplora.balance_at(data.balances[address].confirmed_sats, hist.txs, instant)
        if missing or not addresses:
            data.values[exchange][instant] = None
            short[instant.date()] = missing
            continue
        btc = round(total / esplora.SATS_PER_BTC, 8)
        data.values[exchange][instant] = btc
        # A day that ended more than a day ago sits under ~144 blocks: its reconstruction will not change.
        if deps.store is not None and not data.failed and instant < now - timedelta(days=1):
            to_store.append(Observation(snapshot_key(exchange), instant, btc, now))
    if short:
        days = ", ".join(d.isoformat() for d in sorted(short))
        prov.warn(
            f"{exchange}: past balance unavailable on {days}: history incomplete for up to "
            f"{max(short.values())} of {len(addresses)} wallets (bounded to {MAX_PAGES_PER_ADDRESS} pages each, "
            f"{PAGE_BUDGET} per call); run `windvane collect` regularly to build snapshots"
        )
    return to_store


def _covers(hist: esplora.History, instant: datetime) -> bool:
    """True when every confirmed change after `instant` is in the fetched history."""
    if hist.complete:
        return True
    oldest = min((t.block_time for t in hist.txs if t.block_time is not None), default=None)
    return oldest is not None and oldest <= instant


async def scan(deps: Deps, book: AddressBook) -> int:
    """`windvane collect`: read the book's wallets now and store each exchange's total as a snapshot. An exchange
    with an unread wallet is skipped: a partial total would read as coins leaving it."""
    if deps.store is None:
        return 0
    prov = Provenance()
    data = Onchain(book)
    await read_balances(deps, prov, data, budget=COLLECT_WALLET_BUDGET, delay_s=deps.config.wallet_scan_delay_s)
    for warning in prov.warnings:
        log.warning("exchange wallet scan: %s", warning)
    now = deps.clock()
    rows = []
    for exchange, entries in book.by_exchange().items():
        if any(e.address in data.failed for e in entries):
            continue
        btc = data.now_btc(exchange)
        if btc is not None:
            rows.append(Observation(snapshot_key(exchange), now, btc, now))
    return await deps.store.upsert(rows)
