"""Esplora (mempool.space, blockstream.info fallback): keyless BTC address balances and transaction history.

GET /api/address/:addr -> {address, chain_stats{funded_txo_sum, spent_txo_sum, tx_count, ...}, mempool_stats{...}},
amounts in satoshis. Confirmed balance = chain_stats.funded_txo_sum - chain_stats.spent_txo_sum; the unconfirmed
part (mempool_stats) is kept separately and only added on request, since it can still be replaced or dropped.
GET /api/address/:addr/txs/chain[/:last_seen_txid] -> confirmed txs, newest first, 25 per page; a page fetched
with last_seen_txid lists only confirmed history below that tx, so it never changes and is cached for a day.
Rate limits are not published: callers bound concurrency and the number of pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from fetchers.errors import BadPayloadError, UpstreamError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, field, flag, integer, optional, s_json, text

SOURCES: tuple[str, ...] = ("mempool", "blockstream")
PAGE_SIZE = 25
SATS_PER_BTC = 100_000_000
BALANCE_TTL_S = 600.0
FIRST_PAGE_TTL_S = 600.0
CLOSED_PAGE_TTL_S = 86400.0

T = TypeVar("T")


@dataclass(frozen=True)
class AddressBalance:
    address: str
    funded_sats: int
    spent_sats: int
    tx_count: int
    mempool_funded_sats: int
    mempool_spent_sats: int

    @property
    def confirmed_sats(self) -> int:
        return self.funded_sats - self.spent_sats

    @property
    def mempool_delta_sats(self) -> int:
        return self.mempool_funded_sats - self.mempool_spent_sats

    def btc(self, *, include_mempool: bool = False) -> float:
        sats = self.confirmed_sats + (self.mempool_delta_sats if include_mempool else 0)
        return sats / SATS_PER_BTC


@dataclass(frozen=True)
class TxEffect:
    """What one transaction did to one address's balance."""

    txid: str
    confirmed: bool
    block_height: int | None
    block_time: datetime | None
    delta_sats: int  # received by the address minus spent from it


@dataclass(frozen=True)
class History:
    """Confirmed transactions newest first, down to `until` when `complete`, and the fetches made."""

    address: str
    txs: list[TxEffect]
    complete: bool  # covers every change after `until`
    ended: bool  # reached the first transaction of the address
    pages: int
    fetches: list[Fetched[list[TxEffect]]]


def _sats(source: str, value: object, what: str) -> int:
    """A JSON integer of satoshis (or a count), never negative."""
    amount = integer(source, value, what)
    if amount < 0:
        raise BadPayloadError(source, f"{what}: expected a non-negative integer, got {amount}")
    return amount


STATS = ("funded_txo_sum", "spent_txo_sum", "tx_count")


def address_parser(source: str) -> Callable[[httpx.Response], AddressBalance]:
    def parse(response: httpx.Response) -> AddressBalance:
        body = expect_dict(source, decode_json(response, source), "address")
        address = field(source, body, "address", "address", text)
        chain = field(source, body, "chain_stats", "address", expect_dict)
        pool = field(source, body, "mempool_stats", "address", expect_dict)
        c = {key: field(source, chain, key, "chain_stats", _sats) for key in STATS}
        p = {key: field(source, pool, key, "mempool_stats", _sats) for key in STATS}
        return AddressBalance(
            address=address,
            funded_sats=c["funded_txo_sum"],
            spent_sats=c["spent_txo_sum"],
            tx_count=c["tx_count"],
            mempool_funded_sats=p["funded_txo_sum"],
            mempool_spent_sats=p["spent_txo_sum"],
        )

    return parse


def _pays(source: str, out: dict[str, Any], address: str, what: str) -> int:
    """The sats an output pays to `address` (0 for another address, or an OP_RETURN output that has none)."""
    value = field(source, out, "value", what, _sats)
    return value if optional(source, out, "scriptpubkey_address", what, text) == address else 0


def tx_effect(source: str, address: str, raw: object, i: int) -> TxEffect:
    where = f"tx {i}"
    tx = expect_dict(source, raw, where)
    txid = field(source, tx, "txid", where, text)
    received = 0
    for j, out in enumerate(field(source, tx, "vout", where, expect_list)):
        received += _pays(source, expect_dict(source, out, f"{where} vout {j}"), address, f"{where} vout {j}")
    spent = 0
    for j, raw_vin in enumerate(field(source, tx, "vin", where, expect_list)):
        vin = expect_dict(source, raw_vin, f"{where} vin {j}")
        prevout = field(source, vin, "prevout", f"{where} vin {j}")
        if prevout is None:  # a coinbase input spends nothing
            continue
        what = f"{where} vin {j} prevout"
        spent += _pays(source, expect_dict(source, prevout, what), address, what)
    status = field(source, tx, "status", where, expect_dict)
    confirmed = field(source, status, "confirmed", f"{where} status", flag)
    return TxEffect(
        txid=txid,
        confirmed=confirmed,
        block_height=field(source, status, "block_height", f"{where} status", _sats) if confirmed else None,
        block_time=field(source, status, "block_time", f"{where} status", s_json) if confirmed else None,
        delta_sats=received - spent,
    )


def txs_parser(source: str, address: str) -> Callable[[httpx.Response], list[TxEffect]]:
    def parse(response: httpx.Response) -> list[TxEffect]:
        rows = expect_list(source, decode_json(response, source), "txs")
        return [tx_effect(source, address, raw, i) for i, raw in enumerate(rows)]

    return parse


async def _first_ok(
    http: Http, path: str, make_parse: Callable[[str], Callable[[httpx.Response], T]], ttl_s: float
) -> Fetched[T]:
    """mempool.space first, then blockstream.info: the same Esplora API on two independent hosts."""
    last: UpstreamError | None = None
    for source in SOURCES:
        try:
            return await http.get(source, path, make_parse(source), ttl_s=ttl_s)
        except UpstreamError as exc:
            last = exc
    assert last is not None
    raise last


async def fetch_balance(http: Http, address: str) -> Fetched[AddressBalance]:
    fetched = await _first_ok(http, f"/api/address/{address}", address_parser, BALANCE_TTL_S)
    if fetched.value.address != address:
        raise BadPayloadError(fetched.source, f"asked for {address} but the answer is about {fetched.value.address}")
    return fetched


async def fetch_history(http: Http, address: str, until: datetime, *, max_pages: int) -> History:
    """Confirmed txs newest first, paging until one is at or before `until`, the history ends, or max_pages."""
    txs: list[TxEffect] = []
    fetches: list[Fetched[list[TxEffect]]] = []
    last_seen: str | None = None
    pages = 0
    while pages < max_pages:
        path = f"/api/address/{address}/txs/chain" + (f"/{last_seen}" if last_seen else "")
        ttl = FIRST_PAGE_TTL_S if last_seen is None else CLOSED_PAGE_TTL_S
        fetched = await _first_ok(http, path, lambda source: txs_parser(source, address), ttl)
        page = fetched.value
        fetches.append(fetched)
        pages += 1
        txs.extend(page)
        if len(page) < PAGE_SIZE:
            return History(address, txs, True, True, pages, fetches)
        oldest = page[-1]
        if oldest.block_time is not None and oldest.block_time <= until:
            return History(address, txs, True, False, pages, fetches)
        last_seen = oldest.txid
    return History(address, txs, False, False, pages, fetches)


def balance_at(current_sats: int, txs: Sequence[TxEffect], when: datetime) -> int:
    """The confirmed balance at `when`: today's confirmed balance minus every confirmed change after it."""
    later = sum(t.delta_sats for t in txs if t.confirmed and t.block_time is not None and t.block_time > when)
    return current_sats - later
