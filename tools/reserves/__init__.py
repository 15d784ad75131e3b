"""exchange_reserve_trend: BTC held on exchanges, per exchange, over weeks and months."""
