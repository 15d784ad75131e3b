"""Human labels for the names tools use (signals, exchanges, categories, tools, sources): no snake_case in the brief."""

from __future__ import annotations

SIGNALS = {
    "cut_odds_change": "Fed cut odds, 1-day change",
    "nasdaq_implied_move": "Nasdaq move x BTC beta",
    "etf_flow_5d": "ETF flows, 5-day average",
    "etf_flow_mtd": "ETF flows, month to date",
    "etf_outflow_easing": "ETF outflows easing",
    "premium_level": "Coinbase premium",
    "premium_streak": "Coinbase premium streak",
    "open_interest_7d": "Open interest, 7-day change",
    "funding": "Funding rate",
    "liquidation_flush": "Long share of 7-day liquidations",
    "exchange_netflow_7d": "Exchange net flow, 7 days",
    "exchange_reserve_30d": "Exchange reserves, 30-day change",
    "price_vs_swing_high": "Price vs prior swing high",
    "price_vs_ma50": "Price vs 50-day average",
    "price_vs_ma200": "Price vs 200-day average",
    "lower_highs": "Swing-high sequence",
    "crypto_market_cap_6w": "Total market cap, 6-week change",
}

VERDICTS = {
    "reversal": "Reversal",
    "rebound_in_downtrend": "Rebound inside a downtrend",
    "undetermined": "Undetermined",
}

EXCHANGES = {
    "okx": "OKX",
    "htx": "HTX",
    "crypto_com": "Crypto.com",
    "binance_futures": "Binance Futures",
    "bitmex": "BitMEX",
    "mexc": "MEXC",
    "kucoin": "KuCoin",
}

CATEGORIES = {
    "institutional": "Institutional venues",
    "retail": "Retail venues",
    "derivatives": "Derivatives venues",
}

# Tool name (or the assessment's label for a sub-tool call) -> the heading its warnings are grouped under.
TOOLS = {
    "get_coinbase_premium": "Coinbase premium",
    "get_etf_flows": "Spot ETF flows",
    "get_leverage_state": "Leverage",
    "exchange_reserve_trend": "Exchange reserves",
    "get_macro_backdrop": "Macro backdrop",
    "assess_rebound_vs_reversal": "Assessment",
}

INDICES = {"DJIA": "Dow", "SP500": "S&P 500", "NASDAQCOM": "Nasdaq"}


def humanize(name: str) -> str:
    """A readable fallback for a name no table knows: 'some_new_signal' -> 'Some new signal'."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def signal(name: str) -> str:
    return SIGNALS.get(name) or humanize(name)


def exchange(name: str) -> str:
    return EXCHANGES.get(name) or humanize(name).title()


def category(name: str) -> str:
    return CATEGORIES.get(name) or humanize(name)


def verdict(name: str) -> str:
    return VERDICTS.get(name) or humanize(name)


def tool(name: str) -> str:
    return TOOLS.get(name) or humanize(name)


SOURCES = {
    "fred": "FRED",
    "fred_api": "FRED API",
    "yahoo": "Yahoo Finance",
    "kalshi": "Kalshi",
    "polymarket": "Polymarket",
    "polymarket_clob": "Polymarket price history",
    "farside": "Farside",
    "sosovalue": "SoSoValue",
    "coinglass": "CoinGlass",
    "defillama": "DefiLlama",
    "cryptoquant": "CryptoQuant",
    "coinbase": "Coinbase",
    "binance": "Binance",
    "binance_futures": "Binance Futures",
    "bybit": "Bybit",
    "okx": "OKX",
    "kraken": "Kraken",
    "bitstamp": "Bitstamp",
    "alternative_me": "alternative.me",
    "coingecko": "CoinGecko",
    "coinpaprika": "CoinPaprika",
    "mempool": "mempool.space",
    "blockstream": "blockstream.info",
    "store": "windvane's history store",
}


def source(name: str | None) -> str:
    if not name:
        return ""
    return SOURCES.get(name) or humanize(name)
