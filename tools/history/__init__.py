"""The history layer, between the tools and {fetchers, store}: what windvane has stored, read as it was known.

candle_store (closed candles read through the store, only gaps fetched), backfill (resumable candle backfill),
csv_import (public CSV archives into the store; import_detect says what a file is, import_guard compares it with
what is stored), at_or_before (the value of a now-only series in force at an instant), etf_store (completed ETF
days), degraded (the store as tools see it: a failure costs what only it provides, said once per call). Fetchers
never touch the store; tools reach it through here.
"""
