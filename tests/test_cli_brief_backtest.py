"""`windvane brief` and `windvane backtest` on the fake upstream and the shared CSV history."""

from __future__ import annotations

import json

import pytest

from server.commands.backtest import backtest_text
from server.commands.brief import brief_text
from server.settings import Settings
from tests.fakes import FakeUpstream
from tests.fakes.data import DATA

pytestmark = pytest.mark.anyio


async def test_brief_text_has_the_five_sections_and_sources(settings: Settings, fake: FakeUpstream) -> None:
    text = await brief_text(settings, "BTC", "2025-11-24", False, transport=fake.transport())
    order = ["1. Global risk assets", "2. The evidence", "3. BTC's re-rating", "4. Liquidity", "5. Outlook", "Sources"]
    positions = [text.index(title) for title in order]
    assert positions == sorted(positions)
    assert "Coinbase: http://fake.test/coinbase/products/BTC-USD/candles (fresh" in text
    assert "now US$88,266.20, threshold US$107,482.00" in text
    # The verdict's record in the backtest, beside the verdict (the plain text wraps at 100 columns).
    flat = " ".join(text.split())
    assert "Track record 2024-01-01 to 2026-03-05: rebound inside a downtrend on 195 days" in flat
    assert "no edge over that simple rule" in flat


async def test_brief_json_is_the_tool_output(settings: Settings, fake: FakeUpstream, make_client) -> None:
    out = json.loads(await brief_text(settings, "BTC", "2025-11-24", True, transport=fake.transport()))
    async with make_client() as client:
        tool = (await client.call_tool("assess_rebound_vs_reversal", {"as_of": "2025-11-24"})).structured_content
    for key in ("verdict", "score", "evidence_agreement", "coverage", "summary", "flip_signals"):
        assert out[key] == tool[key], key
    assert [s["value"] for s in out["signals"]] == [s["value"] for s in tool["signals"]]


async def test_backtest_text_on_shared_data(settings: Settings) -> None:
    from datetime import date

    text = await backtest_text(settings, date(2025, 10, 1), date(2025, 11, 30), "BTC", DATA)
    # the whole range is after the thresholds were fixed (2025-05-02): all of it is out of sample
    assert "61 days scored" in text
    assert "skipped" not in text
    assert "**In sample**" not in text
    assert "**Out of sample** (2025-10-01 to 2025-11-30" in text
    assert "| verdict: rebound_in_downtrend |" in text


def test_backtest_rejects_reversed_range(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    # Through the command's run() rather than cli.main(), which would reconfigure global logging for later tests.
    import argparse
    from datetime import date

    from server.commands import backtest

    args = argparse.Namespace(start=date(2025, 2, 1), end=date(2025, 1, 1), asset="BTC", data_dir=DATA, replay=False)
    assert backtest.run(args, settings) == 2
    assert "before --from" in capsys.readouterr().err


async def test_brief_rejects_a_bad_date(settings: Settings, fake: FakeUpstream) -> None:
    from tools.errors import InputError

    with pytest.raises(InputError, match="not an ISO date"):
        await brief_text(settings, "BTC", "last tuesday", False, transport=fake.transport())


async def test_replay_provider_scores_what_the_tool_would_have_said(settings: Settings, fake: FakeUpstream) -> None:
    """The default backtest history replays the tools with as_of: each day's inputs are the assessment's own."""
    from datetime import date

    from server.backtest.replay import ToolReplayProvider
    from server.backtest.report import run_backtest
    from server.runtime import open_deps
    from tests.conftest import FROZEN_NOW
    from tests.fakes.data import coinbase_daily, day_ts
    from tools.assess.tool import compute_assessment
    from tools.point_in_time import PointInTime

    async with open_deps(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW) as deps:
        provider = ToolReplayProvider(deps)
        report = await run_backtest(provider, date(2025, 10, 20), date(2025, 10, 22))
        closes = await provider.closes(date(2025, 10, 20), date(2025, 11, 21))
        for day in report.days:
            live = await compute_assessment(deps, "BTC", PointInTime.parse(day.day.isoformat(), deps.clock()))
            assert (day.verdict, day.score, day.coverage) == (live.verdict, live.score, live.coverage)
    assert [d.day for d in report.days] == [date(2025, 10, 20), date(2025, 10, 21), date(2025, 10, 22)]
    assert closes[date(2025, 10, 20)] == coinbase_daily()[day_ts("2025-10-20")][3]
    first = report.days[0]
    expected = 100 * (coinbase_daily()[day_ts("2025-10-27")][3] / coinbase_daily()[day_ts("2025-10-20")][3] - 1)
    assert first.forward_pct[7] == pytest.approx(expected)


async def test_backtest_on_an_empty_store_says_what_to_do(settings: Settings) -> None:
    from datetime import date

    from tools.errors import InputError

    with pytest.raises(InputError, match="windvane backfill --since 2025-01-01"):
        await backtest_text(settings, date(2025, 1, 1), date(2025, 1, 31), "BTC", None)
