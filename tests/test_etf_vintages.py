"""ETF days as known then: a day first fetched with one fund missing, later complete, read back at as_of.

Two Farside captures are replayed through the fake upstream, each by a server whose clock is the capture's time:
the real all-data page captured on 2025-10-07 (../shared/payloads/farside, 2025-10-06 at US$1,190.1m with HODL
still '-') and the shared CSV's final figures through 2025-10-08 (2025-10-06 at US$1,205.2m) in Farside's markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fetchers.http import Http, HttpConfig
from store.base import CoverageStore
from tests.fakes import FakeUpstream, base_urls
from tests.fakes import farside as fake_farside
from tests.fakes.data import PAYLOADS, etf_flows_csv
from tools.deps import Deps
from tools.etf.tool import compute_etf_flows
from tools.point_in_time import PointInTime

pytestmark = pytest.mark.anyio
M = 1_000_000
FIRST = datetime(2025, 10, 7, 11, 30, tzinfo=UTC)  # the capture was committed at 11:19:30 UTC
SECOND = datetime(2025, 10, 9, 12, 0, tzinfo=UTC)
LATER = datetime(2025, 10, 9, 14, 0, tzinfo=UTC)
MakeStore = Callable[[], CoverageStore]


def _capture(request: httpx.Request, path: str) -> httpx.Response:
    if path != "/bitcoin-etf-flow-all-data/":
        return httpx.Response(404, text="<html><body><h1>Page not found</h1></body></html>")
    html = (PAYLOADS / "farside" / "btc_all_data_2025-10-07.html").read_text()
    return httpx.Response(200, text=html, headers={"Content-Type": "text/html; charset=UTF-8"})


async def _flows(fake: FakeUpstream, store: CoverageStore, now: datetime, as_of: str | None = None) -> dict[str, Any]:
    """get_etf_flows as a server whose clocks (the answer's and the HTTP layer's fetch times) read `now`."""
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        http = Http(client, HttpConfig(base_urls=base_urls(["farside"])), clock=now.timestamp)
        out = await compute_etf_flows(
            Deps(http=http, store=store, clock=lambda: now), "BTC", 10, PointInTime.parse(as_of, now)
        )
    return out.model_dump(mode="json")  # what a client receives


def _day(out: dict[str, Any], iso: str) -> dict[str, Any]:
    (found,) = [d for d in out["days"] if d["date"] == iso]
    return found


def _csv_total(first: str, last: str) -> float:
    """US$m summed over first..last straight from the shared CSV (the final figures)."""
    _, rows = etf_flows_csv("BTC")
    return sum(total for day, _, total in rows if first <= day <= last)


def _when(day: dict[str, Any]) -> datetime | None:
    text = day["known_at"]
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _replay_two_captures(fake: FakeUpstream, store: CoverageStore) -> None:
    """Two live answers, one per capture: every fetch records what it saw."""
    fake.handlers["farside"] = _capture
    first = await _flows(fake, store, FIRST)
    assert _day(first, "2025-10-06")["total_usd"] == pytest.approx(1190.1 * M, abs=1)
    assert _day(first, "2025-10-06")["known_at"] is None  # a live answer is as known now
    fake.handlers["farside"] = fake_farside.handler(last_day="2025-10-08")
    second = await _flows(fake, store, SECOND)
    assert _day(second, "2025-10-06")["total_usd"] == pytest.approx(1205.2 * M, abs=1)


async def test_as_of_between_the_fetches_reads_the_first_figures(make_store: MakeStore, fake: FakeUpstream) -> None:
    store = make_store()
    await _replay_two_captures(fake, store)
    between = await _flows(fake, store, LATER, as_of="2025-10-07T18:00:00Z")  # before 2025-10-07's US close
    after = await _flows(fake, store, LATER, as_of="2025-10-09T13:00:00Z")
    await store.close()
    day = _day(between, "2025-10-06")
    assert day["total_usd"] == pytest.approx(1190.1 * M, abs=1)
    assert day["funds"]["HODL"] is None  # still '-' in the first capture, not its later 15.1
    assert day["funds"]["IBIT"] == pytest.approx(970.0 * M, abs=1)
    assert day["provisional"] is True  # HODL reported the day before: the day was still settling
    assert _when(day) == FIRST
    assert between["days"][-1]["date"] == "2025-10-06"
    assert between["latest_completed_day"]["date"] == "2025-10-03"
    # month-to-date as known then: the final figures of 10-01..10-03 (first seen then too), 10-06 as first seen
    known_mtd = _csv_total("2025-10-01", "2025-10-06") - 1205.2 + 1190.1
    assert between["month_to_date_usd"] == pytest.approx(known_mtd * M, abs=1e3)

    day = _day(after, "2025-10-06")
    assert day["total_usd"] == pytest.approx(1205.2 * M, abs=1)
    assert day["funds"]["HODL"] == pytest.approx(15.1 * M, abs=1)
    assert _when(day) == SECOND
    # 10-03 did not change between the captures: it is still known from the first one; 10-08 only from the second
    assert _when(_day(after, "2025-10-03")) == FIRST
    assert _when(_day(after, "2025-10-08")) == SECOND
    assert after["month_to_date_usd"] == pytest.approx(_csv_total("2025-10-01", "2025-10-08") * M, abs=1e3)


async def test_as_of_before_any_fetch_says_the_figures_are_final(make_store: MakeStore, fake: FakeUpstream) -> None:
    store = make_store()
    await _replay_two_captures(fake, store)
    before = await _flows(fake, store, LATER, as_of="2025-10-06T22:00:00Z")
    await store.close()
    day = _day(before, "2025-10-06")
    # nothing was seen by then: the stored final figure is served, and says so
    assert day["total_usd"] == pytest.approx(1205.2 * M, abs=1)
    assert day["known_at"] is None
    assert all(d["known_at"] is None for d in before["days"])


async def test_backfill_records_vintages_once_per_distinct_figure(make_store: MakeStore, fake: FakeUpstream) -> None:
    from store.base import SeriesKey
    from tools.etf.tool import backfill

    store = make_store()
    total = SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL")
    window = (SECOND.date().replace(day=1), SECOND.date())
    for now in (SECOND, LATER):  # the same page twice: the second fetch changes nothing, so it records nothing
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            http = Http(client, HttpConfig(base_urls=base_urls(["farside"])), clock=now.timestamp)
            await backfill(Deps(http=http, store=store, clock=lambda at=now: at), *window)
    seen = await store.read_vintages(total)
    await store.close()
    assert [v.ts.date().isoformat() for v in seen] == ["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-06",
                                                       "2025-10-07", "2025-10-08", "2025-10-09"]  # fmt: skip
    assert {v.known_at for v in seen} == {SECOND}
    assert seen[3].value == pytest.approx(1205.2 * M, abs=1)


class SentVintages:
    """A real SQLite store that also keeps what each upsert was asked to record as vintages."""

    def __init__(self, path: Any) -> None:
        from store.sqlite import SqliteStore

        self.inner = SqliteStore(path)
        self.sent: list[int] = []

    async def upsert(self, observations: Any, *, vintages: Any = ()) -> int:
        self.sent.append(len(vintages))
        return await self.inner.upsert(observations, vintages=vintages)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


async def test_a_repeat_fetch_in_the_same_process_sends_only_changed_figures(tmp_path: Any) -> None:
    from schemas.etf_flows import FlowRow, FlowTable
    from store.base import SeriesKey
    from tools.history import etf_store

    day1, day2 = datetime(2025, 10, 6, tzinfo=UTC).date(), datetime(2025, 10, 7, tzinfo=UTC).date()
    rows = [
        FlowRow(day1, {"IBIT": 1_000 * M, "HODL": None}, 1_000 * M),
        FlowRow(day2, {"IBIT": 5 * M, "HODL": 1 * M}, 6 * M),
    ]
    first = FlowTable(tickers=("IBIT", "HODL"), rows=rows)
    revised = FlowTable(
        tickers=("IBIT", "HODL"),
        rows=[FlowRow(day1, {"IBIT": 1_000 * M, "HODL": 15 * M}, 1_015 * M), first.rows[1]],
    )
    store = SentVintages(tmp_path / "w.sqlite3")
    await etf_store.write_completed(store, "farside", "BTC", first, FIRST)
    await etf_store.write_completed(store, "farside", "BTC", first, SECOND)  # unchanged: nothing to compare
    await etf_store.write_completed(store, "farside", "BTC", revised, LATER)  # HODL and the total of day 1
    etf_store.forget_recorded(store)  # as a new process: every figure is sent, the store finds nothing new
    await etf_store.write_completed(store, "farside", "BTC", revised, LATER)
    assert store.sent == [5, 0, 2, 6]
    total = await store.read_vintages(SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL"))
    assert [(v.ts.date(), v.value, v.known_at) for v in total] == [
        (day1, 1_000 * M, FIRST),
        (day1, 1_015 * M, LATER),
        (day2, 6 * M, FIRST),
    ]
    await store.close()


async def test_figures_a_failed_write_did_not_record_are_sent_again(tmp_path: Any) -> None:
    from schemas.etf_flows import FlowRow, FlowTable
    from tools.history import etf_store

    class FailsOnce(SentVintages):
        failed = False

        async def upsert(self, observations: Any, *, vintages: Any = ()) -> int:
            if not self.failed:  # as DegradedStore answers a write the store refused: 0 rows
                self.failed = True
                self.sent.append(-1)
                return 0
            return await super().upsert(observations, vintages=vintages)

    settled = datetime(2025, 10, 1, tzinfo=UTC).date()  # completed by FIRST: an observation row as well
    table = FlowTable(tickers=("IBIT",), rows=[FlowRow(settled, {"IBIT": 3 * M}, 3 * M)])
    store = FailsOnce(tmp_path / "w.sqlite3")
    await etf_store.write_completed(store, "farside", "BTC", table, FIRST)
    await etf_store.write_completed(store, "farside", "BTC", table, SECOND)
    await etf_store.write_completed(store, "farside", "BTC", table, LATER)
    assert store.sent == [-1, 2, 0]
    await store.close()
