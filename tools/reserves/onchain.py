"""Exchange reserves from labelled wallets on-chain: current balances, snapshots and reconstructed past balances.

Balances come from Esplora with bounded concurrency. A past balance is read from the store's snapshots, else
rebuilt as today's confirmed balance minus every confirmed change after the date, from bounded history paging.
Complete rebuilds of days that ended more than a day ago are stored as snapshots, since deep history never changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from fetchers import esplora
from fetchers.address_book import AddressBook
from fetchers.concurrency import gather_all
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from store.base import Observation, SeriesKey
from tools.deps import Deps
from tools.history.at_or_before import as_of_value
from tools.provenance import Provenance

CONCURRENCY = 4  # simultaneous Esplora requests: polite to a public API with unpublished limits
MAX_PAGES_PER_ADDRESS = 4  # 100 confirmed txs back per wallet
PAGE_BUDGET = 1000  # Esplora history pages per call, all wallets together
SNAPSHOT_TOLERANCE = timedelta(hours=36)
FRESH_SNAPSHOT = timedelta(hours=1)  # a `collect` snapshot this recent stands for "now"
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
    # exchange -> (snapshot time, btc) used for "now" instead of reading its wallets
    now_snapshots: dict[str, tuple[datetime, float]] = field(default_factory=dict)

    def ok(self, exchange: str) -> list[str]:
        return [e.address for e in self.book.by_exchange()[exchange] if e.address in self.balances]

    def at(self, exchange: str, instant: datetime | None) -> float | None:
        """The exchange's balance at an instant already filled in, or now (instant None)."""
        if instant is None:
            if exchange in self.now_snapshots:
                return self.now_snapshots[exchange][1]
            return self.now_btc(exchange)
        return self.values.get(exchange, {}).get(instant)

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


async def use_snapshots(
    deps: Deps, data: Onchain, instants: Sequence[datetime], now: datetime, *, live: bool
) -> set[str]:
    """Exchanges whose every needed figure is in the store: they need no Esplora request at all."""
    served = set()
    for exchange in data.book.exchanges():
        fresh = None
        if live:
            row = (
                await as_of_value(deps.store, snapshot_key(exchange), now, max_age=FRESH_SNAPSHOT, known_at=None)
            ).observation
            if row is None:
                continue
            fresh = (row.ts, row.value)
        if all([await _snapshot(deps, exchange, instant) is not None for instant in instants]):
            served.add(exchange)
            if fresh is not None:
                data.now_snapshots[exchange] = fresh
    return served


async def read_balances(
    deps: Deps, prov: Provenance, data: Onchain, *, skip: frozenset[str] | set[str] = frozenset()
) -> None:
    """Current balances of every wallet, except those of the `skip` exchanges."""

    async def one(address: str) -> Fetched[esplora.AddressBalance] | None:
        try:
            got = await esplora.fetch_balance(deps.http, address)
        except UpstreamError as exc:
            data.failed[address] = f"{exc.source} {exc.kind} ({exc.message})"
            return None
        data.balances[address] = got.value
        return got

    read = [e.address for e in data.book.entries if e.exchange not in skip]
    fetched = await gather_all((partial(one, address) for address in read), limit=CONCURRENCY)
    prov.add(_collapse([f for f in fetched if f is not None]))
    for exchange, entries in data.book.by_exchange().items():
        bad = [e.address for e in entries if e.address in data.failed]
        if bad:
            prov.warn(
                f"{exchange}: {len(bad)} of {len(entries)} labelled wallets unavailable "
                f"({data.failed[bad[0]]}); its figures cover the other {len(entries) - len(bad)}"
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
