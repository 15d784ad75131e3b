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
    """One reference per upstream, in first-seen order, carrying the upstream's worst freshness: stale if any of
    its endpoints was served stale, the oldest fetch and the largest age, so the folded list never looks fresher
    than the full one. Its endpoint is the first in sort order, so the same calls fold the same way whatever
    order their requests finished in."""
    by_name: dict[str, list[SourceRef]] = {}
    for ref in sources:
        by_name.setdefault(ref.name, []).append(ref)
    folded = []
    for name, refs in by_name.items():
        folded.append(
            SourceRef(
                name=name,
                endpoint=min(r.endpoint for r in refs),
                fetched_at=min(r.fetched_at for r in refs),
                stale=any(r.stale for r in refs),
                age_seconds=max(r.age_seconds for r in refs),
            )
        )
    return folded


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
