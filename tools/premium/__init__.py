"""get_coinbase_premium: Coinbase <ASSET>-USD against the global <ASSET>USDT reference."""
