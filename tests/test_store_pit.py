"""Store answers equal point-in-time answers: for a date, what the history store serves (while it already holds every
later day) equals what the upstream replayed up to that date gives, holidays included (issue 15, item 4).

One store per test is filled once with the whole real Farside history (../shared/data), as a live call after
the last day fills it (BTC, ETH) or as `windvane import` of the export does (BTC); then for each date the answer
(a) from that store, Farside down, and (b) from Farside's page truncated at the date with no store at all are
compared as JSON, for get_etf_flows and for the assessment. The 47 dates are every Farside holiday row (a row of
'-', 16 in 2024-01-15..2025-06-19), the calendar and trading day after each, and other days of 2024-2025; all of
them are used for the assessment too (about 20 s in process).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.runtime import open_deps
from store.base import SeriesKey
from store.sqlite import SqliteStore
from tests.conftest import make_settings
from tests.fakes import FakeUpstream, default_fake
from tests.fakes import farside as fake_farside
from tests.fakes.data import DATA, ETF_FLOW_FILES, etf_flows_csv
from tools.assess.tool import compute_assessment
from tools.deps import Deps
from tools.etf.tool import LAUNCH, compute_etf_flows
from tools.history import etf_store
from tools.history.csv_import import read_etf_flows
from tools.point_in_time import PointInTime

pytestmark = pytest.mark.anyio

# After the last row of the shared Farside file (2026-04-10): the store is filled, and every answer asked, from here.
NOW = datetime(2026, 4, 13, 12, 0, tzinfo=UTC)
OTHER_DAYS = (
    "2024-01-11",  # launch day
    "2024-01-12",
    "2024-02-29",
    "2024-03-28",
    "2024-08-05",
    "2024-10-31",
    "2024-12-31",
    "2025-03-03",
    "2025-04-08",
    "2025-10-06",
    "2025-11-21",
    "2025-11-24",
    "2025-12-31",
)
# Per source reference, what differs only because one answer was read from the store and the other fetched: the
# endpoint ("store:farside/..." vs the page's URL), when the figures were fetched and their age. Its upstream name
# and stale flag are compared.
SOURCE_FIELDS_THAT_DIFFER = ("endpoint", "fetched_at", "age_seconds")
# The assessment lists sources and copies each sub-tool's first 5 warnings in the order its concurrent requests
# finished, which varies from run to run with or without a store (seen: get_leverage_state's 6 warnings, any 5
# of them). So its sources are compared as a sorted list and its warnings not at all; the ETF tool's own warnings
# are compared in full by the test above, on the same dates.
ASSESSMENT_FIELDS_IN_ARRIVAL_ORDER = ("warnings",)


def holidays(asset: str = "BTC") -> list[date]:
    """Farside's holiday rows: every fund '-' (the file's empty cells)."""
    _, rows = etf_flows_csv(asset)
    return [date.fromisoformat(day) for day, funds, _ in rows if all(v is None for v in funds.values())]


def trading_days() -> list[date]:
    _, rows = etf_flows_csv("BTC")
    return [date.fromisoformat(day) for day, funds, _ in rows if any(v is not None for v in funds.values())]


def dates() -> list[date]:
    trading = trading_days()
    picked = set(map(date.fromisoformat, OTHER_DAYS))
    for holiday in holidays():
        picked |= {holiday, holiday + timedelta(days=1), next(d for d in trading if d > holiday)}
    return sorted(picked)


def comparable(result: Any) -> dict[str, Any]:
    """The answer as JSON (per-fund dicts compare by key, not by the column order the page had)."""
    out: dict[str, Any] = result.model_dump(mode="json")
    out["sources"] = [{k: v for k, v in ref.items() if k not in SOURCE_FIELDS_THAT_DIFFER} for ref in out["sources"]]
    return out


def comparable_assessment(result: Any) -> dict[str, Any]:
    out = comparable(result)
    out["sources"] = sorted(out["sources"], key=lambda ref: (ref["name"], ref["stale"]))
    for name in ASSESSMENT_FIELDS_IN_ARRIVAL_ORDER:
        del out[name]
    return out


def farside_down(request: httpx.Request, path: str) -> httpx.Response:
    return httpx.Response(503, text="down")


@asynccontextmanager
async def deps_on(tmp_path: Path, fake: FakeUpstream, store: SqliteStore | None) -> AsyncIterator[Deps]:
    """Fresh deps per answer (an empty HTTP cache, so a page served for one date is never reused for another)."""

    async def no_sleep(seconds: float) -> None:
        return None

    settings = make_settings(tmp_path)
    async with open_deps(
        settings, transport=fake.transport(), store=store or SqliteStore(tmp_path / "unused.sqlite3"),
        clock=lambda: NOW, sleep=no_sleep,
    ) as deps:  # fmt: skip
        yield deps if store is not None else replace(deps, store=None)


def at(day: date) -> PointInTime:
    return PointInTime.parse(day.isoformat(), NOW)


async def test_the_dates_cover_every_farside_holiday_row() -> None:
    picked = dates()
    assert len(holidays()) == 16
    assert set(holidays()) <= set(picked)
    assert len(picked) >= 40
    assert all(date(2024, 1, 1) <= d <= date(2025, 12, 31) for d in picked)


async def fill(tmp_path: Path, store: SqliteStore, how: str, asset: str = "BTC") -> None:
    """The whole history into the store: as a live call after the last day writes it, or as `windvane import` of
    the same Farside export does."""
    if how == "import":
        plan = read_etf_flows(DATA / "01_us_spot_btc_etf_flows_farside" / ETF_FLOW_FILES[asset], asset)
        await store.upsert(plan.observations)
    else:
        async with deps_on(tmp_path, default_fake(), store) as deps:
            filled = await compute_etf_flows(deps, asset, 5, PointInTime(now=NOW))
        assert filled.source_used == "farside"
    # A holiday is a marker beside the flows, never a flow: no TOTAL row on any of Farside's holiday rows.
    flows = {o.ts.date() for o in await store.read(SeriesKey("farside", "net_flow_usd", asset, "TOTAL"))}
    marked = {o.ts.date() for o in await store.read(etf_store.not_reported_key("farside", asset))}
    listed_holidays = set(holidays(asset))
    assert marked == listed_holidays
    assert not flows & listed_holidays


@pytest.mark.parametrize(("asset", "how"), [("BTC", "fetch"), ("BTC", "import"), ("ETH", "fetch")])
async def test_store_answers_equal_the_truncated_upstream(tmp_path: Path, asset: str, how: str) -> None:
    store = SqliteStore(tmp_path / "history.sqlite3")
    try:
        await fill(tmp_path, store, how, asset)
        down = default_fake()
        down.faults["farside"] = farside_down
        mismatches: list[str] = []
        for day in dates():
            async with deps_on(tmp_path, down, store) as deps:
                stored = await compute_etf_flows(deps, asset, 30, at(day))
            replay = default_fake()
            replay.handlers["farside"] = fake_farside.handler(last_day=day.isoformat())
            async with deps_on(tmp_path, replay, None) as deps:
                truncated = await compute_etf_flows(deps, asset, 30, at(day))
            if day >= LAUNCH[asset]:  # before launch neither asks anyone
                assert stored.sources[0].endpoint.startswith("store:farside"), day  # really served from the store
            if comparable(stored) != comparable(truncated):
                mismatches.append(diff(day, comparable(stored), comparable(truncated)))
        assert not mismatches, "\n".join(mismatches)
    finally:
        await store.close()


def diff(day: date, stored: dict[str, Any], truncated: dict[str, Any]) -> str:
    """The fields that differ, and for `days` the first differing row, short enough to read in a failure."""
    parts = []
    for key in sorted(k for k in stored.keys() | truncated.keys() if stored.get(k) != truncated.get(k)):
        a, b = stored.get(key), truncated.get(key)
        if key == "days" and isinstance(a, list) and isinstance(b, list):
            pairs = [(x, y) for x, y in zip(a, b, strict=False) if x != y]
            a, b = pairs[0] if pairs else (len(a), len(b))
        parts.append(f"{key}: store {str(a)[:400]} vs truncated {str(b)[:400]}")
    return f"{day}: " + "; ".join(parts)


async def test_assessment_from_the_store_equals_the_truncated_upstream(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "history.sqlite3")
    try:
        await fill(tmp_path, store, "fetch")
        down = default_fake()
        down.faults["farside"] = farside_down
        mismatches: list[str] = []
        verdicts: set[str] = set()
        for day in dates():
            async with deps_on(tmp_path, down, store) as deps:
                stored = await compute_assessment(deps, "BTC", at(day))
            replay = default_fake()
            replay.handlers["farside"] = fake_farside.handler(last_day=day.isoformat())
            async with deps_on(tmp_path, replay, None) as deps:
                truncated = await compute_assessment(deps, "BTC", at(day))
            a, b = comparable_assessment(stored), comparable_assessment(truncated)
            if a != b:
                mismatches.append(diff(day, a, b))
            verdicts.add(a["verdict"])
        assert not mismatches, "\n".join(mismatches)
        assert len(verdicts) >= 2  # the dates span different readings, so equal answers are not all one answer
    finally:
        await store.close()
