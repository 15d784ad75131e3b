"""`windvane backtest`: the scoring replayed day by day with no look-ahead (a CLI feature, not a tool)."""
