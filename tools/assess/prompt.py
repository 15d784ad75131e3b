"""The `market_brief` prompt: asks the model to call every windvane tool and write a sourced brief."""

from __future__ import annotations

from tools.args import parse_asset

BRIEF_PROMPT = """Write a sourced market brief for {asset} answering: is the current bounce a rebound inside a
downtrend or a real reversal?

Call the windvane tools (get_macro_backdrop, get_etf_flows, get_coinbase_premium, get_leverage_state,
exchange_reserve_trend, assess_rebound_vs_reversal) with asset="{asset}", then write, in the order of a market
commentary (the same five sections as `windvane brief`):
1. Global risk assets: the US index moves, the Fed cut odds and the next FOMC date.
2. The evidence: ETF flows month to date against the record, the largest fund's share, the latest completed day;
   the Coinbase premium's level, streak and since-date; leverage flushed or building (liquidations, open interest,
   funding) and thin order books near round levels.
3. BTC's re-rating: correlation and beta to the Nasdaq, the drawdowns of BTC and of the total market cap.
4. Liquidity: exchange reserves per exchange, institutional venues against retail ones.
5. Outlook: the assessment's verdict with its score, evidence agreement and coverage, its track record in plain
   words (say so when it has shown no edge), each flip signal with its current value, threshold and distance, and
   the next catalysts.
Cite the source and as-of time of every figure. Say which figures were unavailable or stale (see `warnings`);
never fill a gap with a guess."""


def market_brief(asset: str = "BTC") -> str:
    # Validated as the tools validate it: the prompt never pastes arbitrary text in front of the model.
    return BRIEF_PROMPT.format(asset=parse_asset(asset or "BTC"))
