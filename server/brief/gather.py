"""The brief's inputs: the assessment and each indicator tool it quotes, for one point in time, run at once.

The assessment calls the same tools with the same arguments, so the HTTP layer's single-flight and cache make
each upstream request once. A tool that fails or runs out of time leaves its figures "n/a" with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio

from fetchers.concurrency import gather_all
from schemas.assess import Assessment
from schemas.common import ToolResult
from schemas.etf_flows import EtfFlows
from schemas.leverage import LeverageState
from schemas.macro import MacroBackdrop
from schemas.premium import CoinbasePremium
from schemas.reserves import ExchangeReserves
from tools.args import Asset
from tools.deps import Deps
from tools.errors import InputError
from tools.point_in_time import PointInTime
from tools.registry import ToolArgs, ToolSpec

T = TypeVar("T")

# Past its own deadline a tool has this long to assemble its answer before the brief goes without it.
GRACE_S = 3.0


@dataclass
class BriefInputs:
    assessment: Assessment
    premium: CoinbasePremium | None = None
    etf: EtfFlows | None = None
    leverage: LeverageState | None = None
    reserves: ExchangeReserves | None = None
    macro: MacroBackdrop | None = None
    failures: dict[str, str] = field(default_factory=dict)  # tool name -> why it gave no answer

    def missing(self, tool: str) -> str:
        return self.failures.get(tool, f"{tool} gave no answer")


async def _call(deps: Deps, spec: ToolSpec[Any, Any], args: ToolArgs, pit: PointInTime) -> Any:
    with anyio.move_on_after(spec.deadline_s(deps.config) + GRACE_S):
        return await spec.run_within_deadline(deps, args, pit)
    raise TimeoutError(f"not answered within {spec.deadline_s(deps.config) + GRACE_S:g} s")


async def gather_brief(deps: Deps, asset: Asset, as_of: str | None, pit: PointInTime) -> BriefInputs:
    """`pit` is `as_of` parsed once; the tools' input models carry `as_of` as given."""
    from tools.assess.tool import SPEC as ASSESS
    from tools.assess.tool import AssessArgs
    from tools.etf.tool import SPEC as ETF
    from tools.etf.tool import EtfArgs
    from tools.leverage.tool import SPEC as LEVERAGE
    from tools.leverage.tool import LeverageArgs
    from tools.macro.tool import SPEC as MACRO
    from tools.macro.tool import MacroArgs
    from tools.premium.tool import SPEC as PREMIUM
    from tools.premium.tool import PremiumArgs
    from tools.reserves.tool import SPEC as RESERVES
    from tools.reserves.tool import ReservesArgs

    # The same arguments the assessment gives its sub-tools (tools/assess/gather.py), so requests are shared.
    calls: list[tuple[ToolSpec[Any, Any], ToolArgs]] = [
        (PREMIUM, PremiumArgs(asset=asset, days=30, interval="1d", as_of=as_of)),
        (ETF, EtfArgs(asset=asset, days=30, as_of=as_of)),
        (LEVERAGE, LeverageArgs(asset=asset, as_of=as_of)),
        (RESERVES, ReservesArgs(asset=asset, window_days=30, as_of=as_of)),
        (MACRO, MacroArgs(as_of=as_of)),
    ]
    answers: dict[str, ToolResult] = {}
    failures: dict[str, str] = {}

    def one(spec: ToolSpec[Any, Any], args: ToolArgs) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            try:
                answers[spec.name] = await _call(deps, spec, args, pit)
            except InputError as exc:
                failures[spec.name] = f"rejected: {exc}"
            except Exception as exc:  # one tool failing leaves its figures n/a, never the whole brief
                failures[spec.name] = f"{type(exc).__name__}: {exc}"

        return call

    async def assess() -> None:
        answers[ASSESS.name] = await ASSESS.run_within_deadline(deps, AssessArgs(asset=asset, as_of=as_of), pit)

    await gather_all([assess, *(one(spec, args) for spec, args in calls)])
    assessment = answers[ASSESS.name]
    assert isinstance(assessment, Assessment)
    return BriefInputs(
        assessment=assessment,
        premium=_typed(answers.get(PREMIUM.name), CoinbasePremium),
        etf=_typed(answers.get(ETF.name), EtfFlows),
        leverage=_typed(answers.get(LEVERAGE.name), LeverageState),
        reserves=_typed(answers.get(RESERVES.name), ExchangeReserves),
        macro=_typed(answers.get(MACRO.name), MacroBackdrop),
        failures=failures,
    )


def _typed(result: ToolResult | None, kind: type[T]) -> T | None:
    return result if isinstance(result, kind) else None
