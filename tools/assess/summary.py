"""The assessment's one-paragraph summary: verdict, the readings by direction, and what would flip it."""

from __future__ import annotations

from schemas.assess import TrackRecord
from tools.assess.calibration import statement
from tools.assess.scoring import ScoreResult
from tools.numbers import human


def summarize(asset: str, result: ScoreResult, record: TrackRecord | None) -> str:
    verdict = result.verdict.replace("_", " ")
    head = (
        f"{asset}: {verdict} (score {result.score:+.2f}, evidence agreement {result.evidence_agreement:.2f}, "
        f"coverage {result.coverage:.0%} of signal weight)."
    )

    def names(reading: str) -> str:
        chosen = [s.name for s in result.signals if s.reading == reading]
        return ", ".join(chosen) if chosen else "none"

    parts = [head, f"Bullish: {names('bullish')}.", f"Bearish: {names('bearish')}."]
    missing = names("unavailable")
    if missing != "none":
        parts.append(f"Unavailable: {missing}.")
    watch = [
        f"{f.name} (now {human(f.current)} {f.unit}, threshold {human(f.threshold)}, {human(f.distance)} to go)"
        for f in result.flip_signals
        if f.met is False and f.current is not None and f.threshold is not None and f.distance is not None
    ]
    met = [f.name for f in result.flip_signals if f.met]
    if met:
        parts.append(f"Flip conditions already met: {', '.join(met)}.")
    if watch:
        parts.append(f"Watch: {'; '.join(watch)}.")
    if record is not None:
        parts.append(statement(record, result.verdict))
    return " ".join(parts)
