"""get_macro_backdrop: equity indices, Fed cut odds, BTC-Nasdaq beta, drawdowns, halving and Fear & Greed."""
