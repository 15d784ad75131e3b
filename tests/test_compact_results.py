"""Compact results by default (detail="summary"): the budget on the replayed 2025-11-24, and a view, not a new answer.

Sizes are characters of the text a client puts in the model's context (the text mirror of structuredContent);
this is a size assertion on real replayed data, not a timing one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.common import SourceRef
from tests.conftest import TOOLS, make_settings
from tools.detail import fold_sources

pytestmark = pytest.mark.anyio

AS_OF = "2025-11-24"
BUDGET_ALL = 24_000
BUDGET_ETF = 6_000


async def call(client: Any, tool: str, **args: Any) -> tuple[dict[str, Any], str]:
    result = await client.call_tool(tool, {"as_of": AS_OF, **args})
    assert not result.is_error, result.content
    (block,) = result.content
    return dict(result.structured_content), block.text


async def test_default_results_fit_the_budget_and_mirror_structured_content(make_client) -> None:
    sizes = {}
    async with make_client() as client:
        for tool in TOOLS:
            structured, text = await call(client, tool)
            assert json.loads(text) == structured, tool  # the text mirror says exactly what structuredContent says
            sizes[tool] = len(text)
    assert sizes["get_etf_flows"] <= BUDGET_ETF, sizes
    assert sum(sizes.values()) <= BUDGET_ALL, sizes


@pytest.mark.parametrize(("tool", "series", "args"), [("get_coinbase_premium", "history", {"days": 30}),
                                                      ("get_etf_flows", "days", {"days": 30})])  # fmt: skip
async def test_summary_is_the_full_result_with_the_latest_rows(
    make_client, tmp_path, tool: str, series: str, args: dict
) -> None:
    async with make_client() as client:
        summary, _ = await call(client, tool, **args)
    async with make_client(settings_=make_settings(tmp_path / "full")) as client:  # a fresh store: the same requests
        full, _ = await call(client, tool, detail="full", **args)
    assert full["omitted"] == {}
    rows = full[series]
    assert len(rows) > 5
    assert summary[series] == rows[-5:]
    assert summary["omitted"][series] == len(rows) - 5
    # Every reading is the full result's: only the series, the folded sources and `omitted` differ.
    same = {k for k in full if k not in (series, "sources", "omitted")}
    assert {k: summary[k] for k in same} == {k: full[k] for k in same}
    assert [s["endpoint"] for s in summary["sources"]] == [s["endpoint"] for s in fold(full["sources"])]
    assert summary["omitted"].get("sources", 0) == len(full["sources"]) - len(summary["sources"])


def fold(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [ref.model_dump(mode="json") for ref in fold_sources([SourceRef.model_validate(s) for s in sources])]


def test_folded_sources_carry_each_upstreams_worst_freshness() -> None:
    at = datetime(2025, 11, 24, tzinfo=UTC)
    ref = lambda name, path, age, stale=False: SourceRef(  # noqa: E731
        name=name, endpoint=f"https://x.test/{path}", fetched_at=at - timedelta(seconds=age), stale=stale,
        age_seconds=age,
    )  # fmt: skip
    refs = [ref("defillama", "b", 5.0), ref("defillama", "a", 50.0), ref("coinbase", "d", 1.0),
            ref("coinbase", "c", 0.0, stale=True), ref("defillama", "e", 7.0)]  # fmt: skip
    folded = fold_sources(refs)
    assert [(r.name, r.endpoint[-1], r.stale, r.age_seconds) for r in folded] == [
        ("defillama", "a", False, 50.0),
        ("coinbase", "c", True, 1.0),
    ]
    assert folded[0].fetched_at == at - timedelta(seconds=50)
    assert fold_sources(list(reversed(refs))) == folded  # the same fold whatever order requests finished in


async def test_reserves_summary_keeps_by_exchange_and_counts_the_repeated_coverage_rows(make_client) -> None:
    async with make_client() as client:
        summary, _ = await call(client, "exchange_reserve_trend")
        full, _ = await call(client, "exchange_reserve_trend", detail="full")
    assert len([s for s in full["sources"] if s["name"] == "defillama"]) == 10  # one endpoint per exchange page
    assert [s["name"] for s in summary["sources"]] == ["defillama"]
    assert summary["omitted"]["sources"] == 9
    assert summary["by_exchange"] == full["by_exchange"]
    assert summary["coverage"]["exchanges"] == []
    assert summary["omitted"]["coverage.exchanges"] == len(full["coverage"]["exchanges"]) == 10


async def test_the_assessment_is_computed_from_full_data_whatever_the_detail(make_client) -> None:
    async with make_client() as client:
        summary, _ = await call(client, "assess_rebound_vs_reversal")
        full, _ = await call(client, "assess_rebound_vs_reversal", detail="full")
    for name in ("verdict", "score", "evidence_agreement", "coverage", "signals", "flip_signals", "summary"):
        assert summary[name] == full[name], name
