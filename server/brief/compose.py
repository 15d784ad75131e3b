"""The whole brief: the five sections, then every source once, then the warnings grouped by tool, each once.

The assessment repeats its sub-tools' warnings with a "tool: " prefix, and calls the reserve tool twice (7 and
30 days); the brief quotes the tools themselves too. Grouping by tool and dropping repeats leaves each once.
"""

from __future__ import annotations

import re

from schemas.common import SourceRef, ToolResult
from server.brief import evidence, labels, liquidity, markets, outlook
from server.brief.document import BriefDoc, WarningGroup
from server.brief.gather import BriefInputs

ASSESSMENT = labels.tool("assess_rebound_vs_reversal")
SEVERAL = "Several tools"
# A snake_case tool or signal name as a whole word: replaced by its label in warning text. Plain words that are
# also signal names ("funding") are left alone.
_SNAKE_NAMES = sorted((n for n in [*labels.TOOLS, *labels.SIGNALS] if "_" in n), key=len, reverse=True)
_NAMES = re.compile(r"\b(" + "|".join(_SNAKE_NAMES) + r")\b")
# The circuit breaker's note on a repeat of the same failure: the same warning for grouping.
_MORE = re.compile(r"\d+ more warning\(s\); call the tool itself")
_REPEAT = re.compile(r"; not asked again for [\d.]+ s\)")


def _humanize_names(text: str) -> str:
    return _NAMES.sub(lambda m: labels.TOOLS.get(m.group(1)) or labels.signal(m.group(1)), text)


def tool_outputs(inp: BriefInputs) -> list[tuple[str, ToolResult]]:
    named: list[tuple[str, ToolResult | None]] = [
        ("get_macro_backdrop", inp.macro),
        ("get_etf_flows", inp.etf),
        ("get_coinbase_premium", inp.premium),
        ("get_leverage_state", inp.leverage),
        ("exchange_reserve_trend", inp.reserves),
        ("assess_rebound_vs_reversal", inp.assessment),
    ]
    return [(name, out) for name, out in named if out is not None]


def group_warnings(inp: BriefInputs) -> list[WarningGroup]:
    groups: dict[str, list[str]] = {}

    seen: set[tuple[str, str]] = set()

    def add(heading: str, text: str) -> None:
        text = _humanize_names(text)
        key = (heading, _REPEAT.sub(")", text))
        if key not in seen:
            seen.add(key)
            groups.setdefault(heading, []).append(text)

    for name, out in tool_outputs(inp):
        if name == "assess_rebound_vs_reversal":
            continue
        for warning in out.warnings:
            add(labels.tool(name), warning)
    for name, why in inp.failures.items():
        add(labels.tool(name), f"no answer: {why}")
    quoted = {name for name, _ in tool_outputs(inp)}
    for warning in inp.assessment.warnings:
        prefix, sep, rest = warning.partition(": ")
        tool = prefix.split(" (")[0]  # "exchange_reserve_trend (7d)" -> the tool
        if sep and tool in labels.TOOLS:
            if tool in quoted and _MORE.match(rest):
                continue  # the assessment's cut-off note; the brief lists that tool's warnings in full
            add(labels.tool(tool), rest)
        else:
            add(ASSESSMENT, warning)
    return _shared_first(groups)


def _shared_first(groups: dict[str, list[str]]) -> list[WarningGroup]:
    """A warning several tools gave (the history store is unavailable, no upstream is reachable) is listed once,
    first, under SEVERAL with the tools that gave it, instead of once under each tool."""
    headings: dict[str, list[str]] = {}
    for heading, messages in groups.items():
        for text in messages:
            headings.setdefault(text, []).append(heading)
    shared = [text for text, where in headings.items() if len(where) > 1]
    out = [WarningGroup(SEVERAL, [f"{text} ({', '.join(headings[text])})" for text in shared])] if shared else []
    for heading, messages in groups.items():
        own = [text for text in messages if text not in shared]
        if own:
            out.append(WarningGroup(heading, own))
    return out


def source_lines(inp: BriefInputs) -> list[str]:
    seen: dict[str, SourceRef] = {}
    for _, out in tool_outputs(inp):
        for ref in out.sources:
            seen.setdefault(ref.endpoint, ref)
    lines = []
    for ref in sorted(seen.values(), key=lambda r: (labels.source(r.name), r.endpoint)):
        state = "STALE" if ref.stale else "fresh"
        lines.append(
            f"{labels.source(ref.name)}: {ref.endpoint} ({state}, fetched {ref.fetched_at:%Y-%m-%d %H:%M} UTC)"
        )
    return lines


def compose(inp: BriefInputs) -> BriefDoc:
    out = inp.assessment
    as_of = out.as_of.strftime("%Y-%m-%d %H:%M UTC")
    return BriefDoc(
        title=f"windvane brief: {out.asset} as of {as_of}",
        headline=outlook.verdict_line(out),
        sections=[
            markets.global_risk(inp),
            evidence.evidence(inp),
            markets.rerating(inp),
            liquidity.liquidity(inp),
            outlook.outlook(inp),
        ],
        sources=source_lines(inp),
        warnings=group_warnings(inp),
    )
