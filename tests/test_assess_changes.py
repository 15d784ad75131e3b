"""assess_rebound_vs_reversal(since=...): what changed is exactly the difference between the two separate answers."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio

SINCE, AS_OF = "2025-11-17", "2025-11-24"


async def assess(client: Any, **args: Any) -> dict[str, Any]:
    result = await client.call_tool("assess_rebound_vs_reversal", args)
    assert not result.is_error, result.content
    return dict(result.structured_content)


async def test_changes_since_a_week_earlier_are_the_two_answers_difference(make_client) -> None:
    async with make_client() as client:
        delta = await assess(client, as_of=AS_OF, since=SINCE)
        then = await assess(client, as_of=SINCE)
        now = await assess(client, as_of=AS_OF)
    changes = delta["changes"]
    then_signals = {s["name"]: s for s in then["signals"]}
    now_signals = {s["name"]: s for s in now["signals"]}
    differ = [name for name, s in now_signals.items() if then_signals[name]["reading"] != s["reading"]]
    assert differ  # the week of 2025-11-17 to 11-24 moved several readings
    assert [c["name"] for c in changes["signals_changed"]] == differ
    # One signal checked figure by figure against the two separate answers.
    oi = next(c for c in changes["signals_changed"] if c["name"] == "open_interest_7d")
    assert (oi["reading_then"], oi["value_then"]) == (then_signals["open_interest_7d"]["reading"],
                                                      then_signals["open_interest_7d"]["value"])  # fmt: skip
    assert (oi["reading_now"], oi["value_now"]) == (now_signals["open_interest_7d"]["reading"],
                                                    now_signals["open_interest_7d"]["value"])  # fmt: skip
    assert oi["reading_then"] != oi["reading_now"]
    flips_then = {f["name"]: f for f in then["flip_signals"]}
    flips_now = {f["name"]: f for f in now["flip_signals"]}
    assert len(changes["flip_signals"]) == len(flips_now) == 4
    for flip in changes["flip_signals"]:
        assert flip["distance_then"] == flips_then[flip["name"]]["distance"]
        assert flip["distance_now"] == flips_now[flip["name"]]["distance"]
        assert (flip["met_then"], flip["met_now"]) == (flips_then[flip["name"]]["met"], flips_now[flip["name"]]["met"])
    assert (changes["verdict_then"], changes["verdict_now"]) == (then["verdict"], now["verdict"])
    assert (changes["score_then"], changes["score_now"]) == (then["score"], now["score"])
    assert changes["since"].startswith(SINCE)
    # The answer for as_of itself is unchanged by asking for the delta.
    for key in ("verdict", "score", "signals", "flip_signals"):
        assert delta[key] == now[key], key
    assert now["changes"] is None
    assert "open_interest_7d neutral -> bullish" in changes["summary"]


@pytest.mark.parametrize(
    ("since", "needle"), [("2025-11-24", "must be before as_of"), ("2025-12-01", "in the future"), ("last week", "ISO")]
)
async def test_a_since_not_before_as_of_is_a_clear_tool_error(make_client, since: str, needle: str) -> None:
    async with make_client() as client:
        result = await client.call_tool("assess_rebound_vs_reversal", {"as_of": AS_OF, "since": since})
    assert result.is_error
    assert needle in result.content[0].text
    assert "Traceback" not in result.content[0].text
