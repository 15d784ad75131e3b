"""exchange_reserve_trend through the in-memory MCP client: real CryptoQuant data, categories, coverage, faults."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fetchers.address_book import load
from tests.conftest import make_settings
from tests.fakes import FakeUpstream
from tests.fakes.cryptoquant import KEY, netflow_csv, reserve_csv
from tests.fakes.esplora import REAL_ADDRESS, make_tx

pytestmark = pytest.mark.anyio

OTHER = "1OtherPartyxxxxxxxxxxxxxxxxxxxxxx"
BOOK = load()
KRAKEN = [e.address for e in BOOK.entries if e.exchange == "kraken"]
BINANCE = [e.address for e in BOOK.entries if e.exchange == "binance"]
DERIBIT = [e.address for e in BOOK.entries if e.exchange == "deribit"]


def ts(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def deposit(fake: FakeUpstream, address: str, sats: int, day: str, n: int) -> None:
    fake.esplora.add(
        address, make_tx(f"{n:064x}", ts(day) + 3600, 900000 + n, [(OTHER, sats + 1000)], [(address, sats)])
    )


def withdraw(fake: FakeUpstream, address: str, sats: int, day: str, n: int) -> None:
    # spends an earlier output of `sats` entirely to an outside address
    fake.esplora.add(
        address, make_tx(f"{n:064x}", ts(day) + 7200, 900000 + n, [(address, sats)], [(OTHER, sats - 500)])
    )


def keyed(tmp_path: Path, **keys: str):
    return make_settings(tmp_path, api_keys=keys)


async def call(make_client, args: dict, **kw) -> dict:
    async with make_client(**kw) as client:
        result = await client.call_tool("exchange_reserve_trend", args)
    assert not result.is_error, result.content
    return result.structured_content


# -- real data: CryptoQuant's all-exchange reserve served in its API format -----------------------------------------


async def test_cryptoquant_november_2025_month_over_month_matches_csv(make_client, tmp_path: Path) -> None:
    out = await call(
        make_client,
        {"as_of": "2025-11-30", "window_days": 30},
        settings_=keyed(tmp_path, cryptoquant=KEY),
        now=datetime(2025, 12, 15, tzinfo=UTC),
    )
    r = reserve_csv()
    assert out["source"] == "cryptoquant"
    assert out["total_btc"] == pytest.approx(r[date(2025, 11, 30)])
    assert round(out["total_btc"]) == 2_772_937  # the PROVENANCE figure
    mom = out["month_over_month"]
    assert mom["this_month"]["start_date"] == "2025-10-31"
    assert round(mom["this_month"]["start_btc"]) == 2_767_865
    assert mom["this_month"]["change_btc"] == pytest.approx(r[date(2025, 11, 30)] - r[date(2025, 10, 31)], abs=1e-6)
    assert mom["this_month"]["change_btc"] == pytest.approx(5071.67, abs=0.01)
    assert mom["previous_month"]["change_btc"] == pytest.approx(r[date(2025, 10, 31)] - r[date(2025, 9, 30)], abs=1e-6)
    assert mom["difference_btc"] == pytest.approx(
        (r[date(2025, 11, 30)] - r[date(2025, 10, 31)]) - (r[date(2025, 10, 31)] - r[date(2025, 9, 30)]), abs=1e-6
    )
    # 30-day window = November exactly; net flow over the same 30 days from the netflow CSV
    assert out["change_btc"] == pytest.approx(r[date(2025, 11, 30)] - r[date(2025, 10, 31)], abs=1e-6)
    nf = sum(netflow_csv()[date(2025, 11, 1) + timedelta(days=i)] for i in range(30))
    assert out["net_flow_btc"] == pytest.approx(nf, abs=1e-6)
    assert out["net_flow_positive"] is (nf > 0)
    # CryptoQuant's reserve is its cumulative netflow: November's netflow sum equals the reserve change (+5,071.67).
    assert out["net_flow_btc"] == pytest.approx(out["change_btc"], abs=1e-3)
    assert out["net_flow_positive"] is True


async def test_cryptoquant_end_2024_to_2025_11_24_matches_csv(make_client, fake, tmp_path: Path) -> None:
    _seed_onchain(fake)
    fake.esplora.txs[REAL_ADDRESS] = []
    out = await call(
        make_client,
        {"as_of": "2025-11-24", "window_days": 7, "since": "2025-11-21"},
        settings_=keyed(tmp_path, cryptoquant=KEY),
    )
    r = reserve_csv()
    ytd = out["year_to_date"]
    assert ytd["start_date"] == "2024-12-31"
    assert ytd["end_date"] == "2025-11-24"
    assert ytd["change_btc"] == pytest.approx(r[date(2025, 11, 24)] - r[date(2024, 12, 31)], abs=1e-6)
    assert ytd["change_btc"] == pytest.approx(-184_971.09, abs=0.01)
    assert ytd["change_pct"] == pytest.approx(100 * ytd["change_btc"] / r[date(2024, 12, 31)], abs=1e-6)
    since = out["since"]
    assert round(since["start_btc"]) == 2_781_223  # 2025-11-21, the PROVENANCE figure
    assert since["change_btc"] == pytest.approx(r[date(2025, 11, 24)] - r[date(2025, 11, 21)], abs=1e-6)
    assert out["change_btc"] == pytest.approx(r[date(2025, 11, 24)] - r[date(2025, 11, 17)], abs=1e-6)
    # coverage: the labelled wallets' total as a share of CryptoQuant's all-exchange reserve
    cov = out["coverage"]
    assert cov["source"] == "cryptoquant"
    assert cov["tracked_total_btc"] == pytest.approx(770)
    assert cov["share_of_all_exchanges_pct"] == pytest.approx(100 * 770 / r[date(2025, 11, 24)], abs=1e-6)


async def test_unknown_exchange_makes_shares_unknown_not_partial(make_client, tmp_path: Path) -> None:
    # The real Bitfinex wallet has no history here, so Bitfinex at 2025-11-24 is unknown.
    out = await call(make_client, {"as_of": "2025-11-24"}, settings_=keyed(tmp_path, cryptoquant=KEY))
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["bitfinex"]["btc"] is None
    assert out["coverage"]["tracked_total_btc"] is None
    assert out["coverage"]["share_of_all_exchanges_pct"] is None
    institutional = {c["category"]: c for c in out["categories"]}["institutional"]
    assert institutional["btc"] is None
    assert out["total_btc"] == pytest.approx(reserve_csv()[date(2025, 11, 24)])  # CryptoQuant is unaffected


async def test_cryptoquant_key_missing_means_keyless_onchain(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-24"})
    assert out["source"] == "onchain"
    assert all(s["name"] != "cryptoquant" for s in out["sources"])


# -- on-chain: categories, coverage, reconstruction ----------------------------------------------------------------


def _seed_onchain(fake: FakeUpstream) -> None:
    """Kraken (institutional) gains, Binance (retail) loses, Deribit (derivatives) steady, over November 2025."""
    deposit(fake, KRAKEN[0], 300 * 10**8, "2025-06-01", 1)
    deposit(fake, KRAKEN[1], 50 * 10**8, "2025-11-10", 2)
    deposit(fake, BINANCE[0], 1000 * 10**8, "2025-03-01", 3)
    withdraw(fake, BINANCE[0], 1000 * 10**8, "2025-11-12", 4)
    deposit(fake, BINANCE[1], 400 * 10**8, "2025-11-13", 5)
    deposit(fake, DERIBIT[0], 20 * 10**8, "2025-01-05", 6)


async def test_onchain_category_split_and_coverage(make_client, fake: FakeUpstream) -> None:
    _seed_onchain(fake)
    out = await call(make_client, {"window_days": 30})  # live: balances now, the window start reconstructed
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["kraken"]["btc"] == pytest.approx(350)
    assert rows["kraken"]["change_btc"] == pytest.approx(50)
    assert rows["kraken"]["category"] == "institutional"
    assert rows["binance"]["btc"] == pytest.approx(400)
    assert rows["binance"]["change_btc"] == pytest.approx(-600)
    assert rows["binance"]["change_pct"] == pytest.approx(-60)
    assert rows["deribit"]["category"] == "derivatives"
    bitfinex = 130010.07902736  # the real captured cold-wallet payload, no history configured
    assert rows["bitfinex"]["btc"] == pytest.approx(bitfinex)
    cats = {c["category"]: c for c in out["categories"]}
    tracked = 350 + 400 + 20 + bitfinex
    assert cats["institutional"]["btc"] == pytest.approx(350 + bitfinex)
    assert cats["retail"]["btc"] == pytest.approx(400)
    assert cats["derivatives"]["btc"] == pytest.approx(20)
    assert cats["institutional"]["share_pct"] == pytest.approx(100 * (350 + bitfinex) / tracked)
    cov = out["coverage"]
    assert cov["source"] == "onchain"
    assert cov["tracked_total_btc"] == pytest.approx(tracked)
    assert cov["addresses_total"] == len(BOOK.entries)
    assert cov["addresses_ok"] == len(BOOK.entries)
    assert "coinbase" in cov["not_covered"]
    assert {e["exchange"] for e in cov["exchanges"]} == set(BOOK.exchanges())
    assert any("Coinbase is not covered" in w for w in out["warnings"])
    # The real Bitfinex wallet has 338 txs and no history here: its past is unknown, so its change and the total
    # change are null, never a partial sum.
    assert rows["bitfinex"]["change_btc"] is None
    assert out["change_btc"] is None
    assert any(w.startswith("bitfinex: past balance unavailable on") and "2025-10-26" in w for w in out["warnings"])


async def test_onchain_totals_when_every_history_is_known(make_client, fake: FakeUpstream) -> None:
    _seed_onchain(fake)
    fake.esplora.txs[REAL_ADDRESS] = []  # an unused address: zero balance, empty history
    out = await call(make_client, {"as_of": "2025-11-24", "window_days": 30, "since": "2025-11-11"})
    assert out["total_btc"] == pytest.approx(770)
    assert out["change_btc"] == pytest.approx(770 - 1320)
    assert out["net_flow_btc"] == pytest.approx(-550)
    assert out["net_flow_positive"] is False
    assert out["since"]["start_btc"] == pytest.approx(1370)  # kraken 350, binance 1000, deribit 20
    assert out["year_to_date"]["start_btc"] == pytest.approx(0)
    assert out["month_over_month"]["this_month"]["change_btc"] == pytest.approx(-550)


async def test_reconstructions_are_stored_and_reused(make_client, fake: FakeUpstream) -> None:
    _seed_onchain(fake)
    fake.esplora.txs[REAL_ADDRESS] = []
    first = await call(make_client, {"as_of": "2025-11-24"})
    before = fake.count("mempool", "/txs/chain")
    second = await call(make_client, {"as_of": "2025-11-24"})
    assert fake.count("mempool", "/txs/chain") == before  # past balances now come from the store
    assert second["change_btc"] == pytest.approx(first["change_btc"])


async def test_collect_snapshots_each_exchange(make_client, fake: FakeUpstream, settings) -> None:
    from fetchers.http import Http, HttpConfig
    from store.base import SeriesKey
    from store.sqlite import SqliteStore
    from tests.conftest import FROZEN_NOW
    from tools.deps import Deps
    from tools.reserves.tool import collect

    _seed_onchain(fake)
    store = SqliteStore(settings.db_path)
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        deps = Deps(
            http=Http(client, HttpConfig(base_urls=settings.base_urls, retries=0)),
            store=store,
            clock=lambda: FROZEN_NOW,
        )
        written = await collect(deps)
    assert written == len(BOOK.exchanges())
    row = await store.latest(SeriesKey("onchain", "balance_btc", "BTC", "kraken"), FROZEN_NOW)
    assert row is not None
    assert row.value == pytest.approx(350)
    await store.close()


async def test_user_address_book_extends_the_packaged_one(make_client, fake: FakeUpstream, tmp_path: Path) -> None:
    extra = tmp_path / "book.json"
    mine = "bc1qmyexchangewalletxxxxxxxxxxxxxxxxxxxxx"
    entry = {"exchange": "gemini", "address": mine, "category": "institutional", "source": "test", "date": "2025-11-01"}
    extra.write_text(json.dumps({"entries": [entry]}))
    deposit(fake, mine, 12 * 10**8, "2025-10-01", 9)
    out = await call(make_client, {"as_of": "2025-11-24"}, settings_=make_settings(tmp_path, address_book_path=extra))
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["gemini"]["btc"] == pytest.approx(12)
    assert rows["gemini"]["category"] == "institutional"
    assert out["coverage"]["addresses_total"] == len(BOOK.entries) + 1


# -- faults --------------------------------------------------------------------------------------------------------


async def test_one_address_failing_gives_partial_coverage(make_client, fake: FakeUpstream) -> None:
    _seed_onchain(fake)
    fake.esplora.fail.add(BINANCE[1])
    out = await call(make_client, {"as_of": "2025-11-24"})
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["binance"]["addresses_ok"] == rows["binance"]["addresses_total"] - 1
    assert rows["binance"]["btc"] == pytest.approx(0)  # BINANCE[0] emptied; the failed wallet is left out
    assert rows["kraken"]["btc"] == pytest.approx(350)  # the rest succeed
    cov = out["coverage"]
    assert cov["addresses_ok"] == cov["addresses_total"] - 1
    assert cov["complete"] is False
    assert any(w.startswith("binance: 1 of") and "unavailable" in w for w in out["warnings"])


async def test_mempool_down_falls_back_to_blockstream(make_client, fake: FakeUpstream) -> None:
    _seed_onchain(fake)
    fake.faults["mempool"] = lambda r, p: httpx.Response(503, text="down")
    out = await call(make_client, {"as_of": "2025-11-24"})
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["kraken"]["btc"] == pytest.approx(350)
    assert {s["name"] for s in out["sources"]} == {"blockstream"}


async def test_every_esplora_host_down_gives_nulls_not_zeros(make_client, fake: FakeUpstream) -> None:
    fake.esplora.down = True
    out = await call(make_client, {"as_of": "2025-11-24"})
    assert out["total_btc"] is None
    assert all(r["btc"] is None for r in out["by_exchange"])
    assert out["coverage"]["addresses_ok"] == 0
    assert out["net_flow_positive"] is None
    assert any("total_btc unavailable" in w for w in out["warnings"])


async def test_cryptoquant_failure_degrades_to_onchain(make_client, fake: FakeUpstream, tmp_path: Path) -> None:
    _seed_onchain(fake)
    fake.faults["cryptoquant"] = lambda r, p: httpx.Response(500, text="oops")
    out = await call(make_client, {"as_of": "2025-11-24"}, settings_=keyed(tmp_path, cryptoquant=KEY))
    assert out["source"] == "onchain"
    assert any("CryptoQuant reserve unavailable" in w for w in out["warnings"])


async def test_cryptoquant_drift_is_reported(make_client, fake: FakeUpstream, tmp_path: Path) -> None:
    body = {"status": {"code": 200}, "result": {"window": "DAY", "data": [{"date": "2025-11-24", "value": 1.0}]}}
    fake.faults["cryptoquant"] = lambda r, p: httpx.Response(200, json=body)
    out = await call(make_client, {"as_of": "2025-11-24"}, settings_=keyed(tmp_path, cryptoquant=KEY))
    assert out["source"] == "onchain"
    assert any("bad_payload" in w and "'reserve'" in w for w in out["warnings"])


async def test_cryptoquant_key_travels_only_in_the_header(make_client, fake: FakeUpstream, tmp_path: Path) -> None:
    out = await call(make_client, {"as_of": "2025-11-24"}, settings_=keyed(tmp_path, cryptoquant=KEY))
    cq = [r for r in fake.requests if r.url.path.startswith("/cryptoquant/")]
    assert cq
    assert all(KEY not in str(r.url) for r in cq)
    assert KEY not in json.dumps(out)


async def test_eth_is_a_clear_tool_error(make_client) -> None:
    async with make_client() as client:
        result = await client.call_tool("exchange_reserve_trend", {"asset": "ETH"})
    assert result.is_error
    assert "BTC" in result.content[0].text


async def test_since_after_as_of_is_a_clear_tool_error(make_client) -> None:
    async with make_client() as client:
        result = await client.call_tool("exchange_reserve_trend", {"as_of": "2025-11-24", "since": "2025-12-01"})
    assert result.is_error
    assert "since" in result.content[0].text


# -- CoinGlass (keyed, per exchange, covers Coinbase) ----------------------------------------------------------------


async def test_coinglass_live_covers_coinbase_and_cross_checks_onchain(make_client, fake, tmp_path: Path) -> None:
    from tests.fakes.coinglass_exchange import KEY as CG_KEY

    _seed_onchain(fake)
    out = await call(make_client, {"window_days": 30}, settings_=keyed(tmp_path, coinglass=CG_KEY))
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert out["source"] == "coinglass"
    assert rows["coinbase"]["btc"] == pytest.approx(716590.351233)
    assert rows["coinbase"]["change_btc"] == pytest.approx(-29121.977486)  # CoinGlass's own 30-day change
    assert rows["coinbase"]["category"] == "institutional"
    assert rows["binance"]["category"] == "retail"
    assert out["coverage"]["not_covered"] == {}
    check = {c["exchange"]: c for c in out["cross_checks"]}["binance"]
    assert check["onchain_btc"] == pytest.approx(400)
    assert check["keyed_btc"] == pytest.approx(582344.497738)
    assert check["diff_pct"] == pytest.approx(100 * (400 / 582344.497738 - 1))
    assert any("binance: labelled wallets hold" in w for w in out["warnings"])
    cats = {c["category"]: c for c in out["categories"]}
    assert cats["institutional"]["btc"] == pytest.approx(716590.351233)
    assert cats["retail"]["btc"] == pytest.approx(582344.497738)


async def test_coinglass_chart_answers_a_past_date(make_client, fake, tmp_path: Path) -> None:
    from tests.fakes.coinglass_exchange import KEY as CG_KEY

    out = await call(
        make_client, {"as_of": "2025-11-24", "window_days": 30}, settings_=keyed(tmp_path, coinglass=CG_KEY)
    )
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["coinbase"]["btc"] == pytest.approx(716590.35)
    assert rows["coinbase"]["change_btc"] == pytest.approx(716590.35 - 745700.0)  # chart at 2025-10-25
    assert out["total_btc"] == pytest.approx(716590.35 + 582344.50)
    assert out["change_btc"] == pytest.approx((716590.35 + 582344.50) - (745700.0 + 578600.0))
    assert all(s["name"] != "coinglass" or "/balance/chart" in s["endpoint"] for s in out["sources"])


async def test_coinglass_api_error_code_is_reported(make_client, tmp_path: Path) -> None:
    out = await call(make_client, {"window_days": 30}, settings_=keyed(tmp_path, coinglass="wrong-key"))
    assert out["source"] == "onchain"
    assert any("CoinGlass balance list unavailable" in w and "30001" in w for w in out["warnings"])


async def test_html_challenge_on_mempool_falls_back_to_blockstream(make_client, fake: FakeUpstream) -> None:
    _seed_onchain(fake)
    page = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>challenge</body></html>"
    fake.faults["mempool"] = lambda r, p: httpx.Response(200, text=page, headers={"content-type": "text/html"})
    out = await call(make_client, {})
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["kraken"]["btc"] == pytest.approx(350)
    assert {s["name"] for s in out["sources"]} == {"blockstream"}


async def test_rate_limited_everywhere_leaves_nulls_and_reasons(make_client, fake: FakeUpstream, sleeps) -> None:
    fake.faults["mempool"] = lambda r, p: httpx.Response(429, headers={"Retry-After": "1"}, text="slow down")
    fake.faults["blockstream"] = fake.faults["mempool"]
    out = await call(make_client, {})
    assert out["coverage"]["addresses_ok"] == 0
    assert out["total_btc"] is None
    assert any("rate_limited" in w for w in out["warnings"])
    assert 1.0 in sleeps.calls  # Retry-After honoured before giving up


async def test_upstream_down_after_a_good_call_serves_stale_flagged(fake: FakeUpstream, tmp_path: Path) -> None:
    from mcp import Client

    from server.app import build_server
    from tests.conftest import FROZEN_NOW

    _seed_onchain(fake)
    settings = make_settings(tmp_path, ttl_scale=0.0)  # every cached value expires at once but is kept as last good
    server = build_server(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW)
    async with Client(server) as client:  # one server, one cache, two calls
        ok = (await client.call_tool("exchange_reserve_trend", {})).structured_content
        fake.esplora.down = True
        stale = (await client.call_tool("exchange_reserve_trend", {})).structured_content
    assert all(not s["stale"] for s in ok["sources"])
    assert {r["exchange"]: r["btc"] for r in stale["by_exchange"]} == {
        r["exchange"]: r["btc"] for r in ok["by_exchange"]
    }
    esplora_refs = [s for s in stale["sources"] if s["name"] == "mempool"]
    assert esplora_refs
    assert all(s["stale"] for s in esplora_refs)
    assert any("mempool is stale" in w for w in stale["warnings"])


async def test_backfill_reconstructs_month_ends_into_the_store(fake: FakeUpstream, settings) -> None:
    from fetchers.http import Http, HttpConfig
    from store.base import SeriesKey
    from store.sqlite import SqliteStore
    from tests.conftest import FROZEN_NOW
    from tools.deps import Deps
    from tools.reserves.tool import backfill

    _seed_onchain(fake)
    store = SqliteStore(settings.db_path)
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        deps = Deps(
            http=Http(client, HttpConfig(base_urls=settings.base_urls, retries=0)),
            store=store,
            clock=lambda: FROZEN_NOW,
        )
        written = await backfill(deps, date(2025, 9, 1), date(2025, 11, 24))
    # 3 days (2025-09-30, 2025-10-31, 2025-11-24) x every exchange but Bitfinex, whose real wallet has no history here
    assert written == 3 * (len(BOOK.exchanges()) - 1)
    rows = await store.read(SeriesKey("onchain", "balance_btc", "BTC", "kraken"))
    assert [(r.ts.date().isoformat(), r.value) for r in rows] == [
        ("2025-09-30", 300.0),
        ("2025-10-31", 300.0),
        ("2025-11-24", 350.0),
    ]
    assert await store.read(SeriesKey("onchain", "balance_btc", "BTC", "bitfinex")) == []
    await store.close()


async def test_fresh_collect_snapshots_answer_without_reading_wallets(
    make_client, fake: FakeUpstream, settings
) -> None:
    from fetchers.http import Http, HttpConfig
    from store.sqlite import SqliteStore
    from tests.conftest import FROZEN_NOW
    from tools.deps import Deps
    from tools.reserves.tool import collect

    _seed_onchain(fake)
    fake.esplora.txs[REAL_ADDRESS] = []
    first = await call(make_client, {})  # reconstructs and stores the past month ends and window start
    store = SqliteStore(settings.db_path)
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        deps = Deps(
            http=Http(client, HttpConfig(base_urls=settings.base_urls, retries=0)),
            store=store,
            clock=lambda: FROZEN_NOW,
        )
        await collect(deps)
    await store.close()
    before = fake.count("mempool")
    later = await call(make_client, {}, now=FROZEN_NOW + timedelta(minutes=30))
    assert fake.count("mempool") == before  # every figure came from the store
    rows = {r["exchange"]: r for r in later["by_exchange"]}
    assert rows["kraken"]["btc"] == pytest.approx(350)
    assert rows["kraken"]["snapshot_at"].startswith("2025-11-26T12:00")
    assert rows["kraken"]["addresses_ok"] is None
    assert later["change_btc"] == pytest.approx(first["change_btc"])
    assert any("answered from the store's snapshots" in w for w in later["warnings"])
    # An hour and more later the snapshot is no longer "now": the wallets are read again.
    await call(make_client, {}, now=FROZEN_NOW + timedelta(hours=2))
    assert fake.count("mempool") > before
