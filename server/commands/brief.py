"""`windvane brief`: the rebound-or-reversal assessment as a readable report, or as the tool's JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from server.settings import Settings

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


def _num(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f}M"
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"


def _value(signal: dict[str, Any]) -> str:
    value = signal["value"]
    if value is None:
        return "n/a"
    unit = signal["unit"]
    if unit.startswith("USD") and abs(value) >= 1e6:
        return f"{value / 1e6:+,.1f}M {unit}"
    return f"{value:+,.4g} {unit}"


def _signal_line(signal: dict[str, Any]) -> str:
    stale = " STALE" if signal.get("stale") else ""
    as_of = (signal.get("as_of") or "")[:10]
    where = f"  [{signal['source']}, {as_of}{stale}]" if signal.get("source") else ""
    if signal["reading"] == "unavailable":
        return f"  - {signal['name']:<22} unavailable: {signal['evidence'].removeprefix('unavailable: ')}"
    return f"  - {signal['name']:<22} {_value(signal):>22}  {signal['reading']:<8} (weight {signal['weight']}){where}"


def render(out: dict[str, Any]) -> str:
    lines = [f"windvane brief: {out['asset']} as of {out['as_of']}", ""]
    for title, groups in SECTIONS:
        lines.append(title)
        chosen = [s for s in out["signals"] if s["group"] in groups]
        lines += [_signal_line(s) for s in chosen] or ["  (no signals)"]
        lines.append("")
    lines += [
        "Verdict",
        f"  {out['verdict']}  score {out['score']:+.2f}  confidence {out['confidence']:.2f}  "
        f"coverage {out['coverage']:.0%}",
        f"  {out['summary']}",
        "",
        "What to watch (flip signals)",
    ]
    for flip in out["flip_signals"]:
        if flip["met"] is None:
            state = "unknown (data unavailable)"
        else:
            state = "MET" if flip["met"] else f"not met, {_num(flip['distance'])} {flip['unit']} to go"
        current = "n/a" if flip["current"] is None else _num(flip["current"])
        threshold = "n/a" if flip["threshold"] is None else _num(flip["threshold"])
        lines.append(f"  - {flip['condition']}: now {current}, threshold {threshold} -> {state}")
    lines += ["", "Sources"]
    for src in out["sources"]:
        stale = "STALE" if src["stale"] else "fresh"
        lines.append(f"  - {src['name']}: {src['endpoint']} ({stale}, {src['age_seconds']:.0f}s old)")
    if out["warnings"]:
        lines += ["", "Warnings"] + [f"  - {w}" for w in out["warnings"]]
    return "\n".join(lines)


async def brief_text(
    settings: Settings, asset: str, as_of: str | None, as_json: bool, transport: httpx.AsyncBaseTransport | None = None
) -> str:
    from server.runtime import open_deps
    from tools.assess.tool import compute_assessment
    from tools.point_in_time import PointInTime

    async with open_deps(settings, transport=transport) as deps:
        result = await compute_assessment(deps, asset, PointInTime.parse(as_of, deps.clock()))
    out = result.model_dump(mode="json")
    return json.dumps(out, indent=2) if as_json else render(out)


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
