"""DefiLlama CEX pages: the streaming parser on payloads in the exact format, its strictness, and the streamed fetch."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fetchers.defillama import SOURCE, TokensParser, fetch_btc_series, series_from_rows
from fetchers.errors import BadPayloadError, UnavailableError
from fetchers.http import Http, HttpConfig
from tests.fakes.defillama import LATEST, PAGES, btc_at, payload, reading_times


def parse(raw: bytes, slug: str = "binance-cex", chunk: int = 65536) -> Any:
    parser = TokensParser(slug)
    for i in range(0, len(raw), chunk):
        if parser.feed(raw[i : i + chunk]):
            break
    return parser.finish()


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


@pytest.mark.parametrize("chunk", [1, 7, 4096, 65536, 10**8])
def test_parses_the_exact_format_in_any_chunking(chunk: int) -> None:
    raw = dumps(payload("okx"))
    got = parse(raw, "okx", chunk if chunk > 1 else 997)  # 1-byte chunks: same code path, slower; 997 is prime
    times = reading_times("okx")
    assert [h.at for h in got.holdings] == times
    assert [h.btc for h in got.holdings] == [btc_at("okx", t) for t in times]
    assert got.holdings[-1].at == LATEST  # the latest hourly reading, not at 00:00
    assert got.rows_without_btc == 0


def test_reads_only_the_bitcoin_chain_and_stops_after_it() -> None:
    doc = payload("binance-cex")
    raw = dumps(doc)
    parser = TokensParser("binance-cex")
    fed = 0
    for i in range(0, len(raw), 4096):
        fed += len(raw[i : i + 4096])
        if parser.feed(raw[i : i + 4096]):
            break
    assert fed < len(raw) * 0.8  # the aggregated tokens after chainTvls were never needed
    series = parser.finish()
    assert {h.btc for h in series.holdings} <= {r["tokens"]["BTC"] for r in doc["chainTvls"]["Bitcoin"]["tokens"]}
    # A body cut after the Bitcoin array still answers: everything used was complete.
    cut = raw[: raw.index(b'}},"tvl":[')]  # ends just after the Bitcoin tokens array, mid-document
    assert parse(cut).holdings == series.holdings


def corrupt(edit: Any) -> bytes:
    doc = payload("gemini")
    edit(doc["chainTvls"]["Bitcoin"]["tokens"])
    return dumps(doc)


def _set(rows: list[dict[str, Any]], i: int, key: str, value: Any) -> None:
    rows[i][key] = value


DRIFT = {
    "missing date": lambda rows: rows[3].pop("date"),
    "missing tokens": lambda rows: rows[3].pop("tokens"),
    "date as a string": lambda rows: _set(rows, 3, "date", str(rows[3]["date"])),
    "date in milliseconds, fractional": lambda rows: _set(rows, 3, "date", rows[3]["date"] + 0.5),
    "dates going backwards": lambda rows: _set(rows, 5, "date", rows[2]["date"]),
    "duplicate date": lambda rows: _set(rows, 5, "date", rows[4]["date"]),
    "BTC as a string": lambda rows: rows[3]["tokens"].update(BTC="155000.1"),
    "BTC null": lambda rows: rows[3]["tokens"].update(BTC=None),
    "BTC negative": lambda rows: rows[3]["tokens"].update(BTC=-1.0),
    "tokens not an object": lambda rows: _set(rows, 3, "tokens", [["BTC", 1.0]]),
    "row not an object": lambda rows: rows.__setitem__(3, [1764115200, 1.0]),
}


@pytest.mark.parametrize("name", list(DRIFT))
def test_drift_is_a_bad_payload_naming_defillama(name: str) -> None:
    with pytest.raises(BadPayloadError) as err:
        parse(corrupt(DRIFT[name]), "gemini")
    assert err.value.source == SOURCE
    assert "gemini" in err.value.message
    assert "chainTvls.Bitcoin.tokens" in err.value.message


def test_withheld_breakdown_missing_chain_html_and_truncation_are_bad_payloads() -> None:
    doc = payload("gemini")
    nulled = copy.deepcopy(doc)
    nulled["chainTvls"]["Bitcoin"]["tokens"] = None
    no_bitcoin = copy.deepcopy(doc)
    del no_bitcoin["chainTvls"]["Bitcoin"]
    raw = dumps(doc)
    cases = {
        "is null": dumps(nulled),
        "has no chainTvls.Bitcoin.tokens": dumps(no_bitcoin),
        "HTML page": b"<!DOCTYPE html><html><title>Just a moment...</title></html>",
        "truncated": raw[: raw.index(b'"Bitcoin"') + 200],
        "malformed JSON": raw[:500].replace(b":", b";", 3),
    }
    for phrase, body in cases.items():
        with pytest.raises(BadPayloadError, match=phrase):
            parse(body, "gemini")


def test_rows_without_btc_are_skipped_not_zero() -> None:
    rows = copy.deepcopy(payload("gemini")["chainTvls"]["Bitcoin"]["tokens"])
    rows[2]["tokens"] = {"ORDI": 12.5}
    series = series_from_rows("gemini", rows)
    assert series.rows_without_btc == 1
    assert len(series.holdings) == len(rows) - 1
    assert all(h.btc > 0 for h in series.holdings)
    with pytest.raises(BadPayloadError, match="no BTC amount"):
        series_from_rows("gemini", [{"date": 1764115200, "tokens": {}}])


# -- through the shared Http layer, streamed ----------------------------------------------------------------------


class Counting(httpx.AsyncByteStream):
    def __init__(self, raw: bytes, size: int = 8192) -> None:
        self.raw, self.size, self.sent = raw, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.raw), self.size):
            self.sent += 1
            yield self.raw[i : i + self.size]


def urls() -> dict[str, str]:
    return {"defillama": "http://fake.test/defillama"}


@pytest.mark.anyio
async def test_streamed_fetch_stops_downloading_and_caches_the_parsed_series() -> None:
    raw = dumps(payload("binance-cex"))
    streams: list[Counting] = []
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        streams.append(Counting(raw))
        return httpx.Response(200, stream=streams[-1])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        http = Http(client, HttpConfig(base_urls=urls(), retries=0))
        first = await fetch_btc_series(http, "binance-cex")
        second = await fetch_btc_series(http, "binance-cex")
    assert len(seen) == 1  # the second came from the cache
    assert seen[0].url.path == "/defillama/protocol/binance-cex"
    assert seen[0].url.params["restrictResponseSize"] == "false"
    assert streams[0].sent < len(raw) / 8192 * 0.8  # the stream was left before its end
    assert first.value == second.value
    assert first.source == "defillama"
    assert first.endpoint == "http://fake.test/defillama/protocol/binance-cex"
    assert first.value.holdings[-1] == type(first.value.holdings[-1])(LATEST, btc_at("binance-cex", LATEST))


@pytest.mark.anyio
async def test_streamed_fetch_retries_5xx_and_reports_4xx_and_drift() -> None:
    answers = [httpx.Response(502, text="bad gateway"), httpx.Response(200, content=dumps(payload("okx")))]

    async def no_sleep(_: float) -> None:
        return None

    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: answers.pop(0))) as client:
        http = Http(client, HttpConfig(base_urls=urls(), retries=2), sleep=no_sleep)
        got = await fetch_btc_series(http, "okx")
    assert got.value.holdings[0].at == datetime(2022, 11, 12, tzinfo=UTC)
    assert http.status["defillama"].upstream_requests == 2

    def not_found(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": "Protocol not found"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(not_found)) as client:
        http = Http(client, HttpConfig(base_urls=urls(), retries=2), sleep=no_sleep)
        with pytest.raises(UnavailableError, match="HTTP 400"):
            await fetch_btc_series(http, "nope")
        assert http.status["defillama"].upstream_requests == 1  # a 4xx is not retried

    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>challenge</html>")

    async with httpx.AsyncClient(transport=httpx.MockTransport(html)) as client:
        http = Http(client, HttpConfig(base_urls=urls(), retries=2), sleep=no_sleep)
        with pytest.raises(BadPayloadError, match="HTML"):
            await fetch_btc_series(http, "okx")


def test_every_fake_page_parses() -> None:
    for slug in PAGES:
        series = parse(dumps(payload(slug)), slug)
        assert len(series.holdings) == len(reading_times(slug))


# -- the fake's description against DefiLlama's own published series (../shared) ---------------------------------

INFLOWS = "06_cryptoquant_btc_exchange_flows_liquidations/defillama_cex_net_inflows_usd_by_exchange_daily.csv"


def test_fake_pages_follow_defillamas_published_coverage_and_direction() -> None:
    import csv
    from datetime import date, timedelta

    from tests.fakes.data import DATA

    path = DATA / INFLOWS
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{INFLOWS}")
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    for slug in PAGES:
        dated = [r["date"] for r in rows if r[slug]]
        assert PAGES[slug].first_day == dated[0], slug
        served = {t.date() for t in reading_times(slug)}
        day, blank = date.fromisoformat(dated[0]), set()
        while day <= date(2025, 11, 26):
            if day not in served:
                blank.add(day.isoformat())
            day += timedelta(days=1)
        csv_blank = {r["date"] for r in rows if not r[slug] and dated[0] < r["date"] <= "2025-11-26"}
        assert blank == csv_blank, slug
        # the test-input anchors move the way DefiLlama's net flows went over the 30 days to 2025-11-24
        flow = sum(float(r[slug]) for r in rows if r[slug] and "2025-10-27" <= r["date"] <= "2025-11-24")
        start, end = (datetime(2025, 10, 27, tzinfo=UTC), datetime(2025, 11, 25, tzinfo=UTC))
        assert (btc_at(slug, end) - btc_at(slug, start) > 0) == (flow > 0), slug
