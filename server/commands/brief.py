"""`windvane brief`: the rebound-or-reversal assessment as a readable report, or as the tool's JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from schemas.assess import Assessment, SignalEvidence
    from server.settings import Settings
    from tools.args import Asset

NAME = "brief"
HELP = "print the rebound-or-reversal assessment (macro, evidence, liquidity, verdict, what to watch)"

# Report sections in reading order: macro backdrop -> evidence -> liquidity -> verdict and what to watch.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Macro backdrop", ("macro", "breadth")),
    ("Evidence", ("flows", "premium", "leverage", "trend")),
    ("Liquidity", ("liquidity",)),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--asset", default="BTC", type=str.upper, choices=["BTC", "ETH"])
    parser.add_argument("--as-of", dest="as_of", default=None, help="UTC date (end of day) or ISO datetime")
    parser.add_argument("--json", action="store_true", help="print the tool's structured output as JSON")


def _value(signal: SignalEvidence) -> str:
    value = signal.value
    if value is None:
        return "n/a"
    if signal.unit.startswith("USD") and abs(value) >= 1e6:
        return f"{value / 1e6:+,.1f}M {signal.unit}"
    return f"{value:+,.4g} {signal.unit}"


def _signal_line(signal: SignalEvidence) -> str:
    stale = " STALE" if signal.stale else ""
    as_of = signal.as_of.date().isoformat() if signal.as_of is not None else ""
    where = f"  [{signal.source}, {as_of}{stale}]" if signal.source else ""
    if signal.reading == "unavailable":
        return f"  - {signal.name:<22} unavailable: {signal.evidence.removeprefix('unavailable: ')}"
    return f"  - {signal.name:<22} {_value(signal):>22}  {signal.reading:<8} (weight {signal.weight}){where}"


def render(out: Assessment) -> str:
    from datetime import datetime

    from pydantic import TypeAdapter

    from tools.numbers import human

    as_of = TypeAdapter(datetime).dump_python(out.as_of, mode="json")
    lines = [f"windvane brief: {out.asset} as of {as_of}", ""]
    for title, groups in SECTIONS:
        lines.append(title)
        chosen = [s for s in out.signals if s.group in groups]
        lines += [_signal_line(s) for s in chosen] or ["  (no signals)"]
        lines.append("")
    lines += [
        "Verdict",
        f"  {out.verdict}  score {out.score:+.2f}  evidence agreement {out.evidence_agreement:.2f}  "
        f"coverage {out.coverage:.0%}",
        f"  {out.summary}",
        "",
        "What to watch (flip signals)",
    ]
    for flip in out.flip_signals:
        if flip.met is None:
            state = "unknown (data unavailable)"
        else:
            distance = "n/a" if flip.distance is None else human(flip.distance)
            state = "MET" if flip.met else f"not met, {distance} {flip.unit} to go"
        current = "n/a" if flip.current is None else human(flip.current)
        threshold = "n/a" if flip.threshold is None else human(flip.threshold)
        lines.append(f"  - {flip.condition}: now {current}, threshold {threshold} -> {state}")
    lines += ["", "Sources"]
    for src in out.sources:
        stale = "STALE" if src.stale else "fresh"
        lines.append(f"  - {src.name}: {src.endpoint} ({stale}, {src.age_seconds:.0f}s old)")
    if out.warnings:
        lines += ["", "Warnings"] + [f"  - {w}" for w in out.warnings]
    return "\n".join(lines)


async def brief_text(
    settings: Settings,
    asset: Asset,
    as_of: str | None,
    as_json: bool,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    from server.runtime import open_deps
    from tools.assess.tool import SPEC, AssessArgs
    from tools.point_in_time import PointInTime

    async with open_deps(settings, transport=transport) as deps:
        pit = PointInTime.parse(as_of, deps.clock())
        result = await SPEC.run_within_deadline(deps, AssessArgs(asset=asset, as_of=as_of), pit)
    return json.dumps(result.model_dump(mode="json"), indent=2) if as_json else render(result)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    from tools.errors import InputError

    try:
        text = anyio.run(brief_text, settings, args.asset, args.as_of, args.json)
    except InputError as exc:
        print(f"windvane brief: {exc}", file=sys.stderr)
        return 2
    print(text)
    return 0
