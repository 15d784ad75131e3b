"""assess_rebound_vs_reversal: every indicator tool's evidence, gathered concurrently and scored by one table.

Gathering lives in tools/assess/gather.py (sub-tools through their registry specs, the trend candles), the typed
adapters in adapters.py, the declarative scoring table in scoring.py and the summary in summary.py.
"""

from __future__ import annotations

from schemas.assess import Assessment
from tools.args import AsOfArg, Asset, AssetArg, ChartArg
from tools.assess.gather import gather_inputs
from tools.assess.scoring import methodology_markdown, score
from tools.assess.summary import summarize
from tools.deps import Deps
from tools.point_in_time import PointInTime
from tools.registry import ToolArgs, ToolSpec

DESCRIPTION = """After a sharp drop, is the bounce a rebound inside a downtrend or a real reversal? Gathers ETF
flows, Coinbase premium, leverage, exchange reserves, macro and trend, reads each signal bullish/bearish/neutral/
unavailable against published thresholds, and returns verdict (reversal | rebound_in_downtrend | undetermined),
score (-1..1), confidence and coverage (0..1), per-signal evidence with source and as-of, flip_signals (what would
change the verdict: current, threshold, met, distance) and a one-paragraph summary. Missing data lowers coverage."""

METHODOLOGY = methodology_markdown()


async def compute_assessment(deps: Deps, asset: Asset, pit: PointInTime) -> Assessment:
    got = await gather_inputs(deps, asset, pit)
    result = score(got.inputs)
    for signal in result.signals:
        if signal.reading == "unavailable":
            got.prov.warn(f"{signal.name} {signal.evidence}")
    return Assessment(
        as_of=pit.at,
        asset=asset,
        verdict=result.verdict,
        score=result.score,
        confidence=result.confidence,
        coverage=result.coverage,
        signals=result.signals,
        flip_signals=result.flip_signals,
        summary=summarize(asset, result),
        sources=got.sources(),
        warnings=got.prov.warnings,
    )


class AssessArgs(ToolArgs):
    asset: AssetArg = "BTC"
    as_of: AsOfArg = None
    chart: ChartArg = False


async def run(deps: Deps, args: AssessArgs, pit: PointInTime) -> Assessment:
    return await compute_assessment(deps, args.asset, pit)


SPEC = ToolSpec(
    name="assess_rebound_vs_reversal",
    title="Rebound or reversal?",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=AssessArgs,
    output=Assessment,
    run=run,
    composite=True,
)
