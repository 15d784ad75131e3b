"""The one tool registry: what each tool is, takes, returns and does for `collect` and `backfill`.

The server publishes a handler per `ToolSpec` (server/tool_handlers.py), `windvane collect` runs every `collect`,
`windvane backfill` every `backfill`, the methodology resource joins every `methodology`, and the assessment calls
its sub-tools through their specs. Adding a tool means adding its subpackage and one entry in `tool_specs()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from fetchers.call_context import call_context
from schemas.common import ToolResult
from tools.args import check_arguments
from tools.deps import Deps, ToolConfig
from tools.history.degraded import noting_faults, with_fault_warning
from tools.point_in_time import PointInTime
from tools.provenance import with_no_route

ArgsT = TypeVar("ArgsT", bound="ToolArgs")
OutT = TypeVar("OutT", bound=ToolResult)


class ToolArgs(BaseModel):
    """Base of every tool's input model. Each model declares `as_of: AsOfArg = None` after its own arguments
    (only presentation switches such as `chart` follow it): a field declared here would come first in the
    published schema, before the tool's own arguments.

    Validation is strict at the edge for every field a tool declares: unknown names are refused naming the valid
    ones, a boolean never stands for a number, and no error message quotes the rejected value (pydantic's
    `input_value` is hidden; our own messages quote a short prefix)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    if TYPE_CHECKING:
        as_of: str | None

    @model_validator(mode="before")
    @classmethod
    def _known_arguments(cls, data: Any) -> Any:
        return check_arguments(cls.model_fields, data)


@dataclass(frozen=True)
class ToolSpec(Generic[ArgsT, OutT]):
    name: str
    title: str
    description: str
    methodology: str
    args: type[ArgsT]  # the input model: its fields are the tool's published arguments
    output: type[OutT]
    run: Callable[[Deps, ArgsT, PointInTime], Awaitable[OutT]]
    # Records what the tool's upstreams report only "now", so its history accrues (`windvane collect`).
    collect: Callable[[Deps], Awaitable[int]] | None = None
    # Fills the history store from historical endpoints for [since, until] (`windvane backfill`).
    backfill: Callable[[Deps, date, date], Awaitable[int]] | None = None
    # Keeps the store current for what the tool would otherwise page through in a call (OKX's liquidation cursor):
    # `windvane serve` runs it in the background, `windvane collect` on each round.
    refresh: Callable[[Deps], Awaitable[int]] | None = None
    # True for a tool that waits on other tools' deadlines (the assessment): it gets a little longer.
    composite: bool = False
    # The result's summary view (detail="summary", tools/detail.py): which series are cut to their latest rows.
    # Without one, the summary only folds sources to one per upstream.
    summarize: Callable[[OutT], OutT] | None = None

    def present(self, args: ArgsT, result: OutT) -> OutT:
        """What the client gets: the summary view unless the call asked for detail="full". Applied after `run`,
        so whatever the result was computed from, it was the full data."""
        if getattr(args, "detail", "full") != "summary":
            return result
        if self.summarize is not None:
            return self.summarize(result)
        from tools.detail import summary_view

        return summary_view(result)

    def deadline_s(self, config: ToolConfig) -> float:
        return config.tool_deadline_s + (config.assess_extra_deadline_s if self.composite else 0.0)

    async def run_within_deadline(self, deps: Deps, args: ArgsT, pit: PointInTime) -> OutT:
        """`run`, with every upstream request it makes ending by this tool's deadline; a history store that
        failed during the call is said once in its warnings."""
        with call_context(self.deadline_s(deps.config)) as call, noting_faults() as faults:
            result = await self.run(deps, args, pit)
        warnings = with_fault_warning(result.warnings, faults)
        if call.reachability.no_route():
            warnings = with_no_route(warnings, call.reachability)
        return result if warnings == result.warnings else result.model_copy(update={"warnings": warnings})


def tool_specs() -> tuple[ToolSpec[Any, Any], ...]:
    """Every tool, in the order `tools/list` publishes them. Imported on first use: `windvane --help` stays cheap."""
    from tools.assess.tool import SPEC as ASSESS
    from tools.etf.tool import SPEC as ETF
    from tools.leverage.tool import SPEC as LEVERAGE
    from tools.macro.tool import SPEC as MACRO
    from tools.premium.tool import SPEC as PREMIUM
    from tools.reserves.tool import SPEC as RESERVES

    return (PREMIUM, RESERVES, ETF, LEVERAGE, MACRO, ASSESS)
