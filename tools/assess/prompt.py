"""The `market_brief` prompt: asks the model to call every windvane tool and write a sourced brief."""

from __future__ import annotations

from tools.args import parse_asset

BRIEF_PROMPT = """Write a sourced market brief for {asset} answering: is the current bounce a rebound inside a
downtrend or a real reversal?

Call the windvane tools (get_macro_backdrop, get_etf_flows, get_coinbase_premium, get_leverage_state,
exchange_reserve_trend, assess_rebound_vs_reversal) with asset="{asset}", then write, in this order:
1. Macro backdrop: equity indices, Fed cut odds, BTC-Nasdaq correlation/beta, market-cap drawdown.
2. Evidence: ETF flows (5-day, month-to-date, streak), the Coinbase premium (level and streak), leverage
   (open interest, funding, liquidations).
3. Liquidity: exchange reserves and net flow.
4. Verdict and what to watch: the assessment's verdict with its score, evidence agreement and coverage, its
   track record in plain words (say so when it has shown no edge), then each flip signal with its current value,
   threshold and distance.
Cite the source and as-of time of every figure. Say which figures were unavailable or stale (see `warnings`);
never fill a gap with a guess."""


def market_brief(asset: str = "BTC") -> str:
    # Validated as the tools validate it: the prompt never pastes arbitrary text in front of the model.
    return BRIEF_PROMPT.format(asset=parse_asset(asset or "BTC"))
