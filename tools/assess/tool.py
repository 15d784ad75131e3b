"""assess_rebound_vs_reversal: every indicator tool's evidence, gathered concurrently and scored by one table.

Gathering lives in tools/assess/gather.py (sub-tools through their registry specs, the trend candles), the typed
adapters in adapters.py, the declarative scoring table in scoring.py, the summary in summary.py, the verdict's
track record (the packaged calibration file) in calibration.py and the `since` delta in changes.py.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from fetchers.concurrency import gather
from schemas.assess import Assessment, SignalEvidence
from tools.args import AsOfArg, Asset, AssetArg, ChartArg, DetailArg
from tools.assess.calibration import track_record
from tools.assess.changes import changes
from tools.assess.gather import Gathered, gather_inputs
from tools.assess.scoring import ScoreResult, methodology_markdown, score
from tools.assess.summary import summarize
from tools.deps import Deps
from tools.detail import summary_view
from tools.errors import InputError
from tools.point_in_time import PointInTime
from tools.registry import ToolArgs, ToolSpec

DESCRIPTION = """After a sharp drop, is the bounce a rebound inside a downtrend or a real reversal? Reads ETF flows,
Coinbase premium, leverage, exchange reserves, macro and trend as bullish/bearish/neutral/unavailable against
published thresholds: verdict (reversal | rebound_in_downtrend | undetermined), score, evidence_agreement, coverage,
signals, flip_signals (what would change it), track_record (backtest hit rates vs a 50-day-average rule), summary.
since: changes since then."""

METHODOLOGY = (
    methodology_markdown()
    + """

- `track_record`: the verdict's outcome in the backtest over the shared history, from the packaged
  `tools/assess/data/calibration.json` (written by `windvane backtest ... --write-calibration`): `period`, `days`,
  `expects` (up, down or null), `baseline` (the 50-day-average rule of the same direction), per horizon
  (`horizon_days` 7 and 30) `graded_days`, `hit_rate`, its Wilson 95% interval `ci_low`..`ci_high` (days overlap, so
  the true uncertainty is wider), `baseline_hit_rate`, `mean_return_pct` and `edge` (ci_low above the baseline's
  rate), and `source` (the command). The summary states it in words, saying when the verdict has shown no edge.
- `changes` (with `since`): both points scored in full; `verdict_then`/`verdict_now`, `score_then`/`score_now`,
  `signals_changed[{name, unit, reading_then, reading_now, value_then, value_now}]` (readings that changed),
  `flip_signals[{name, unit, distance_then, distance_now, met_then, met_now}]` and a `summary`."""
)


# Warnings of the `since` assessment that the current one does not already give, at most this many.
MAX_SINCE_WARNINGS = 5

SinceArg = Annotated[
    str | None,
    Field(description="An earlier as_of: adds `changes`."),
]


async def _scored(deps: Deps, asset: Asset, pit: PointInTime) -> tuple[ScoreResult, Gathered]:
    got = await gather_inputs(deps, asset, pit)
    return score(got.inputs), got


def since_point(raw: str, pit: PointInTime) -> PointInTime:
    try:
        since = PointInTime.parse(raw, pit.now)
    except InputError as exc:  # the same grammar as as_of; say which argument it was
        raise InputError(f"since: {exc}") from None
    if since.as_of is None or since.at >= pit.at:
        raise InputError(f"since {raw!r} must be before as_of ({pit.at.strftime('%Y-%m-%dT%H:%M:%SZ')})")
    return since


async def compute_assessment(deps: Deps, asset: Asset, pit: PointInTime, since: str | None = None) -> Assessment:
    earlier = None if since is None else since_point(since, pit)  # a bad `since` fails before any request
    if earlier is None:
        (result, got), then = await _scored(deps, asset, pit), None
    else:
        at = earlier
        (result, got), then = await gather(lambda: _scored(deps, asset, pit), lambda: _scored(deps, asset, at))
    for signal in result.signals:
        if signal.reading == "unavailable":
            got.prov.warn(unavailable_warning(signal))
    record = track_record(result.verdict)
    if record is None:
        got.prov.warn(f"the packaged calibration file has no track record for {result.verdict}")
    delta = None
    if then is not None and earlier is not None:
        then_result, then_got = then
        delta = changes(earlier.at, then_result, result)
        fresh = [w for w in then_got.prov.warnings if w not in got.prov.warnings]
        for warning in fresh[:MAX_SINCE_WARNINGS]:
            got.prov.warn(f"at since {earlier.at.date().isoformat()}: {warning}")
        for ref in then_got.sources():  # what the earlier answer was read from counts as a source too
            got.tool_sources.setdefault(ref.endpoint, ref)
    return Assessment(
        as_of=pit.at,
        asset=asset,
        verdict=result.verdict,
        score=result.score,
        evidence_agreement=result.evidence_agreement,
        coverage=result.coverage,
        signals=result.signals,
        flip_signals=result.flip_signals,
        track_record=record,
        summary=summarize(asset, result, record),
        changes=delta,
        sources=got.sources(),
        warnings=got.prov.warnings,
    )


class AssessArgs(ToolArgs):
    asset: AssetArg = "BTC"
    detail: DetailArg = "summary"
    since: SinceArg = None
    as_of: AsOfArg = None
    chart: ChartArg = False


async def run(deps: Deps, args: AssessArgs, pit: PointInTime) -> Assessment:
    return await compute_assessment(deps, args.asset, pit, args.since)


def unavailable_warning(signal: SignalEvidence) -> str:
    return f"{signal.name} {signal.evidence}"


def summary_of(out: Assessment) -> Assessment:
    # An unavailable signal's warning repeats its evidence sentence word for word: the summary names the signal only.
    short = {
        unavailable_warning(s): f"{s.name} unavailable (the reason is in its evidence)"
        for s in out.signals
        if s.reading == "unavailable"
    }
    return summary_view(out, {"warnings": [short.get(w, w) for w in out.warnings]})


SPEC = ToolSpec(
    name="assess_rebound_vs_reversal",
    title="Rebound or reversal?",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=AssessArgs,
    output=Assessment,
    run=run,
    composite=True,
    summarize=summary_of,
)
