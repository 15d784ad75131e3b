"""exchange_reserve_trend through the in-memory MCP client: real CryptoQuant data, DefiLlama's pages (keyless),
categories, coverage, faults; the labelled-wallet scan in `collect` and the snapshots the tool cross-checks."""

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
from tests.fakes.defillama import LATEST, btc_at
from tests.fakes.esplora import REAL_ADDRESS, make_tx
from tools.reserves.defillama import EXCHANGES

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


def llama(exchange: str, moment: datetime) -> float:
    """The fake DefiLlama page's BTC for `exchange` at its reading `moment`."""
    return btc_at(EXCHANGES[exchange], moment)


def close(day: str) -> datetime:
    """DefiLlama's row standing for the end of `day`: 00:00 UTC of the next day."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1)


def llama_total(day: str) -> float:
    return round(sum(llama(e, close(day)) for e in EXCHANGES), 8)


async def run(fake: FakeUpstream, settings, job, *args, sleep=None):
    """A `collect`/`backfill` of the reserve tool on its own Deps (the CLI's path), on the settings' store."""
    from fetchers.http import Http, HttpConfig
    from store.sqlite import SqliteStore
    from tests.conftest import FROZEN_NOW
    from tools.deps import Deps, ToolConfig

    store = SqliteStore(settings.db_path)
    kw = {} if sleep is None else {"sleep": sleep}
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        deps = Deps(
            http=Http(client, HttpConfig(base_urls=settings.base_urls, retries=0), **kw),
            store=store,
            clock=lambda: FROZEN_NOW,
            config=ToolConfig(address_book_path=settings.address_book_path, wallet_scan_delay_s=0.0),
        )
        written = await job(deps, *args)
    return written, store


async def collect_into(fake: FakeUpstream, settings, **kw) -> int:
    from tools.reserves.tool import collect

    written, store = await run(fake, settings, collect, **kw)
    await store.close()
    return written


async def call(make_client, args: dict, **kw) -> dict:
    async with make_client(**kw) as client:
        result = await client.call_tool("exchange_reserve_trend", {"detail": "full", **args})
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
    # coverage: the per-exchange figures (DefiLlama's, keyless) as a share of CryptoQuant's all-exchange reserve
    cov = out["coverage"]
    assert cov["source"] == "cryptoquant"
    assert cov["tracked_total_btc"] == pytest.approx(llama_total("2025-11-24"))
    assert cov["share_of_all_exchanges_pct"] == pytest.approx(
        100 * llama_total("2025-11-24") / r[date(2025, 11, 24)], abs=1e-6
    )


def fail_slug(fake: FakeUpstream, slug: str) -> None:
    from tests.fakes.defillama import handle

    def handler(request: httpx.Request, path: str) -> httpx.Response:
        if path == f"/protocol/{slug}":
            return httpx.Response(500, text="oops")
        return handle(request, path)

    fake.faults["defillama"] = handler


async def test_unknown_exchange_makes_shares_unknown_not_partial(make_client, fake, tmp_path: Path) -> None:
    fail_slug(fake, "bitfinex")  # Bitfinex at 2025-11-24 is unknown
    out = await call(make_client, {"as_of": "2025-11-24"}, settings_=keyed(tmp_path, cryptoquant=KEY))
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["bitfinex"]["btc"] is None
    assert rows["binance"]["btc"] == pytest.approx(llama("binance", close("2025-11-24")))
    assert out["coverage"]["tracked_total_btc"] is None
    assert out["coverage"]["share_of_all_exchanges_pct"] is None
    assert out["coverage"]["complete"] is False
    institutional = {c["category"]: c for c in out["categories"]}["institutional"]
    assert institutional["btc"] is None
    assert out["total_btc"] == pytest.approx(reserve_csv()[date(2025, 11, 24)])  # CryptoQuant is unaffected
    assert any("DefiLlama bitfinex reserve unavailable" in w and "HTTP 500" in w for w in out["warnings"])


async def test_cryptoquant_key_missing_means_keyless_defillama(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-24"})
    assert out["source"] == "defillama"
    assert {s["name"] for s in out["sources"]} == {"defillama"}


# -- keyless: DefiLlama's CEX pages ---------------------------------------------------------------------------------


async def test_as_of_answers_from_defillama_in_at_most_ten_requests(make_client, fake: FakeUpstream) -> None:
    out = await call(make_client, {"as_of": "2025-11-24", "window_days": 30, "since": "2025-11-11"})
    assert len(fake.requests) <= 10
    assert fake.count("defillama") == len(fake.requests) == len(EXCHANGES)
    assert fake.count("mempool") == fake.count("blockstream") == 0  # no wallet is read inside a tool call
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert set(rows) == set(EXCHANGES)
    end, start = close("2025-11-24"), close("2025-10-25")
    for exchange, row in rows.items():
        assert row["source"] == "defillama"
        assert row["btc"] == pytest.approx(llama(exchange, end))
        assert row["change_btc"] == pytest.approx(llama(exchange, end) - llama(exchange, start), abs=1e-6)
    assert rows["binance"]["btc"] == pytest.approx(585_000)  # the fake's anchor at 2025-11-25 00:00
    assert out["source"] == "defillama"
    assert out["total_btc"] == pytest.approx(llama_total("2025-11-24"))
    assert out["change_btc"] == pytest.approx(llama_total("2025-11-24") - llama_total("2025-10-25"), abs=1e-6)
    assert out["net_flow_btc"] == pytest.approx(out["change_btc"])
    assert out["net_flow_positive"] is False  # every page's anchors fall over the window, as DefiLlama's flows did
    mom = out["month_over_month"]
    assert mom["this_month"]["start_btc"] == pytest.approx(llama_total("2025-10-31"))
    assert mom["previous_month"]["start_btc"] == pytest.approx(llama_total("2025-09-30"))
    assert out["since"]["start_btc"] == pytest.approx(llama_total("2025-11-11"))
    # Gemini's DefiLlama series starts 2025-07-25: no year-start figure, so no year-to-date total (never partial)
    assert out["year_to_date"]["start_btc"] is None
    assert out["year_to_date"]["change_btc"] is None
    assert any(w.startswith("gemini: DefiLlama has no reading for the end of 2024-12-31") for w in out["warnings"])
    assert rows["gemini"]["btc"] is not None


async def test_live_answer_uses_the_latest_reading(make_client) -> None:
    out = await call(make_client, {"window_days": 30})
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["bitfinex"]["btc"] == pytest.approx(llama("bitfinex", LATEST))
    assert rows["bitfinex"]["change_btc"] == pytest.approx(
        llama("bitfinex", LATEST) - llama("bitfinex", close("2025-10-26")), abs=1e-6
    )
    assert out["total_btc"] == pytest.approx(sum(llama(e, LATEST) for e in EXCHANGES))
    assert out["window_end"].startswith("2025-11-26T12:00")


async def test_keyless_category_split_and_coverage(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-24"})
    rows = {r["exchange"]: r for r in out["by_exchange"]}
    assert rows["bitfinex"]["category"] == rows["gemini"]["category"] == "institutional"
    assert rows["bybit"]["category"] == "derivatives"
    assert rows["binance"]["category"] == rows["crypto_com"]["category"] == "retail"
    cats = {c["category"]: c for c in out["categories"]}
    end = close("2025-11-24")
    tracked = llama_total("2025-11-24")
    institutional = llama("bitfinex", end) + llama("gemini", end)
    assert cats["institutional"]["btc"] == pytest.approx(institutional)
    assert cats["derivatives"]["btc"] == pytest.approx(llama("bybit", end))
    assert cats["institutional"]["share_pct"] == pytest.approx(100 * institutional / tracked)
    cov = out["coverage"]
    assert cov["source"] == "defillama"
    assert cov["tracked_total_btc"] == pytest.approx(tracked)
    assert {e["exchange"]: e["source"] for e in cov["exchanges"]} == dict.fromkeys(EXCHANGES, "defillama")
    assert {"coinbase", "kraken", "deribit"} <= set(cov["not_covered"])
    assert cov["complete"] is True
    assert cov["addresses_total"] == len(BOOK.entries)
    assert cov["addresses_ok"] == 0  # nothing collected: no wallet snapshot behind a cross-check
    assert out["cross_checks"] == []
    assert any("Coinbase is not covered" in w for w in out["warnings"])


async def test_history_is_stored_and_a_second_server_answers_without_requests(
    make_client, fake: FakeUpstream, settings
) -> None:
    from store.base import SeriesKey
    from store.sqlite import SqliteStore

    first = await call(make_client, {"as_of": "2025-11-24"})
    before = len(fake.requests)
    second = await call(make_client, {"as_of": "2025-10-31", "window_days": 7})  # a new server: empty cache
    live = await call(make_client, {})  # fetched within the page's TTL: the store answers "now" too
    assert len(fake.requests) == before
    assert second["total_btc"] == pytest.approx(llama_total("2025-10-31"))
    assert live["total_btc"] == pytest.approx(sum(llama(e, LATEST) for e in EXCHANGES))
    assert first["total_btc"] == pytest.approx(llama_total("2025-11-24"))
    store = SqliteStore(settings.db_path)
    rows = await store.read(SeriesKey("defillama", "reserve_btc", "BTC", "binance"))
    await store.close()
    assert rows[-1].ts == LATEST
    assert rows[-2].ts == datetime(2025, 11, 26, tzinfo=UTC)
    assert all(r.fetched_at.date() == date(2025, 11, 26) for r in rows)
    # An hour and more later "now" is refetched; past dates still come from the store.
    await call(make_client, {"as_of": "2025-11-20"}, now=datetime(2025, 11, 26, 14, tzinfo=UTC))
    assert len(fake.requests) == before
    await call(make_client, {}, now=datetime(2025, 11, 26, 14, tzinfo=UTC))
    assert len(fake.requests) == before + len(EXCHANGES)


async def test_defillama_down_gives_nulls_not_zeros(make_client, fake: FakeUpstream) -> None:
    fake.faults["defillama"] = lambda r, p: httpx.Response(503, text="down")
    out = await call(make_client, {"as_of": "2025-11-24"})
    assert out["total_btc"] is None
    assert all(r["btc"] is None and r["change_btc"] is None for r in out["by_exchange"])
    assert out["net_flow_positive"] is None
    assert out["coverage"]["tracked_total_btc"] is None
    assert out["coverage"]["complete"] is False
    assert any("total_btc unavailable" in w for w in out["warnings"])
    assert any("DefiLlama binance reserve unavailable: defillama unavailable (HTTP 503" in w for w in out["warnings"])


async def test_defillama_drift_is_a_named_bad_payload(make_client, fake: FakeUpstream) -> None:
    fake.faults["defillama"] = lambda r, p: httpx.Response(200, json={"chainTvls": {"Bitcoin": {"tokens": None}}})
    out = await call(make_client, {"as_of": "2025-11-24"})
    assert out["total_btc"] is None
    assert any("bad_payload" in w and "tokens is null" in w for w in out["warnings"])


async def test_rate_limited_defillama_leaves_nulls_and_reasons(make_client, fake: FakeUpstream, sleeps) -> None:
    fake.faults["defillama"] = lambda r, p: httpx.Response(429, headers={"Retry-After": "1"}, text="slow down")
    out = await call(make_client, {})
    assert out["total_btc"] is None
    assert any("rate_limited" in w for w in out["warnings"])
    assert 1.0 in sleeps.calls  # Retry-After honoured before giving up


async def test_upstream_down_after_a_good_call_serves_stale_flagged(fake: FakeUpstream, tmp_path: Path) -> None:
    from mcp import Client

    from server.app import build_server
    from tests.conftest import FROZEN_NOW

    settings = make_settings(tmp_path, ttl_scale=0.0)  # every cached value expires at once but is kept as last good
    server = build_server(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW)
    async with Client(server) as client:  # one server, one cache, two calls
        ok = (await client.call_tool("exchange_reserve_trend", {"detail": "full"})).structured_content
        fake.faults["defillama"] = lambda r, p: httpx.Response(503, text="down")
        stale = (await client.call_tool("exchange_reserve_trend", {"detail": "full"})).structured_content
    assert all(not s["stale"] for s in ok["sources"])
    assert {r["exchange"]: r["btc"] for r in stale["by_exchange"]} == {
        r["exchange"]: r["btc"] for r in ok["by_exchange"]
    }
    refs = [s for s in stale["sources"] if s["name"] == "defillama"]
    assert len(refs) == len(EXCHANGES)
    assert all(s["stale"] for s in refs)
    assert any("defillama is stale" in w for w in stale["warnings"])


async def test_a_later_process_serves_the_store_stale_when_defillama_fails(make_client, fake: FakeUpstream) -> None:
    await call(make_client, {})
    fake.faults["defillama"] = lambda r, p: httpx.Response(503, text="down")
    later = datetime(2025, 11, 26, 15, tzinfo=UTC)  # past the TTL: "now" is asked again, and fails
    out = await call(make_client, {}, now=later)
    assert out["total_btc"] == pytest.approx(sum(llama(e, LATEST) for e in EXCHANGES))
    assert all(s["stale"] for s in out["sources"] if s["name"] == "defillama")
    assert any("served from the history store" in w for w in out["warnings"])


# -- collect: the labelled-wallet scan, bounded and rate-limited; the tool cross-checks its snapshots -------------


def _seed_onchain(fake: FakeUpstream) -> None:
    """Kraken gains, Binance loses, Deribit steady, over November 2025 (labelled wallets, Esplora's format)."""
    deposit(fake, KRAKEN[0], 300 * 10**8, "2025-06-01", 1)
    deposit(fake, KRAKEN[1], 50 * 10**8, "2025-11-10", 2)
    deposit(fake, BINANCE[0], 1000 * 10**8, "2025-03-01", 3)
    withdraw(fake, BINANCE[0], 1000 * 10**8, "2025-11-12", 4)
    deposit(fake, BINANCE[1], 400 * 10**8, "2025-11-13", 5)
    deposit(fake, DERIBIT[0], 20 * 10**8, "2025-01-05", 6)


async def snapshots(settings, extra: tuple[str, ...] = ()) -> dict[str, float]:
    from store.base import SeriesKey
    from store.sqlite import SqliteStore
    from tests.conftest import FROZEN_NOW

    store = SqliteStore(settings.db_path)
    out = {}
    for exchange in (*BOOK.exchanges(), *extra):
        row = await store.latest(SeriesKey("onchain", "balance_btc", "BTC", exchange), FROZEN_NOW)
        if row is not None:
            out[exchange] = row.value
    await store.close()
    return out


async def test_collect_snapshots_each_exchange_and_refreshes_defillama(fake: FakeUpstream, settings) -> None:
    _seed_onchain(fake)
    written = await collect_into(fake, settings)
    got = await snapshots(settings)
    assert set(got) == set(BOOK.exchanges())
    assert got["kraken"] == pytest.approx(350)
    assert got["binance"] == pytest.approx(400)
    assert got["bitfinex"] == pytest.approx(130010.07902736)  # the real captured cold-wallet payload
    assert fake.count("mempool") == len(BOOK.entries)  # one balance read per wallet, no history paging
    assert fake.count("defillama") == len(EXCHANGES)
    assert written > len(BOOK.exchanges())  # the snapshots and DefiLlama's daily rows
    await collect_into(fake, settings)  # the next round within the hour: DefiLlama's pages are still fresh
    assert fake.count("defillama") == len(EXCHANGES)


async def test_collect_pauses_after_each_wallet_read(fake: FakeUpstream, settings, monkeypatch) -> None:
    import tools.reserves.onchain as onchain
    from tools.reserves.tool import collect

    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(onchain.anyio, "sleep", pause)
    from fetchers.http import Http, HttpConfig
    from store.sqlite import SqliteStore
    from tests.conftest import FROZEN_NOW
    from tools.deps import Deps, ToolConfig

    store = SqliteStore(settings.db_path)
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        deps = Deps(
            http=Http(client, HttpConfig(base_urls=settings.base_urls, retries=0)),
            store=store,
            clock=lambda: FROZEN_NOW,
            config=ToolConfig(wallet_scan_delay_s=0.25),
        )
        await collect(deps)
    await store.close()
    assert pauses == [0.25] * len(BOOK.entries)


async def test_collect_wallet_budget_skips_the_exchanges_it_did_not_finish(
    fake: FakeUpstream, settings, monkeypatch
) -> None:
    import tools.reserves.onchain as onchain

    monkeypatch.setattr(onchain, "COLLECT_WALLET_BUDGET", 100)
    await collect_into(fake, settings)
    assert fake.count("mempool") == 100
    done = {e.exchange for e in BOOK.entries[:100]} - {e.exchange for e in BOOK.entries[100:]}
    assert set(await snapshots(settings)) == done  # an exchange with an unread wallet gets no partial total


async def test_collect_skips_an_exchange_with_a_failing_wallet(fake: FakeUpstream, settings) -> None:
    _seed_onchain(fake)
    fake.esplora.fail.add(BINANCE[1])
    await collect_into(fake, settings)
    got = await snapshots(settings)
    assert "binance" not in got  # a partial total would read as coins leaving
    assert got["kraken"] == pytest.approx(350)  # the rest succeed


async def test_collect_falls_back_to_blockstream(fake: FakeUpstream, settings) -> None:
    _seed_onchain(fake)
    fake.faults["mempool"] = lambda r, p: httpx.Response(503, text="down")
    await collect_into(fake, settings)
    assert (await snapshots(settings))["kraken"] == pytest.approx(350)
    assert fake.count("blockstream") == len(BOOK.entries)


async def test_collect_falls_back_on_an_html_challenge(fake: FakeUpstream, settings) -> None:
    _seed_onchain(fake)
    page = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>challenge</body></html>"
    fake.faults["mempool"] = lambda r, p: httpx.Response(200, text=page, headers={"content-type": "text/html"})
    await collect_into(fake, settings)
    assert (await snapshots(settings))["kraken"] == pytest.approx(350)


async def test_every_esplora_host_down_stores_no_snapshot(fake: FakeUpstream, settings, make_client) -> None:
    fake.esplora.down = True
    await collect_into(fake, settings)
    assert await snapshots(settings) == {}  # nothing rather than zeros
    out = await call(make_client, {})
    assert out["cross_checks"] == []
    assert out["total_btc"] is not None  # DefiLlama answers regardless


async def test_collect_rate_limited_honours_retry_after(fake: FakeUpstream, settings, sleeps) -> None:
    from fetchers.http import Http, HttpConfig
    from store.sqlite import SqliteStore
    from tests.conftest import FROZEN_NOW
    from tools.deps import Deps, ToolConfig
    from tools.reserves.tool import collect

    fake.faults["mempool"] = lambda r, p: httpx.Response(429, headers={"Retry-After": "1"}, text="slow down")
    fake.faults["blockstream"] = fake.faults["mempool"]
    store = SqliteStore(settings.db_path)
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        http = Http(client, HttpConfig(base_urls=settings.base_urls, retries=1), sleep=sleeps)
        deps = Deps(http=http, store=store, clock=lambda: FROZEN_NOW, config=ToolConfig(wallet_scan_delay_s=0))
        await collect(deps)
    await store.close()
    assert await snapshots(settings) == {}
    assert 1.0 in sleeps.calls


async def test_fresh_snapshots_cross_check_defillama_and_no_wallet_is_read_in_a_call(
    make_client, fake: FakeUpstream, settings
) -> None:
    _seed_onchain(fake)
    await collect_into(fake, settings)
    esplora = fake.count("mempool") + fake.count("blockstream")
    out = await call(make_client, {}, now=datetime(2025, 11, 26, 12, 30, tzinfo=UTC))
    assert fake.count("mempool") + fake.count("blockstream") == esplora  # the tool only read the store
    checks = {c["exchange"]: c for c in out["cross_checks"]}
    binance = checks["binance"]
    assert binance["onchain_btc"] == pytest.approx(400)
    assert binance["keyed_btc"] == pytest.approx(llama("binance", LATEST))
    assert binance["keyed_source"] == "defillama"
    assert binance["diff_pct"] == pytest.approx(100 * (400 / llama("binance", LATEST) - 1), abs=1e-6)
    assert any(w.startswith("binance: labelled wallets hold 400 BTC vs DefiLlama") for w in out["warnings"])
    assert "kraken" not in checks  # no DefiLlama figure to compare with
    assert out["coverage"]["addresses_ok"] == sum(len(v) for k, v in BOOK.by_exchange().items() if k in checks)
    # Two hours later the snapshot no longer stands for "now": no cross-check, and still no wallet read.
    later = await call(make_client, {}, now=datetime(2025, 11, 26, 14, tzinfo=UTC))
    assert later["cross_checks"] == []
    assert fake.count("mempool") + fake.count("blockstream") == esplora


async def test_user_address_book_extends_the_packaged_one(make_client, fake: FakeUpstream, tmp_path: Path) -> None:
    extra = tmp_path / "book.json"
    mine = "bc1qmyexchangewalletxxxxxxxxxxxxxxxxxxxxx"
    entry = {"exchange": "gemini", "address": mine, "category": "institutional", "source": "test", "date": "2025-11-01"}
    extra.write_text(json.dumps({"entries": [entry]}))
    deposit(fake, mine, 12 * 10**8, "2025-10-01", 9)
    settings = make_settings(tmp_path, address_book_path=extra)
    await collect_into(fake, settings)
    assert (await snapshots(settings, ("gemini",)))["gemini"] == pytest.approx(12)
    out = await call(make_client, {}, settings_=settings)
    check = {c["exchange"]: c for c in out["cross_checks"]}["gemini"]
    assert check["onchain_btc"] == pytest.approx(12)
    assert check["keyed_btc"] == pytest.approx(llama("gemini", LATEST))
    assert out["coverage"]["addresses_total"] == len(BOOK.entries) + 1


async def test_backfill_fills_defillama_history_and_reconstructs_month_ends(fake: FakeUpstream, settings) -> None:
    from store.base import SeriesKey
    from tools.reserves.tool import backfill

    _seed_onchain(fake)
    written, store = await run(fake, settings, backfill, date(2025, 9, 1), date(2025, 11, 24))
    llama_rows = await store.read(SeriesKey("defillama", "reserve_btc", "BTC", "okx"))
    # 3 days (2025-09-30, 2025-10-31, 2025-11-24) x every exchange but Bitfinex, whose real wallet has no history here
    onchain_written = 3 * (len(BOOK.exchanges()) - 1)
    rows = await store.read(SeriesKey("onchain", "balance_btc", "BTC", "kraken"))
    assert [(r.ts.date().isoformat(), r.value) for r in rows] == [
        ("2025-09-30", 300.0),
        ("2025-10-31", 300.0),
        ("2025-11-24", 350.0),
    ]
    assert await store.read(SeriesKey("onchain", "balance_btc", "BTC", "bitfinex")) == []
    assert llama_rows[0].ts == datetime(2022, 11, 12, tzinfo=UTC)  # the page's whole history
    assert llama_rows[-1].ts == LATEST
    all_llama = [len(await store.read(SeriesKey("defillama", "reserve_btc", "BTC", e))) for e in EXCHANGES]
    assert written == onchain_written + sum(all_llama)
    await store.close()


async def test_backfilled_month_ends_cross_check_a_past_date(make_client, fake: FakeUpstream, settings) -> None:
    from tools.reserves.tool import backfill

    _seed_onchain(fake)
    fake.esplora.txs[REAL_ADDRESS] = []
    _, store = await run(fake, settings, backfill, date(2025, 10, 1), date(2025, 10, 31))
    await store.close()
    requests = len(fake.requests)
    out = await call(make_client, {"as_of": "2025-10-31"})
    assert len(fake.requests) == requests  # backfill stored DefiLlama's history and the reconstructions
    check = {c["exchange"]: c for c in out["cross_checks"]}["binance"]
    assert check["onchain_btc"] == pytest.approx(1000)  # before the 2025-11-12 withdrawal
    assert check["keyed_btc"] == pytest.approx(llama("binance", close("2025-10-31")))


# -- faults on the keyed sources -------------------------------------------------------------------------------------


async def test_cryptoquant_failure_degrades_to_defillama(make_client, fake: FakeUpstream, tmp_path: Path) -> None:
    fake.faults["cryptoquant"] = lambda r, p: httpx.Response(500, text="oops")
    out = await call(make_client, {"as_of": "2025-11-24"}, settings_=keyed(tmp_path, cryptoquant=KEY))
    assert out["source"] == "defillama"
    assert out["total_btc"] == pytest.approx(llama_total("2025-11-24"))
    assert any("CryptoQuant reserve unavailable" in w for w in out["warnings"])


async def test_cryptoquant_drift_is_reported(make_client, fake: FakeUpstream, tmp_path: Path) -> None:
    body = {"status": {"code": 200}, "result": {"window": "DAY", "data": [{"date": "2025-11-24", "value": 1.0}]}}
    fake.faults["cryptoquant"] = lambda r, p: httpx.Response(200, json=body)
    out = await call(make_client, {"as_of": "2025-11-24"}, settings_=keyed(tmp_path, cryptoquant=KEY))
    assert out["source"] == "defillama"
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
    settings = keyed(tmp_path, coinglass=CG_KEY)
    await collect_into(fake, settings)  # the labelled wallets' snapshots the cross-check reads
    defillama_before = fake.count("defillama")
    out = await call(make_client, {"window_days": 30}, settings_=settings)
    assert fake.count("defillama") == defillama_before  # CoinGlass answers per exchange: DefiLlama is not asked
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
    assert any("binance: labelled wallets hold" in w and "CoinGlass" in w for w in out["warnings"])
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
    assert out["source"] == "defillama"
    assert any("CoinGlass balance list unavailable" in w and "30001" in w for w in out["warnings"])
