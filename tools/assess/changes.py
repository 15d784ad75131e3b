"""What changed between two assessments (`since` and `as_of`): readings, flip distances, the verdict.

Both sides are full assessments scored by the same table, so a change listed here is exactly the difference between
the two separate answers.
"""

from __future__ import annotations

from datetime import datetime

from schemas.assess import Changes, FlipChange, SignalChange
from tools.assess.scoring import ScoreResult
from tools.numbers import human


def _distance(value: float | None) -> str:
    return "n/a" if value is None else human(value)


def _change_words(signals: list[SignalChange]) -> str:
    if not signals:
        return "no reading changed"
    listed = ", ".join(f"{s.name} {s.reading_then} -> {s.reading_now}" for s in signals)
    return f"{len(signals)} reading(s) changed: {listed}"


def changes(since: datetime, then: ScoreResult, now: ScoreResult) -> Changes:
    before = {s.name: s for s in then.signals}
    changed = [
        SignalChange(
            name=s.name,
            unit=s.unit,
            reading_then=before[s.name].reading,
            reading_now=s.reading,
            value_then=before[s.name].value,
            value_now=s.value,
        )
        for s in now.signals
        if s.name in before and before[s.name].reading != s.reading
    ]
    flips_then = {f.name: f for f in then.flip_signals}
    flips = [
        FlipChange(
            name=f.name,
            unit=f.unit,
            distance_then=flips_then[f.name].distance,
            distance_now=f.distance,
            met_then=flips_then[f.name].met,
            met_now=f.met,
        )
        for f in now.flip_signals
        if f.name in flips_then
    ]
    moved = [
        f"{f.name} {_distance(f.distance_then)} -> {_distance(f.distance_now)} {f.unit} to go"
        for f in flips
        if f.distance_then != f.distance_now
    ]
    verdict = (
        f"verdict {then.verdict} -> {now.verdict}"
        if then.verdict != now.verdict
        else f"verdict unchanged ({now.verdict})"
    )
    text = f"Since {since.date().isoformat()}: {verdict}, score {then.score:+.2f} -> {now.score:+.2f}; "
    text += _change_words(changed) + "."
    if moved:
        text += f" Flip distances: {'; '.join(moved)}."
    return Changes(
        since=since,
        verdict_then=then.verdict,
        verdict_now=now.verdict,
        score_then=then.score,
        score_now=now.score,
        signals_changed=changed,
        flip_signals=flips,
        summary=text,
    )
