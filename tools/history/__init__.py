"""The history layer, between the tools and {fetchers, store}: what windvane has stored, read as it was known.

candle_store (closed candles read through the store, only gaps fetched), backfill (resumable candle backfill),
csv_import (public CSV archives into the store), at_or_before (the value of a now-only series in force at an
instant), etf_store (completed ETF days). Fetchers never touch the store; tools reach it through here.
"""
