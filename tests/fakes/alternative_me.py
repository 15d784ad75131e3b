"""Fake alternative.me /fng/: the real daily index history in shared/data/07, served newest first as the API does.

The fake's "today" is SERVED_THROUGH (tests.conftest.FROZEN_NOW's date): the live API never returns later days.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from functools import cache

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import DATA

SERVED_THROUGH = {"day": date(2025, 11, 26)}


@cache
def history() -> list[tuple[date, int, str]]:
    path = DATA / "07_fear_greed_alternative_me" / "fear_greed_index_daily.csv"
    with path.open() as fh:
        return [
            (date.fromisoformat(r["date"]), int(r["fng_value"]), r["fng_classification"]) for r in csv.DictReader(fh)
        ]


def fng(request: httpx.Request, path: str) -> httpx.Response:
    if path != "/fng/":
        return httpx.Response(404, text="Not Found")
    limit = int(request.url.params.get("limit", 1))
    rows = sorted((r for r in history() if r[0] <= SERVED_THROUGH["day"]), reverse=True)
    rows = rows if limit == 0 else rows[:limit]
    data = []
    for i, (day, value, label) in enumerate(rows):
        item = {
            "value": str(value),
            "value_classification": label,
            "timestamp": str(int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())),
        }
        if i == 0:
            item["time_until_update"] = "43200"
        data.append(item)
    return httpx.Response(200, json={"name": "Fear and Greed Index", "data": data, "metadata": {"error": None}})


def register(fake: FakeUpstream) -> None:
    fake.handlers.update(alternative_me=fng)
