"""The verdicts' track record: the packaged calibration file is what the backtest of the shared history gives, and
every assessment carries its verdict's record and says in words when the verdict has shown no edge."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from server.backtest.calibration import PACKAGED, wilson
from server.commands.backtest import backtest_text
from server.settings import Settings
from tests.fakes.data import DATA
from tools.assess.calibration import load_calibration

pytestmark = pytest.mark.anyio


@pytest.mark.usefixtures("shared_data")
async def test_packaged_calibration_is_regenerated_byte_for_byte_from_the_shared_history(
    settings: Settings, tmp_path: Path
) -> None:
    packaged = json.loads(PACKAGED.read_text())
    out = tmp_path / "calibration.json"
    start, end = date.fromisoformat(packaged["start"]), date.fromisoformat(packaged["end"])
    await backtest_text(settings, start, end, "BTC", DATA, calibration_file=out)
    assert out.read_text() == PACKAGED.read_text(), (
        "tools/assess/data/calibration.json is out of date: run " + packaged["generated_by"]
    )
    # The packaged file is the one the assessment reads.
    assert load_calibration().model_dump(mode="json") == packaged


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson(50, 100)
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    low, high = wilson(0, 10)
    assert low == 0.0
    assert round(high, 4) == 0.2775


async def test_every_assessment_carries_its_verdicts_record_and_says_when_it_has_no_edge(make_client) -> None:
    packaged = load_calibration().model_dump(mode="json")
    async with make_client() as client:
        result = await client.call_tool("assess_rebound_vs_reversal", {"as_of": "2025-11-24"})
    out = result.structured_content
    record = out["track_record"]
    entry = packaged["verdicts"][out["verdict"]]
    assert record["days"] == entry["days"]
    assert record["period"] == f"{packaged['start']} to {packaged['end']}"
    by_horizon = {h["horizon_days"]: h for h in record["horizons"]}
    assert sorted(by_horizon) == [7, 30]
    for horizon, h in by_horizon.items():
        want = entry["horizons"][str(horizon)]
        assert (h["hit_rate"], h["ci_low"], h["ci_high"]) == (want["hit_rate"], want["ci_low"], want["ci_high"])
        assert h["ci_low"] <= h["hit_rate"] <= h["ci_high"]
        assert h["baseline_hit_rate"] == want["baseline_hit_rate"]
    assert record["edge"] is entry["edge"] is False  # the shared history shows no edge for this verdict
    assert "no edge over that simple rule" in out["summary"]
    seven = by_horizon[7]
    assert f"after {100 * seven['hit_rate']:.0f}% ({100 * seven['ci_low']:.0f}%-" in out["summary"]
    assert "confidence" not in out


def test_undetermined_calls_no_direction() -> None:
    from tools.assess.calibration import statement, track_record

    record = track_record("undetermined")
    assert record is not None
    assert record.expects is None
    assert all(h.hit_rate is None for h in record.horizons)
    assert "no direction" in statement(record, "undetermined")
