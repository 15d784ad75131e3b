"""Charts of tool results as PNG: premium history, daily ETF flows, reserves per exchange, the assessment's signals.

Nothing here imports matplotlib at module level: `chart_png` imports the renderer for the one chart asked for,
so a server that is never asked for a chart never loads it (bench/cold_start.py, tests/test_charts.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.common import ToolResult

if TYPE_CHECKING:
    from server.brief.gather import BriefInputs

# Tool name -> chart file stem; only these tools take `chart=true`.
CHARTS = {
    "get_coinbase_premium": "premium",
    "get_etf_flows": "etf_flows",
    "exchange_reserve_trend": "exchange_reserves",
    "assess_rebound_vs_reversal": "signals",
}


def chart_png(tool: str, result: ToolResult) -> bytes:
    """The PNG for one tool's result. Raises ValueError for a tool without a chart or a result with nothing to draw."""
    from schemas.assess import Assessment
    from schemas.etf_flows import EtfFlows
    from schemas.premium import CoinbasePremium
    from schemas.reserves import ExchangeReserves

    if tool == "get_coinbase_premium" and isinstance(result, CoinbasePremium):
        from server.charts.premium import premium_chart

        return premium_chart(result)
    if tool == "get_etf_flows" and isinstance(result, EtfFlows):
        from server.charts.etf import etf_chart

        return etf_chart(result)
    if tool == "exchange_reserve_trend" and isinstance(result, ExchangeReserves):
        from server.charts.reserves import reserves_chart

        return reserves_chart(result)
    if tool == "assess_rebound_vs_reversal" and isinstance(result, Assessment):
        from server.charts.signals import signals_chart

        return signals_chart(result)
    raise ValueError(f"{tool} has no chart")


def brief_charts(inputs: BriefInputs) -> list[tuple[str, bytes]]:
    """(file stem, PNG) for every chart the brief's inputs can draw; a tool that gave no answer gives no chart."""
    results: list[tuple[str, ToolResult | None]] = [
        ("get_coinbase_premium", inputs.premium),
        ("get_etf_flows", inputs.etf),
        ("exchange_reserve_trend", inputs.reserves),
        ("assess_rebound_vs_reversal", inputs.assessment),
    ]
    out = []
    for tool, result in results:
        if result is None:
            continue
        try:
            out.append((CHARTS[tool], chart_png(tool, result)))
        except ValueError:
            continue  # nothing to draw (e.g. no history); the brief's text says why
    return out
