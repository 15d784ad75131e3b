"""The summary view of a result (`detail="summary"`): the readings whole, long series cut to their latest rows.

A result sits in the model's context; a 30-day table of twelve funds is mostly rows nobody reads. The view is
applied to the finished result at the MCP boundary only, so everything a tool (or the assessment) computes still
comes from the full data. What was cut is counted in `omitted`, field by field, so the view never passes for the
whole answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from schemas.common import SourceRef, ToolResult
from tools.args import SUMMARY_ROWS

OutT = TypeVar("OutT", bound=ToolResult)
RowT = TypeVar("RowT")


def fold_sources(sources: Sequence[SourceRef]) -> list[SourceRef]:
    """One reference per upstream, in first-seen order: a stale one if any of its endpoints was served stale,
    otherwise the oldest fetch, so the folded list never looks fresher than the full one."""
    chosen: dict[str, SourceRef] = {}
    for ref in sources:
        kept = chosen.get(ref.name)
        if kept is None or (ref.stale, ref.age_seconds) > (kept.stale, kept.age_seconds):
            chosen[ref.name] = ref
    return list(chosen.values())


def latest_rows(rows: Sequence[RowT], keep: int = SUMMARY_ROWS) -> tuple[list[RowT], int]:
    """The last `keep` rows (series are oldest first) and how many earlier ones were left out."""
    kept = list(rows[-keep:]) if keep > 0 else []
    return kept, len(rows) - len(kept)


def summary_view(
    result: OutT, updates: Mapping[str, object] | None = None, omitted: Mapping[str, int] | None = None
) -> OutT:
    """`result` with `updates` applied and its sources folded; `omitted` lists every field that lost rows."""
    counts = {name: n for name, n in (omitted or {}).items() if n > 0}
    sources = fold_sources(result.sources)
    if len(sources) < len(result.sources):
        counts["sources"] = len(result.sources) - len(sources)
    return result.model_copy(update={**(updates or {}), "sources": sources, "omitted": counts})
