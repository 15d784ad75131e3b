"""Esplora parser, pagination and balance reconstruction, on payloads in Esplora's exact format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from fetchers import esplora
from fetchers.errors import BadPayloadError
from fetchers.http import Http, HttpConfig
from server.settings import DEFAULT_BASE_URLS
from tests.fakes import FakeUpstream, base_urls
from tests.fakes.esplora import REAL_ADDRESS, make_tx, real_payload

pytestmark = pytest.mark.anyio

WALLET = "bc1qwalletxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx0"
OTHER = "1OtherPartyxxxxxxxxxxxxxxxxxxxxxx"
DAY = 86400
T0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())


@pytest.fixture
async def http(fake: FakeUpstream) -> AsyncIterator[Http]:
    config = HttpConfig(base_urls=base_urls(list(DEFAULT_BASE_URLS)), retries=0)
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        yield Http(client, config)


async def test_real_address_payload_parses_to_its_balance(http: Http) -> None:
    got = await esplora.fetch_balance(http, REAL_ADDRESS)
    body = real_payload()
    assert got.source == "mempool"
    assert got.value.funded_sats == 530775983880776
    assert got.value.spent_sats == 517774975978040
    assert got.value.tx_count == 338
    # 530,775,983,880,776 - 517,774,975,978,040 = 13,001,007,902,736 sats
    assert got.value.confirmed_sats == 13001007902736
    assert got.value.btc() == pytest.approx(130010.07902736)
    assert got.value.btc(include_mempool=True) == got.value.btc()  # mempool_stats are all zero in this capture
    assert body["chain_stats"]["funded_txo_sum"] - body["chain_stats"]["spent_txo_sum"] == 13001007902736


async def test_parser_rejects_drift(http: Http, fake: FakeUpstream) -> None:
    fake.handlers["mempool"] = lambda r, p: httpx.Response(200, json={"address": WALLET, "chain_stats": {}})
    fake.handlers["blockstream"] = fake.handlers["mempool"]
    with pytest.raises(BadPayloadError, match="mempool_stats"):
        await esplora.fetch_balance(http, WALLET)


async def test_mempool_falls_back_to_blockstream(http: Http, fake: FakeUpstream) -> None:
    fake.faults["mempool"] = lambda r, p: httpx.Response(503, text="down")
    got = await esplora.fetch_balance(http, REAL_ADDRESS)
    assert got.source == "blockstream"
    assert got.value.confirmed_sats == 13001007902736


def _build_history(fake: FakeUpstream, n: int) -> None:
    """n deposits of (i+1)*1,000 sats, one per day from T0; every 10th day the wallet also pays 500 out."""
    for i in range(n):
        when = T0 + i * DAY
        fake.esplora.add(WALLET, make_tx(f"{i:064x}", when, 800000 + i, [(OTHER, 10**8)], [(WALLET, (i + 1) * 1000)]))
        if i % 10 == 9:
            # spends a 1,000-sat output of the wallet: 500 to OTHER, 400 change back, 100 fee
            spend = make_tx(f"{10**6 + i:064x}", when + 60, 800000 + i, [(WALLET, 1000)], [(OTHER, 500), (WALLET, 400)])
            fake.esplora.add(WALLET, spend)


async def test_pagination_walks_25_per_page_with_last_seen_txid(http: Http, fake: FakeUpstream) -> None:
    _build_history(fake, 60)  # 60 deposits + 6 spends = 66 txs = pages of 25, 25, 16
    hist = await esplora.fetch_history(http, WALLET, datetime(2000, 1, 1, tzinfo=UTC), max_pages=10)
    assert hist.complete
    assert hist.pages == 3
    assert len(hist.txs) == 66
    assert len({t.txid for t in hist.txs}) == 66
    paths = [r.url.path for r in fake.requests if "/txs/chain" in r.url.path]
    assert paths[0].endswith(f"/api/address/{WALLET}/txs/chain")
    assert paths[1].endswith(f"/txs/chain/{hist.txs[24].txid}")
    assert paths[2].endswith(f"/txs/chain/{hist.txs[49].txid}")
    times = [t.block_time for t in hist.txs]
    assert times == sorted(times, reverse=True)


async def test_pagination_is_bounded_and_says_incomplete(http: Http, fake: FakeUpstream) -> None:
    _build_history(fake, 60)
    hist = await esplora.fetch_history(http, WALLET, datetime(2000, 1, 1, tzinfo=UTC), max_pages=2)
    assert not hist.complete
    assert hist.pages == 2
    assert len(hist.txs) == 50


async def test_pagination_stops_once_past_the_date(http: Http, fake: FakeUpstream) -> None:
    _build_history(fake, 60)
    until = datetime.fromtimestamp(T0 + 50 * DAY, UTC)  # within the first page (days 59..~39)
    hist = await esplora.fetch_history(http, WALLET, until, max_pages=10)
    assert hist.complete
    assert hist.pages == 1


async def test_reconstructed_balance_matches_hand_computation(http: Http, fake: FakeUpstream) -> None:
    _build_history(fake, 60)
    now = await esplora.fetch_balance(http, WALLET)
    # Hand count: deposits 1,000 * (1 + ... + 60) = 1,830,000; 6 spends of 1,000 with 400 change: -600 each.
    assert now.value.confirmed_sats == 1_830_000 - 6 * 600
    hist = await esplora.fetch_history(http, WALLET, datetime(2000, 1, 1, tzinfo=UTC), max_pages=10)
    # End of day index 19 (2025-01-20): deposits 1..20 -> 210,000 sats; spends on days 9 and 19 -> -1,200.
    end_of_day_19 = datetime.fromtimestamp(T0 + 20 * DAY - 1, UTC)
    assert esplora.balance_at(now.value.confirmed_sats, hist.txs, end_of_day_19) == 210_000 - 1_200
    # Before anything happened the wallet was empty.
    assert esplora.balance_at(now.value.confirmed_sats, hist.txs, datetime(2024, 12, 31, tzinfo=UTC)) == 0


async def test_tx_effect_reads_inputs_outputs_and_coinbase() -> None:
    tx = make_tx("ff" * 32, T0, 1, [(WALLET, 7000), (OTHER, 3000)], [(OTHER, 4000), (WALLET, 5500)])
    effect = esplora.tx_effect("mempool", WALLET, tx, 0)
    assert effect.delta_sats == 5500 - 7000
    assert effect.block_time == datetime.fromtimestamp(T0, UTC)
    coinbase = make_tx("ee" * 32, T0, 1, [], [(WALLET, 625_000_000)])
    coinbase["vin"] = [{"txid": "00" * 32, "vout": 4294967295, "prevout": None, "is_coinbase": True}]
    assert esplora.tx_effect("mempool", WALLET, coinbase, 0).delta_sats == 625_000_000
    unconfirmed = make_tx("dd" * 32, None, None, [], [(WALLET, 1)])
    assert esplora.tx_effect("mempool", WALLET, unconfirmed, 0).confirmed is False
